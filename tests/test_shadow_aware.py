"""Shadow-aware closed-form photometric stereo: exact where >= 3 lights are lit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lambertian.core.errors import InputError
from lambertian.core.metrics import angular_error_deg
from lambertian.core.shading import render_lambertian
from lambertian.core.sphere import sphere_normals
from lambertian.ps.least_squares import least_squares
from lambertian.ps.shadow_aware import shadow_aware, solve_lit


def _scene(k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n, mask = sphere_normals((40, 40), (19.5, 19.5), 18.0)
    L = rng.normal(size=(k, 3))
    L[:, 2] = np.abs(L[:, 2]) + 0.2
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    albedo = np.stack([0.2 + 0.6 * rng.uniform(size=(40, 40)) for _ in range(3)], -1)
    img = render_lambertian(n, albedo, L).numpy()  # (K, H, W, 3), attached shadows
    return img, L, n, mask, albedo


@pytest.mark.parametrize("k", [4, 6, 12])
def test_exact_where_three_lit(k):
    img, L, n, mask, albedo = _scene(k)
    res = shadow_aware(img, L, mask)
    lit3 = mask & ((np.einsum("hwc,kc->hwk", n, L) > 0).sum(-1) >= 3)
    assert lit3.sum() > 200
    err = angular_error_deg(res.normals[lit3], n[lit3])
    assert err.max() < 1e-3
    np.testing.assert_allclose(res.albedo[lit3], albedo[lit3], atol=1e-5)
    # the inliers are exactly the lit observations there
    assert np.array_equal(res.inliers[lit3], np.einsum("hwc,kc->hwk", n, L)[lit3] > 0)
    # and plain least squares is biased by the shadows on the same pixels
    ls = least_squares(img, L, mask)
    assert angular_error_deg(ls.normals[lit3], n[lit3]).mean() > 1.0


def test_two_lit_arc_is_feasible():
    # Two lit lights: the normal must reproduce both observations and keep the unlit
    # lights unlit and n_z >= 0 (the feasible arc's midpoint).
    L = torch.tensor([[0.0, 0.0, 1.0], [0.8, 0.0, 0.6], [-0.8, 0.0, 0.6], [0.0, -0.9, 0.43]],
                     dtype=torch.float64)
    L = torch.nn.functional.normalize(L, dim=1)
    n_true = torch.nn.functional.normalize(torch.tensor([[0.5, 0.6, 0.3]],
                                                        dtype=torch.float64), dim=1)
    shade = (n_true @ L.T).clamp_min(0)
    assert int((shade > 0).sum()) == 2
    obs = (0.7 * shade)[..., None].expand(1, 4, 3).clone()
    n, a = solve_lit(obs, L, shade > 0)
    pred = (n @ L.T)[0]
    lit = (shade > 0)[0]
    np.testing.assert_allclose((a[0, 0] * pred[lit]).numpy(), obs[0, lit, 0].numpy(),
                               rtol=1e-6)
    assert bool((pred[~lit] <= 1e-9).all()) and float(n[0, 2]) >= 0


def test_bad_input_is_one_line():
    img, L, n, mask, _ = _scene(4)
    with pytest.raises(InputError, match="3 lights for 4 images"):
        shadow_aware(img, L[:3], mask)
    with pytest.raises(InputError, match="mask is"):
        shadow_aware(img, L, mask[:10])
    bad = img.copy()
    bad[1, 0, 0, 0] = np.nan
    with pytest.raises(InputError, match="image 1"):
        shadow_aware(bad, L, mask)


def _sphere_pixels(seed: int, noise: float, k: int = 6, n_spheres: int = 6):
    from lambertian.learn.dln_spheres import masked_pixels
    from lambertian.synth.spheres import make_spheres

    d = make_spheres(n_spheres, k, 24, seed=seed, noise=noise)
    obs, lights = masked_pixels(d)
    s, p, _, _ = obs.shape
    gt = torch.from_numpy(np.broadcast_to(d.normals[d.mask], (s, p, 3)).copy()).double()
    return d, obs.double(), lights.double(), gt


def test_maximum_likelihood_lit_set_under_noise():
    from lambertian.ps.shadow_aware import chi_square, solve_shadow_aware

    d, obs, lights, gt = _sphere_pixels(7, 0.05)
    s, p, k, _ = obs.shape
    o = obs.reshape(-1, k, 3)
    L = lights[:, None].expand(s, p, k, 3).reshape(-1, k, 3)
    n, a, lit = solve_shadow_aware(o, L, sigma=0.05)
    # every lit set is tried: no pixel's fit is worse than the true lit set's fit,
    # unless that fit turns the normal away from the camera (not admitted)
    true_lit = torch.einsum("pi,pki->pk", gt.reshape(-1, 3), L) > 0
    n0, a0 = solve_lit(o, L, true_lit, 0.05)
    chi, chi0 = chi_square(o, L, n, a, 0.05), chi_square(o, L, n0, a0, 0.05)
    visible = n0[:, 2] >= 0
    assert visible.float().mean() > 0.97
    assert bool((chi <= chi0 * (1 + 1e-9) + 1e-9)[visible].all())
    assert bool((n[:, 2] >= -1e-6).all())
    assert torch.equal(lit, torch.einsum("pi,pki->pk", n, L) > 0)
    # and it beats both the true lit set's fit and plain least squares on the normals
    g = gt.reshape(-1, 3).numpy()
    err = angular_error_deg(n.numpy(), g).mean()
    assert err < angular_error_deg(n0.numpy(), g).mean()
    ls = torch.linalg.lstsq(L, o.mean(-1, keepdim=True)).solution[..., 0]
    assert err < 0.8 * angular_error_deg(torch.nn.functional.normalize(ls, dim=1).numpy(),
                                         g).mean()


def test_joint_colour_fit_is_least_squares_for_one_channel():
    # One channel: the rank-1 fit is Woodham's least squares on the lit set.
    rng = np.random.default_rng(3)
    L = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(50, 5, 3))), dim=-1)
    obs = torch.from_numpy(rng.uniform(0.1, 1.0, size=(50, 5, 1)))
    lit = torch.ones(50, 5, dtype=torch.bool)
    n, a = solve_lit(obs, L, lit)
    g = torch.linalg.lstsq(L, obs).solution[..., 0]
    sign = torch.sign((g * n).sum(1, keepdim=True))
    torch.testing.assert_close(n, sign * torch.nn.functional.normalize(g, dim=1))
    torch.testing.assert_close(a[:, 0], sign[:, 0] * g.norm(dim=1))


def test_shared_albedo_variant_recovers_sphere_albedo():
    from lambertian.ps.shadow_aware import shadow_aware_shared_albedo, solve_shadow_aware

    d, obs, lights, gt = _sphere_pixels(11, 0.0, n_spheres=3)
    n, albedo = shadow_aware_shared_albedo(obs, lights)
    np.testing.assert_allclose(albedo.numpy(), d.albedo, atol=1e-4)
    err = angular_error_deg(n.reshape(-1, 3).numpy(), gt.reshape(-1, 3).numpy())
    s, p, k, _ = obs.shape
    L = lights[:, None].expand(s, p, k, 3).reshape(-1, k, 3)
    n1, _, _ = solve_shadow_aware(obs.reshape(-1, k, 3), L)
    err1 = angular_error_deg(n1.numpy(), gt.reshape(-1, 3).numpy())
    # known albedo fixes the two-lit pixels (up to a mirror pair the unlit lights resolve)
    assert err.mean() < 0.6 * err1.mean() and err1.mean() > 0.1
