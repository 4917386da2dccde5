"""The default solver: robust, or the learned solver where robust's own check finds broad
specular reflectance (lambertian.ps.auto)."""

from __future__ import annotations

import numpy as np

from lambertian.core.metrics import angular_error_deg
from lambertian.ps import DEFAULT_METHOD, auto, least_squares, robust
from lambertian.scale.stream import stream_ps
from lambertian.synth.capture import make_capture, write_capture
from tests.test_robust import _metal_sphere


def test_a_metal_is_solved_by_the_network_where_robust_falls_back_to_least_squares():
    img, L, mask, n = _metal_sphere(alpha=0.3, diffuse=0.0)
    res = auto(img, L, mask)
    assert DEFAULT_METHOD == "auto"
    assert res.info["method"] == "auto" and res.info["solver"] == "net"
    assert res.info["broad_specular"] is True
    err = angular_error_deg(res.normals[mask], n[mask]).mean()
    fallback = angular_error_deg(least_squares(img, L, mask).normals[mask], n[mask]).mean()
    # measured: the network 4.8 deg, robust's least-squares fallback 22.7 deg
    assert err < 7.0 and fallback > 3 * err, (err, fallback)


def test_with_too_few_lights_for_the_network_robust_answers():
    img, L, mask, _ = _metal_sphere(alpha=0.3, diffuse=0.0)
    res = auto(img[:5], L[:5], mask)
    assert res.info["solver"] == "robust"
    np.testing.assert_array_equal(res.normals, robust(img[:5], L[:5], mask).normals)


def test_elsewhere_the_answer_is_robust_s_own_also_when_streamed(tmp_path):
    synth = make_capture(size=40, num_lights=16, seed=5)
    synth.images[[2, 7]] = np.clip(synth.images[[2, 7]] * 1.3, 0, 1)  # "damaged" images
    folder = write_capture(tmp_path / "cap", synth)
    from lambertian.io import read_capture

    cap = read_capture(folder)
    img = cap.normalized_images()
    res = auto(img, cap.lights, cap.mask)
    ref = robust(img, cap.lights, cap.mask)
    assert res.info["solver"] == "robust" and res.info["broad_specular"] is False
    np.testing.assert_array_equal(res.normals, ref.normals)
    np.testing.assert_array_equal(res.albedo, ref.albedo)
    info = stream_ps([folder / f for f in cap.files], cap.lights, cap.intensities, cap.mask,
                     tmp_path / "out", method="auto", band_bytes=16 * 40 * 3 * 4 * 10)
    assert info["solver"] == "robust"
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "normals.npy"), ref.normals)
