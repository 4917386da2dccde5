"""Deep Lambertian Network on faces: the learned prior and single-image inference."""

from __future__ import annotations

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg, normal_error_stats
from lambertian.learn.dln_faces import fit_prior, infer_face, relight, relight_figure

SIZE = (24, 20)


def _bump_faces(n: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Synthetic 'faces': ellipsoid caps of random widths and tilts, smooth albedo."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:SIZE[0], 0:SIZE[1]].astype(float)
    y = -(rows - (SIZE[0] - 1) / 2) / SIZE[0]
    x = (cols - (SIZE[1] - 1) / 2) / SIZE[1]
    albedos, normals = [], []
    for _ in range(n):
        a, b = rng.uniform(0.7, 1.1, 2)
        t = rng.uniform(-0.3, 0.3)
        nx, ny = (x - 0.1 * t) / a, y / b
        nz = np.sqrt(np.clip(1.2 - nx ** 2 - ny ** 2, 0.05, None))
        nn = np.stack([nx, ny, nz], -1)
        normals.append(nn / np.linalg.norm(nn, axis=-1, keepdims=True))
        albedos.append(0.6 + 0.2 * rng.uniform() + 0.1 * np.cos(3 * x + rng.uniform()))
    return albedos, normals


def test_prior_mean_and_mirror():
    al, nr = _bump_faces(6, 0)
    prior = fit_prior(al, nr, SIZE)
    assert prior.basis.shape[1] == 3 * SIZE[0] * SIZE[1]
    assert torch.allclose(prior.basis @ prior.basis.T, torch.eye(len(prior.var)), atol=1e-4)
    # mirrored copies are in the set: the mean normal map is left-right antisymmetric in n_x
    albedo, n = prior.surface(torch.zeros(len(prior.var)), torch.zeros(3, *SIZE))
    assert torch.allclose(n[..., 0], -n.flip(1)[..., 0], atol=1e-5)
    assert torch.allclose(n.norm(dim=-1), torch.ones(SIZE), atol=1e-5)


def test_single_image_inference_recovers_normals_and_light():
    al, nr = _bump_faces(12, 1)
    prior = fit_prior(al, nr, SIZE)
    test_a, test_n = _bump_faces(1, 99)
    light = np.array([0.4, 0.3, 0.866])
    light /= np.linalg.norm(light)
    img = relight(test_a[0], test_n[0], light[None])[0] + 0.05 * test_a[0]
    start = np.array([0.0, 0.0, 1.0])
    inf = infer_face(img, prior, start, steps=300)
    mask = np.ones(SIZE, bool)
    mean_face = prior.surface(torch.zeros(len(prior.var)), torch.zeros(3, *SIZE))[1].numpy()
    err = normal_error_stats(inf.normals, test_n[0], mask)["mean"]
    err_mean_face = normal_error_stats(mean_face, test_n[0], mask)["mean"]
    assert err < 6.0 and err < err_mean_face
    assert float(angular_error_deg(inf.light, light)) < 8.0


def test_relight_figure(tmp_path):
    al, nr = _bump_faces(4, 2)
    prior = fit_prior(al, nr, SIZE)
    img = relight(al[0], nr[0], np.array([[0.0, 0.0, 1.0]]))[0]
    inf = infer_face(img, prior, np.array([0.0, 0.0, 1.0]), steps=20)
    lights = np.array([[0.5, 0.0, 0.866], [-0.5, 0.0, 0.866], [0.0, 0.5, 0.866]])
    out = relight_figure(tmp_path / "relit.png", img, inf, lights)
    assert out.stat().st_size > 1000
    r = relight(inf.albedo, inf.normals, lights)
    assert r.shape == (3, *SIZE) and (r >= 0).all()


def test_fixed_light_inference_keeps_the_light_and_fits_the_face():
    al, nr = _bump_faces(12, 1)
    prior = fit_prior(al, nr, SIZE)
    test_a, test_n = _bump_faces(1, 99)
    light = np.array([0.4, 0.3, 0.866])
    light /= np.linalg.norm(light)
    img = relight(test_a[0], test_n[0], light[None])[0]
    inf = infer_face(img, prior, light, steps=300, fit_light=False)
    assert np.allclose(inf.light, light, atol=1e-6)
    # the light stays exactly where it was given, and the face is still explained
    assert normal_error_stats(inf.normals, test_n[0], np.ones(SIZE, bool))["mean"] < 3.0
    relit = relight(inf.albedo, inf.normals, light[None])[0]
    assert np.corrcoef(relit.ravel(), img.ravel())[0, 1] > 0.99  # up to the light's scale
