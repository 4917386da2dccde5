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

import math

import torch
import torch.nn.functional as F

from lambertian.learn.dln_models import HEMISPHERE_SHRINK, decode, latents_to_surface
from lambertian.learn.plain_optim import Adam

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
        # one centred copy serves the covariance and the whitening (torch.cov would make
        # its own: an (N, D) copy more at the run's memory peak)
        xc = x - self.mean
        del x
        cov = xc.T @ xc / max(1, xc.shape[0] - 1)
        evals, evecs = torch.linalg.eigh(cov)
        self.proj = evecs / torch.sqrt(evals.clamp_min(0) + WHITEN_EPS)
        v = xc @ self.proj
        del xc  # the samples live on whitened only (memory)
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


def _bounding_box(mask: torch.Tensor) -> tuple[slice, slice]:
    rows = torch.nonzero(mask.any(1))[:, 0]
    cols = torch.nonzero(mask.any(0))[:, 0]
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


class PatchEnergy:
    """:meth:`GRBM.free_energy` summed over the interior 3 x 3 patches of latent maps.

    The same quantity as ``prior.free_energy(interior_patches(surface_maps(z), mask))
    .sum()``, computed as one 3 x 3 convolution: the whitening and the hidden units'
    input are linear in the patch, so ``[proj | proj W]`` becomes a (D + H, C, 3, 3)
    kernel and no (N, C * 9) patch matrix is built (``unfold`` and its backward were
    half of the inference time).
    """

    def __init__(self, prior: GRBM, mask: torch.Tensor) -> None:
        d = prior.proj.shape[0]
        c = d // (PATCH * PATCH)
        A = torch.cat([prior.proj, prior.proj @ prior.W], dim=1)  # (D, D + H)
        # unfold orders a patch channel-major: index = channel * 9 + row * 3 + column
        self.kernel = A.T.reshape(-1, c, PATCH, PATCH).contiguous()
        a0 = prior.mean @ prior.proj
        self.v_offset = a0 + prior.b  # v - b = x proj - (mean proj + b)
        self.h_offset = prior.c - a0 @ prior.W
        self.d = d
        inside = F.unfold(mask[None, None].to(A.dtype), PATCH).amin(1)[0] > 0.5
        # a 0/1 weight per patch position (cheaper than gathering the inside positions)
        self.inside = inside.to(A.dtype).reshape(mask.shape[0] - PATCH + 1, -1)

    def __call__(self, maps: torch.Tensor) -> torch.Tensor:
        """(S, C, H, W) surface maps (channels first, H x W = the mask's shape) -> energy."""
        y = F.conv2d(maps, self.kernel)  # (S, D + H, H - 2, W - 2)
        v = y[:, :self.d] - self.v_offset[:, None, None]
        h = y[:, self.d:] + self.h_offset[:, None, None]
        per_patch = 0.5 * (v * v).sum(1) - F.softplus(h).sum(1)
        return (per_patch * self.inside).sum()


def infer_with_prior(z0: torch.Tensor, images: torch.Tensor, lights: torch.Tensor,
                     mask: torch.Tensor, prior: GRBM | None, sigma: float,
                     weight: float = 1.0, steps: int = 150, lr: float = 0.05,
                     lr_final: float = 1.0, betas: tuple[float, float] = (0.9, 0.999),
                     chunk: int = 16) -> torch.Tensor:
    """MAP latents under the Lambertian likelihood and the GRBM prior (Adam, autograd).

    z0 : (S, H, W, 5) initial latents (the encoder's); images : (S, K, H, W, 3);
    lights : (S, K, 3); mask : (H, W) bool; sigma : the image noise level assumed by
    the likelihood. Returns the (S, H, W, 5) latents after ``steps`` Adam steps, the
    learning rate decaying from ``lr`` to ``lr * lr_final`` on a half cosine (1: constant).

    Only the mask's bounding box is optimised: no term reaches outside it (the
    likelihood counts the mask's pixels, the prior the patches wholly inside the mask),
    so the latents there have zero gradient and Adam leaves them as they are. The
    spheres are independent (each term is one sphere's, and Adam's update is per
    coordinate), so they are optimised ``chunk`` at a time: the same result in a
    bounded memory.
    """
    rows, cols = _bounding_box(mask)
    m = mask[rows, cols]
    energy_of = PatchEnergy(prior, m) if prior is not None else None
    out = z0.detach().clone()
    for i in range(0, z0.shape[0], chunk):
        sl = slice(i, i + chunk)
        out[sl, rows, cols] = _map_chunk(z0[sl, rows, cols], images[sl, :, rows, cols],
                                         lights[sl], m, energy_of, sigma, weight, steps,
                                         lr, lr_final, betas)
    return out


