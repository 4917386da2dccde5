"""Tests of the robust calibrated photometric-stereo solver (lambertian.ps.robust)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lambertian.core.errors import InputError
from lambertian.core.metrics import angular_error_deg, normal_error_stats
from lambertian.ps.least_squares import least_squares
from lambertian.ps.robust import robust
from tests.conftest import need_data


def sphere(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) unit normals of a sphere filling the image (project frame), and its mask."""
    c = (np.arange(size) + 0.5) / size * 2 - 1
    x, y = np.meshgrid(c, -c)
    r2 = x**2 + y**2
    mask = r2 < 0.95
    n = np.stack([x, y, np.sqrt(np.clip(1 - r2, 0, None))], axis=-1)
    n[~mask] = 0
    return n, mask


def random_lights(rng: np.random.Generator, k: int, min_z: float = 0.15) -> np.ndarray:
    out = []
    while len(out) < k:
        v = rng.normal(size=3)
        v /= np.linalg.norm(v)
        if v[2] > min_z:
            out.append(v)
    return np.asarray(out)


def render(n: np.ndarray, albedo: np.ndarray, lights: np.ndarray) -> np.ndarray:
    """(K, H, W, C) images albedo * max(0, n . l), attached shadows only."""
    shade = np.clip(np.einsum("hwi,ki->khw", n, lights), 0, None)
    return shade[..., None] * albedo[None]


def well_posed(n: np.ndarray, lights: np.ndarray) -> np.ndarray:
    """(...,) bool: at least 3 lit lights spanning 3D."""
    lit = np.einsum("...i,ki->...k", n, lights) > 0
    A = np.einsum("...k,ki,kj->...ij", lit.astype(float), lights, lights)
    ev = np.linalg.eigvalsh(A)
    return (lit.sum(-1) >= 3) & (ev[..., 0] > 1e-3 * ev[..., 2])


@pytest.mark.parametrize("channels", [1, 3])
def test_exact_on_noise_free_sphere(channels):
    rng = np.random.default_rng(0)
    n, mask = sphere(64)
    lights = random_lights(rng, 6)
    albedo = np.full((64, 64, channels), 0.7) * (np.array([0.9, 0.5, 0.2])[:channels])
    imgs = render(n, albedo, lights).astype(np.float32)
    res = robust(imgs, lights, mask)
    ok = mask & well_posed(n, lights)
    assert ok.sum() > 0.5 * mask.sum()
    err = angular_error_deg(res.normals[ok], n[ok])
    assert err.max() < 1e-4
    assert np.all(res.normals[~mask] == 0)
    np.testing.assert_allclose(res.albedo[ok], albedo[ok], rtol=1e-4)
    # Inliers are exactly the lit observations.
    lit = np.einsum("hwi,ki->hwk", n, lights) > 1e-6
    assert np.array_equal(res.inliers[ok] & lit[ok], res.inliers[ok])


def test_outliers_rejected_better_than_least_squares():
    rng = np.random.default_rng(1)
    n, mask = sphere(48)
    lights = random_lights(rng, 40, min_z=0.3)
    albedo = np.full((48, 48, 1), 0.6)
    imgs = render(n, albedo, lights)
    imgs += rng.normal(scale=0.002, size=imgs.shape)
    u = rng.random(imgs.shape)
    imgs[u < 0.08] += rng.uniform(0.5, 2.0, size=int((u < 0.08).sum()))  # specular spikes
    imgs[(u >= 0.08) & (u < 0.16)] = 0.0  # cast shadows
    imgs = imgs.astype(np.float32)
    e_ls = normal_error_stats(least_squares(imgs, lights, mask).normals, n, mask)["mean"]
    res = robust(imgs, lights, mask)
    e_rb = normal_error_stats(res.normals, n, mask)["mean"]
    assert e_rb < 0.5
    assert e_ls > 10 * e_rb
    # Most injected spikes are flagged as outliers.
    spikes = (u < 0.08)[..., 0].transpose(1, 2, 0)[mask]
    assert res.inliers[mask][spikes].mean() < 0.05


