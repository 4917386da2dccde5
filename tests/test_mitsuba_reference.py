"""Our CPU renderer against Mitsuba 3 (an independent renderer) on the same mesh, camera
and light: the forward match of issue 5, and light fits on Mitsuba "photos"."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("mitsuba")

from lambertian.fit import fit_light  # noqa: E402
from lambertian.fit.light import mesh_visibility  # noqa: E402
from lambertian.render import Camera, look_at_pose, rasterize, render  # noqa: E402
from lambertian.render.shade import pixel_normals  # noqa: E402
from lambertian.synth import meshes  # noqa: E402
from lambertian.synth.mitsuba_scene import mitsuba_to_world, render_mitsuba  # noqa: E402

LIGHT = torch.tensor([0.4, 0.7, 0.5]) / torch.tensor([0.4, 0.7, 0.5]).norm()


def _camera(size: int = 64, eye=(1.0, 1.5, 4.0), f: float = 70.0) -> Camera:
    R, t = look_at_pose(list(eye), [0.0, 0.0, 0.0])
    # an off-centre principal point exercises Mitsuba's principal_point_offset
    K = torch.tensor([[f * size / 64, 0, 0.47 * size], [0, f * size / 64, 0.53 * size],
                      [0, 0, 1]])
    return Camera.create(K, R, t, size, size)


def _interior(mask: torch.Tensor, radius: int = 2) -> np.ndarray:
    """Pixels whose (2 radius + 1)^2 neighbourhood is all covered: away from edges."""
    m = mask.to(torch.float32)[None, None]
    k = 2 * radius + 1
    return (-F.max_pool2d(-m, k, stride=1, padding=radius)[0, 0] > 0.5).numpy()


def _angle(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    c = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def test_to_world_puts_the_mitsuba_camera_where_ours_is():
    cam = _camera(eye=(2.0, -1.0, 3.0))
    M = mitsuba_to_world(cam.R, cam.t)
    eye = -cam.R.T @ cam.t
    assert np.allclose(M[:3, 3], eye.numpy(), atol=1e-6)
    # Mitsuba looks along its local +z, which must be our optical axis (OpenCV +z)
    assert np.allclose(M[:3, 2], cam.R[2].numpy(), atol=1e-6)
    assert np.allclose(M[:3, 1], -cam.R[1].numpy(), atol=1e-6)  # +y up = -(OpenCV y)
    assert np.isclose(np.linalg.det(M[:3, :3]), 1.0)


@pytest.mark.parametrize("smooth", [True, False])
def test_forward_matches_mitsuba_within_one_percent(smooth):
    mesh = meshes.sphere(subdivisions=4)
    cam = _camera().crop(3, 5, 58, 54)  # a crop window too
    ours, fr = render(mesh, cam, LIGHT[None], 0.6, 0.3, smooth=smooth)
    ours = ours[..., 0].numpy()
    ref = render_mitsuba(mesh, cam, LIGHT, 0.6, 0.3, smooth=smooth, spp=16, seed=1)
    inner = _interior(fr.mask)
    assert inner.sum() > 500
    err = np.abs(ours - ref)[inner].mean() / ours.max()
    assert err < 0.01
    # silhouettes agree except on edge pixels (Mitsuba integrates partial coverage)
    edge = ~_interior(fr.mask, 1) & ~_interior(~fr.mask, 1)
    assert np.all((ref > 0.15) == fr.mask.numpy()) or np.all(
        ((ref > 0.15) == fr.mask.numpy()) | edge)
    # the light's side is lit in both (sign of Mitsuba's emitter direction)
    lit = inner & (ours > 0.7)
    assert lit.sum() > 50 and np.abs(ref[lit] - ours[lit]).mean() < 0.01


def _light_fit_on_mitsuba(mesh, cam, spp: int, seed: int, visibility: bool = False):
    photo = torch.from_numpy(render_mitsuba(mesh, cam, LIGHT, 0.6, 0.3, spp=spp, seed=seed))
    fr = rasterize(mesh, cam)
    n = pixel_normals(mesh, cam, fr, smooth=True).detach()
    use = torch.from_numpy(_interior(fr.mask))
    if not visibility:
        return fit_light(n, photo, use).light
    va, shadow = mesh_visibility(mesh, cam, fr)
    return fit_light(n, photo, use, ambient_visibility=va, shadow=shadow).light


def test_light_fit_on_a_mitsuba_photo_of_a_sphere():
    res = _light_fit_on_mitsuba(meshes.sphere(subdivisions=4), _camera(), spp=16, seed=2)
    assert _angle(res.direction, LIGHT) < 1.0
    assert res.intensity == pytest.approx(0.6, rel=0.02)
    assert res.ambient == pytest.approx(0.3, rel=0.02)


def test_light_fit_on_a_mitsuba_photo_of_a_torus_with_cast_shadows():
    """Cast shadows and sky occlusion are down-weighted by the robust loss alone."""
    res = _light_fit_on_mitsuba(meshes.torus(), _camera(size=96, eye=(1.0, 2.0, 4.0)), spp=16,
                                seed=4)
    assert _angle(res.direction, LIGHT) < 1.0
    assert res.intensity == pytest.approx(0.6, rel=0.02)
    assert res.ambient == pytest.approx(0.3, rel=0.02)


def test_light_fit_on_a_mitsuba_photo_of_a_car_models_shadows_and_occlusion():
    """On the car, occlusion of the sky darkens a quarter of the pixels a little: robust
    weights alone leave the ambient low; shadow maps of the known mesh fix it."""
    mesh = meshes.car(subdivisions=2)
    cam = _camera(size=160, eye=(3.0, 2.5, 7.0), f=70.0)
    res = _light_fit_on_mitsuba(mesh, cam, spp=16, seed=3, visibility=True)
    assert _angle(res.direction, LIGHT) < 1.0
    assert res.intensity == pytest.approx(0.6, rel=0.02)
    assert res.ambient == pytest.approx(0.3, rel=0.02)
