"""The Lambertian image-formation model: values, shapes, gradients."""

import numpy as np
import torch

from lambertian.core.shading import lambertian_shading, render_lambertian


def test_values_match_the_formula_with_ambient_and_attached_shadow():
    n = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    lights = np.array([[0.0, 0.6, 0.8], [-1.0, 0.0, 0.0]])
    out = render_lambertian(n, np.array([0.5, 0.25]), lights, [2.0, 3.0], ambient=0.1)
    assert out.shape == (2, 2, 1)
    expected = np.array([[0.5 * (0.1 + 2 * 0.8), 0.25 * (0.1 + 0.0)],
                         [0.5 * (0.1 + 0.0), 0.25 * (0.1 + 0.0)]])
    np.testing.assert_allclose(out[..., 0].numpy(), expected, atol=1e-12)


def test_colour_albedo_and_per_channel_intensities_broadcast():
    rng = np.random.default_rng(0)
    n = rng.normal(size=(4, 5, 3))
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    rho = rng.uniform(size=(4, 5, 3))
    lights = rng.normal(size=(6, 3))
    lights /= np.linalg.norm(lights, axis=1, keepdims=True)
    e = rng.uniform(0.5, 2, size=(6, 3))
    out = render_lambertian(n, rho, lights, e).numpy()
    assert out.shape == (6, 4, 5, 3)
    shading = np.maximum(0, np.einsum("hwc,kc->khw", n, lights))[..., None]
    ref = rho[None] * e[:, None, None, :] * shading
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    n = torch.nn.functional.normalize(torch.randn(3, 3, dtype=torch.float64), dim=-1)
    n.requires_grad_(True)
    lights = torch.nn.functional.normalize(torch.randn(4, 3, dtype=torch.float64), dim=-1)
    lights.requires_grad_(True)
    rho = torch.rand(3, dtype=torch.float64, requires_grad=True)
    amb = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda n, l, r, a: render_lambertian(n, r, l, 1.5, a), (n, lights, rho, amb))


def test_shading_is_clamped_cosine():
    s = lambertian_shading(torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.0, 0.0, -1.0],
                                                                         [0.0, 0.0, 1.0]]))
    assert s.tolist() == [[0.0], [1.0]]