def test_inconsistent_images_are_dropped():
    rng = np.random.default_rng(2)
    n, mask = sphere(48)
    lights = random_lights(rng, 40, min_z=0.3)
    imgs = render(n, np.full((48, 48, 1), 0.5), lights)
    imgs[:8] *= 1.25  # damaged images: wrong exposure
    imgs = imgs.astype(np.float32)
    res = robust(imgs, lights, mask)
    assert res.info["dropped_images"]["grey"] == list(range(8))
    assert not res.inliers[..., :8].any()
    assert normal_error_stats(res.normals, n, mask)["mean"] < 1e-3


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(3, 24))
def test_property_exact_recovery(seed, k):
    rng = np.random.default_rng(seed)
    lights = random_lights(rng, k)
    normals = random_lights(rng, 16, min_z=0.05).reshape(4, 4, 3)
    ok = well_posed(normals, lights)
    assume(ok.any())
    albedo = rng.uniform(0.05, 1.0, size=(4, 4, 1))
    imgs = render(normals, albedo, lights).astype(np.float32)
    res = robust(imgs, lights)
    err = angular_error_deg(res.normals[ok], normals[ok])
    assert err.max() < 1e-2  # float32 observations; conditioning >= 1e-3
    np.testing.assert_allclose(res.albedo[ok], albedo[ok], rtol=1e-3)


def test_bad_input_is_one_line_input_error():
    n, mask = sphere(8)
    lights = random_lights(np.random.default_rng(3), 6)
    imgs = render(n, np.ones((8, 8, 1)), lights).astype(np.float32)
    with pytest.raises(InputError, match="5 lights for 6 images"):
        robust(imgs, lights[:5], mask, source="cap")
    with pytest.raises(InputError, match="mask is empty"):
        robust(imgs, lights, np.zeros((8, 8), bool))
    bad = imgs.copy()
    bad[2, 0, 0] = np.nan
    with pytest.raises(InputError, match="image 2"):
        robust(bad, lights)


def test_diligent_ball_real_data():
    from lambertian.io import read_capture

    cap = read_capture(need_data("diligent", "ball"))
    res = robust(cap.normalized_images(), cap.lights, cap.mask)
    stats = normal_error_stats(res.normals, cap.normals, cap.mask)
    assert stats["mean"] < 2.5  # least squares: 4.1; this solver measured 2.08
    assert res.inliers.shape == (*cap.mask.shape, 96)
    assert np.all(res.albedo[cap.mask] >= 0)


def _metal_sphere(alpha: float, diffuse: float):
    """A coloured metal sphere (GGX lobe, no or little diffuse) under DiLiGenT-like lights:
    broad, non-sparse specular reflectance."""
    import torch

    from lambertian.synth.reflectance import ggx_specular, lambert

    size = 48
    yy, xx = np.mgrid[0:size, 0:size]
    x, y = (xx - size / 2 + 0.5) / (size / 2), -(yy - size / 2 + 0.5) / (size / 2)
    mask = x * x + y * y < 0.9
    n = np.zeros((size, size, 3))
    n[..., 0], n[..., 1] = x, y
    n[..., 2] = np.sqrt(np.clip(1 - x * x - y * y, 0, None))
    n[~mask] = (0, 0, 1)
    rng = np.random.default_rng(4)
    L = rng.normal(size=(40, 3)) * [0.35, 0.35, 0] + [0, 0, 1]
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    nt = torch.from_numpy(n).float().reshape(-1, 1, 3)
    lt = torch.from_numpy(L).float()
    rad = ggx_specular(nt, lt, alpha, 0.9) + diffuse * lambert(nt, lt)  # (P, K)
    img = rad.T.reshape(40, size, size, 1).numpy() * np.array([0.8, 0.4, 0.2], np.float32)
    return img.astype(np.float32), L, mask, n


def test_robust_detects_broad_specular_and_is_not_worse_than_least_squares():
    img, L, mask, n = _metal_sphere(alpha=0.3, diffuse=0.0)
    res = robust(img, L, mask)
    ls = least_squares(img, L, mask)
    assert res.info["broad_specular"] is True
    assert res.info["bright_share_median"] > 0.15
    np.testing.assert_array_equal(res.normals, ls.normals)
    # a Lambertian object is not mistaken for one
    from lambertian.synth.capture import make_capture

    cap = make_capture(size=48, num_lights=20, seed=1)
    res = robust(cap.images, cap.lights, cap.mask)
    assert res.info["broad_specular"] is False
