"""Photometric-stereo captures rendered by Mitsuba 3 (an independent renderer): frames,
ground truth and the camera model, checked against physics on small renders."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mitsuba")

from lambertian.core.metrics import angular_error_deg  # noqa: E402
from lambertian.ps import least_squares, robust  # noqa: E402
from lambertian.synth import meshes  # noqa: E402
from lambertian.synth.mitsuba_ps_capture import (  # noqa: E402
    MATERIALS,
    expose,
    render_ps_capture,
)

# 12 lights within 35 degrees of the view: no attached shadow on most of a sphere
_A = np.radians(np.arange(12) * 30.0)
LIGHTS = np.stack([0.5 * np.cos(_A) * (1 + (np.arange(12) % 2)) / 2,
                   0.5 * np.sin(_A) * (1 + (np.arange(12) % 2)) / 2, np.ones(12)], 1)


def test_diffuse_sphere_frames_and_normals():
    cap = render_ps_capture(meshes.sphere(subdivisions=4), MATERIALS["diffuse"], LIGHTS,
                            size=48, spp=16)
    m = cap.mask
    # a disc of radius 24 / 1.15 pixels (1368), less its rim
    assert 1150 < m.sum() < 1368
    # the ground truth is the project frame: up and right at the top-right of the disc
    n = cap.normals
    assert n[12, 36, 0] > 0.3 and n[12, 36, 1] > 0.3
    assert np.allclose(np.linalg.norm(n[m], axis=1), 1.0, atol=1e-4)
    # a sphere's normal at pixel (r, c) is its offset from the centre over the radius
    r, c = np.nonzero(m)
    radius = 48 / 2 / 1.15
    xy = np.stack([(c + 0.5 - 24) / radius, (24 - r - 0.5) / radius], 1)
    assert np.abs(n[m][:, :2] - xy).max() < 0.06
    # Lambertian shading under the unit-irradiance lights: least squares recovers it
    res = least_squares(cap.images, cap.lights, m)
    inner = m & (n[..., 2] > 0.6)
    assert angular_error_deg(res.normals[inner], n[inner]).mean() < 1.0
    assert np.allclose(np.median(res.albedo[inner], axis=0), [0.65, 0.45, 0.30], rtol=0.03)


def test_glossy_sphere_has_highlights_that_robust_rejects():
    cap = render_ps_capture(meshes.sphere(subdivisions=4), MATERIALS["plastic, GGX 0.05"],
                            LIGHTS, size=48, spp=16)
    m = cap.mask & (cap.normals[..., 2] > 0.6)
    img = cap.images[:, m].mean(-1)
    assert img.max() > 5 * np.median(img)  # sharp highlights over the diffuse colour
    ls = angular_error_deg(least_squares(cap.images, cap.lights, cap.mask).normals[m],
                           cap.normals[m]).mean()
    rb = angular_error_deg(robust(cap.images, cap.lights, cap.mask).normals[m],
                           cap.normals[m]).mean()
    assert rb < 0.5 * ls and rb < 3.0  # 12 lights: a few highlights per pixel to trim


def test_expose_scales_clips_and_quantises():
    img = np.linspace(0.0, 4.0, 3 * 3 * 3, dtype=np.float32).reshape(3, 3, 3, 1)
    mask = np.ones((3, 3), bool)
    out = expose(img, mask, level=0.5, bits=8, percentile=50.0)
    assert out.max() == 1.0 and out.min() == 0.0
    assert np.array_equal(np.round(out * 255), np.round(out * 255).astype(int))
    mid = float(np.percentile(img, 50))
    k = np.argmin(np.abs(img.ravel() - mid))
    assert abs(out.ravel()[k] - 0.5) <= 1 / 255
