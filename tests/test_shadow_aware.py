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