def _map_chunk(z0, images, lights, m, energy_of, sigma, weight, steps, lr, lr_final, betas):
    z = z0.detach().clone().requires_grad_(True)
    obs = images * m[:, :, None]  # (S, K, h, w, 3)
    weight_px = m.to(obs.dtype)[:, :, None] / (2 * sigma * sigma)
    opt = Adam([z], lr=lr, betas=betas)
    for step in range(steps):
        opt.param_groups[0]["lr"] = lr * (lr_final + (1.0 - lr_final) * 0.5 * (
            1.0 + math.cos(math.pi * step / steps)))
        a, n = latents_to_surface(z)  # (S, h, w, 3) each
        r = decode(a, n, lights) - obs  # (S, K, h, w, 3); outside the mask weighted 0
        energy = (r * r * weight_px).sum()
        if energy_of is not None:
            energy = energy + weight * energy_of(torch.cat([a, n], dim=-1).permute(0, 3, 1, 2))
        opt.zero_grad()
        energy.backward()
        opt.step()
    return z.detach()


def refine_likelihood(z: torch.Tensor, obs: torch.Tensor, lights: torch.Tensor,
                      iterations: int = 20, damping: float = 1e-3) -> torch.Tensor:
    """Per-pixel Levenberg-Marquardt on the Lambertian likelihood alone.

    z : (S, P, 5) latents of the P observed pixels; obs : (S, P, K, 3) their images;
    lights : (S, K, 3). Minimises ``sum_kc (albedo_c max(0, n . l_k) - obs_kc)^2`` for
    every pixel independently over its 5 latents (the parametrisation of
    :func:`~lambertian.learn.dln_models.latents_to_surface`), from ``z``: Gauss-Newton
    steps with Marquardt's damping ``lambda diag(J^T J)``, one ``lambda`` per pixel
    (divided by 3 after a step that lowers the pixel's misfit, multiplied by 10 and the
    step refused otherwise). The normal equations are solved in closed form: the albedo
    block of ``J^T J`` is diagonal, so the 2 x 2 Schur complement of the normal block is
    all that is inverted. A few iterations reach the per-pixel optimum that hundreds of
    first-order steps approach; returns the refined (S, P, 5) latents.

    Reference: D. W. Marquardt, "An algorithm for least-squares estimation of nonlinear
    parameters", J. SIAM 11(2), 1963.
    """
    L = lights[:, None]  # (S, 1, K, 3)

    def misfit(z):
        a = torch.sigmoid(z[..., :3])
        t = torch.tanh(z[..., 3:])
        nxy = HEMISPHERE_SHRINK * t
        q = 1.0 - (nxy * nxy).sum(-1, keepdim=True)
        nz = torch.sqrt(q.clamp_min(1e-6))
        shade = (L[..., :2] * nxy[..., None, :]).sum(-1) + L[..., 2] * nz  # (S, P, K)
        lit = shade.clamp_min(0.0)
        r = a[..., None, :] * lit[..., None] - obs  # (S, P, K, 3)
        return (r * r).sum((-1, -2)), (a, t, nxy, q, nz, shade, lit, r)

    lam = torch.full(z.shape[:-1], damping, dtype=z.dtype)
    cost, parts = misfit(z)
    eps = 1e-12
    for _ in range(iterations):
        a, t, nxy, q, nz, shade, lit, r = parts
        da = a * (1.0 - a)  # d albedo / d logit
        dnz = torch.where(q > 1e-6, -nxy / nz, torch.zeros_like(nxy))  # d n_z / d n_xy
        # d shade_k / d z_j for the two normal latents: (S, P, K, 2), zero where unlit
        g = ((L[..., :2] + L[..., 2:] * dnz[..., None, :])
             * (HEMISPHERE_SHRINK * (1.0 - t * t))[..., None, :]) * (shade > 0)[..., None]
        A = da * da * (lit * lit).sum(-1, keepdim=True)  # (S, P, 3) diagonal block
        G1 = (lit[..., None] * g).sum(-2)  # (S, P, 2)
        B = (da * a)[..., :, None] * G1[..., None, :]  # (S, P, 3, 2)
        C = (a * a).sum(-1)[..., None, None] * (g[..., :, None] * g[..., None, :]).sum(-3)
        ga = da * (lit[..., None] * r).sum(-2)  # (S, P, 3)
        gn = (g * (r * a[..., None, :]).sum(-1)[..., None]).sum(-2)  # (S, P, 2)
        Ad = A * (1.0 + lam[..., None]) + eps
        Cd = C + torch.diag_embed(lam[..., None] * C.diagonal(dim1=-2, dim2=-1) + eps)
        # the Schur complement of the albedo block, (S, P, 2, 2)
        Sm = Cd - (B[..., :, None] * B[..., None, :] / Ad[..., None, None]).sum(-3)
        rhs = -gn + (B * (ga / Ad)[..., None]).sum(-2)
        det = Sm[..., 0, 0] * Sm[..., 1, 1] - Sm[..., 0, 1] * Sm[..., 1, 0]
        det = torch.where(det.abs() > eps, det, torch.full_like(det, eps))
        dn = torch.stack([Sm[..., 1, 1] * rhs[..., 0] - Sm[..., 0, 1] * rhs[..., 1],
                          Sm[..., 0, 0] * rhs[..., 1] - Sm[..., 1, 0] * rhs[..., 0]], -1)
        dn = dn / det[..., None]
        dz = torch.cat([(-ga - (B * dn[..., None, :]).sum(-1)) / Ad, dn], dim=-1)
        z_new = z + dz
        cost_new, parts_new = misfit(z_new)
        ok = cost_new < cost
        z = torch.where(ok[..., None], z_new, z)
        cost = torch.where(ok, cost_new, cost)
        parts = tuple(torch.where(ok.reshape(ok.shape + (1,) * (pn.dim() - ok.dim())), pn, po)
                      for pn, po in zip(parts_new, parts, strict=True))
        lam = torch.where(ok, lam / 3.0, lam * 10.0).clamp(1e-9, 1e9)
    return z


