"""Gaussian RBM prior over patches of the albedo / normal maps, and inference under it.

The Deep Lambertian Network puts a Gaussian RBM prior on its latent albedo and normal
maps and infers them from images by combining that prior with the Lambertian likelihood.
Here the GRBM models 3 x 3 patches of the 6 surface channels (RGB albedo, normal xyz),
PCA-whitened first: a GRBM's visible units have unit variance given the hidden units, so
whitening is what lets it express the strong correlation of neighbouring pixels (the
smallest principal directions are neighbour differences). It is trained by one-step
contrastive divergence on the surfaces the encoder infers for the training spheres (no
ground truth), and used at test time as the energy

    E(z) = sum_pixels,k |decode(z) - I|^2 / (2 sigma^2) + weight * sum_patches F(patch(z))

minimised over the latent maps ``z`` from the encoder's output (Adam, autograd), where
``F`` is the GRBM free energy.

References: Y. Tang, R. Salakhutdinov, G. Hinton, "Deep Lambertian Networks", ICML 2012;
G. Hinton, "Training products of experts by minimizing contrastive divergence", Neural
Computation 14(8), 2002; A. Krizhevsky, "Learning multiple layers of features from tiny
images", 2009 (GRBM on whitened patches).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lambertian.learn.dln_models import decode, latents_to_surface

PATCH = 3
WHITEN_EPS = 1e-4  # eigenvalue floor of the patch covariance (variance units)


def interior_patches(surface: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(S, H, W, C) maps -> (S * Q, C * 9) 3 x 3 patches lying wholly inside ``mask``."""
    s, h, w, c = surface.shape
    cols = F.unfold(surface.permute(0, 3, 1, 2), PATCH)  # (S, C*9, Q_all)
    inside = F.unfold(mask[None, None].to(surface.dtype), PATCH).amin(1)[0] > 0.5
    return cols[:, :, inside].permute(0, 2, 1).reshape(-1, c * PATCH * PATCH)


class GRBM:
    """Gaussian-Bernoulli RBM on PCA-whitened vectors (unit visible variance)."""

    def __init__(self, dim: int, hidden: int = 64, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.W = 0.01 * torch.randn(dim, hidden, generator=g)
        self.b = torch.zeros(dim)
        self.c = torch.zeros(hidden)
        self.mean = torch.zeros(dim)
        self.proj = torch.eye(dim)
        self.seed = seed

    def whiten(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) @ self.proj

    def fit(self, x: torch.Tensor, epochs: int = 5, batch: int = 256, lr: float = 0.01,
            max_samples: int = 50_000) -> list[float]:
        """CD-1 training on (N, D) samples; returns the reconstruction error per epoch."""
        g = torch.Generator().manual_seed(self.seed)
        x = x.detach().float()
        if x.shape[0] > max_samples:
            x = x[torch.randperm(x.shape[0], generator=g)[:max_samples]]
        self.mean = x.mean(0)
        evals, evecs = torch.linalg.eigh(torch.cov((x - self.mean).T))
        self.proj = evecs / torch.sqrt(evals.clamp_min(0) + WHITEN_EPS)
        v = self.whiten(x)
        errs = []
        for _ in range(epochs):
            perm = torch.randperm(v.shape[0], generator=g)
            err = 0.0
            for i in range(0, v.shape[0], batch):
                v0 = v[perm[i:i + batch]]
                h0 = torch.sigmoid(self.c + v0 @ self.W)
                hs = torch.bernoulli(h0, generator=g)
                v1 = self.b + hs @ self.W.T  # mean-field visible reconstruction
                h1 = torch.sigmoid(self.c + v1 @ self.W)
                n = v0.shape[0]
                self.W += lr * (v0.T @ h0 - v1.T @ h1) / n
                self.b += lr * (v0 - v1).mean(0)
                self.c += lr * (h0 - h1).mean(0)
                err += float(((v0 - v1) ** 2).sum())
            errs.append(err / v.numel())
        return errs

    def free_energy(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D) raw vectors -> (N,) free energy ``|v - b|^2 / 2 - sum softplus(c + v W)``."""
        v = self.whiten(x)
        return 0.5 * ((v - self.b) ** 2).sum(-1) - F.softplus(self.c + v @ self.W).sum(-1)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"W": self.W, "b": self.b, "c": self.c, "mean": self.mean, "proj": self.proj}


def surface_maps(z: torch.Tensor) -> torch.Tensor:
    """(S, H, W, 5) latents -> (S, H, W, 6) albedo and normal maps."""
    a, n = latents_to_surface(z)
    return torch.cat([a, n], dim=-1)


def infer_with_prior(z0: torch.Tensor, images: torch.Tensor, lights: torch.Tensor,
                     mask: torch.Tensor, prior: GRBM | None, sigma: float,
                     weight: float = 1.0, steps: int = 150, lr: float = 0.05
                     ) -> torch.Tensor:
    """MAP latents under the Lambertian likelihood and the GRBM prior (Adam, autograd).

    z0 : (S, H, W, 5) initial latents (the encoder's); images : (S, K, H, W, 3);
    lights : (S, K, 3); mask : (H, W) bool; sigma : the image noise level assumed by
    the likelihood. Returns the (S, H, W, 5) latents after ``steps`` Adam steps.
    """
    z = z0.detach().clone().requires_grad_(True)
    obs = images[:, :, mask]  # (S, K, P, 3)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        a, n = latents_to_surface(z[:, mask])
        energy = ((decode(a, n, lights) - obs) ** 2).sum() / (2 * sigma * sigma)
        if prior is not None:
            energy = energy + weight * prior.free_energy(
                interior_patches(surface_maps(z), mask)).sum()
        opt.zero_grad()
        energy.backward()
        opt.step()
    return z.detach()