def estimate_noise(obs: torch.Tensor, lights: torch.Tensor, iterations: int = 10) -> float:
    """Image noise level (standard deviation) from the residual of the per-pixel fit.

    obs : (S, P, K, 3) observed pixels; lights : (S, K, 3). Every pixel is fitted on
    the likelihood alone (:func:`refine_likelihood` from a flat start: grey albedo, the
    normal facing the camera); the noise variance is the median of the pixels' squared
    residuals over the median of a chi-square with ``3 K - 5`` degrees of freedom
    (3 K observations, 5 latents). The median ignores the few pixels the fit leaves in a
    local minimum; on the spheres it reads 0.0102 / 0.0509 / 0.1019 for a true 0.01 /
    0.05 / 0.1 and 2e-8 without noise.
    """
    s, p, k, _ = obs.shape
    z = refine_likelihood(obs.new_zeros(s, p, 5), obs, lights, iterations)
    a, n = latents_to_surface(z)
    r = decode(a, n, lights) - obs.transpose(1, 2)  # (S, K, P, 3)
    dof = 3 * k - 5
    chi2_median = dof * (1.0 - 2.0 / (9.0 * dof)) ** 3  # Wilson-Hilferty
    return math.sqrt(float((r * r).sum((1, 3)).median()) / chi2_median)

