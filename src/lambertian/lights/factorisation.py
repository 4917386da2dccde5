"""Robust rank-3 factorisation of an image stack: ``I ~ E S^T`` up to a 3x3 ambiguity.

Lambertian images of one object under K distant lights, without shadows, form a
(pixels x K) matrix of rank 3: ``I[p, k] = b_p . s_k`` with ``b_p = albedo * n_p`` and
``s_k = intensity_k * l_k``. Hayakawa factors it by SVD; any factorisation is the truth up
to an invertible 3x3 matrix A (``E = B A``, ``S = S_true A^-T``).

Real images break the rank: attached and cast shadows (observations clamped at or near 0)
and specular highlights (far above the diffuse value). Those observations are left out
of the fit: each pixel's darkest observations (below ``shadow_frac`` of its bright level)
are dropped at first, then the fit alternates between per-pixel and per-image weighted
least squares (missing-data ALS) while inliers are re-selected by their relative residual,
as the rank-trimming of robust calibrated solvers (Ikehata et al., CVPR 2012) does per
pixel. Highlights are left to that re-selection rather than dropped up front: the ALS
only finds the local minimum its first guess leads to, and dropping each pixel's
brightest observations (its best-exposed, most informative ones) from the first guess
sent it to a wrong minimum on captures with few images (measured with
benchmarks/bench_uncalibrated.py on the selection data, UW psm and generated captures:
best GBR after integrability 14.0 -> 5.1 degrees on psm, 42.7 -> 6.8 on 12-image glossy
8-bit captures, unchanged on the Lambertian ones).

Reference: H. Hayakawa, "Photometric stereo under a light source with arbitrary motion",
JOSA A 11(11), 1994.
"""

from __future__ import annotations

import numpy as np
import torch

# Systems whose 3x3 normal matrix has min/max eigenvalue below this are not used: the
# pixel's (or image's) inliers do not constrain three dimensions.
CONDITION_RCOND = 1e-4
# Relative residual below which an observation is an inlier. Chosen on the selection data
# (UW psm, generated Lambertian and glossy captures; benchmarks/bench_uncalibrated.py):
# mean light error over them 7.78 (0.15), 7.01 (0.1), 7.55 (0.07) degrees.
TAU = 0.1


def _solve_rows(A: torch.Tensor, W: torch.Tensor, Y: torch.Tensor, ridge: float = 1e-9
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched weighted least squares: for every row r of ``W``/``Y`` (R, N), the x (3,)
    minimising ``sum_n W[r, n] (Y[r, n] - A[n] . x)^2`` with A (N, 3). Returns (R, 3) and a
    (R,) bool of well-conditioned rows (others are 0)."""
    M = torch.einsum("rn,ni,nj->rij", W, A, A)
    rhs = torch.einsum("rn,rn,ni->ri", W, Y, A)
    ev = torch.linalg.eigvalsh(M)
    ok = ev[:, 0] > CONDITION_RCOND * ev[:, 2].clamp_min(1e-300)
    eye = torch.eye(3, dtype=M.dtype)
    scale = ev[:, 2].clamp_min(1e-300)[:, None, None]
    x = torch.linalg.solve(M + ridge * scale * eye, rhs[..., None])[..., 0]
    return torch.where(ok[:, None], x, torch.zeros_like(x)), ok


def initial_inliers(I: np.ndarray, shadow_frac: float = 0.1, high: float = 0.0
                    ) -> np.ndarray:
    """(K, P) bool first guess of the observations that follow the linear model.

    ``I`` (K, P): per pixel, observations below ``shadow_frac`` times the pixel's 90th
    percentile (shadows) and its brightest ``high`` share (highlights; none by default,
    see the module docstring) are dropped.
    """
    k = I.shape[0]
    order = np.argsort(np.argsort(I, axis=0), axis=0)  # rank of each observation per pixel
    bright = np.quantile(I, 0.9, axis=0)
    keep = I > shadow_frac * bright[None, :]
    keep &= order < k - int(np.ceil(high * k))
    return keep


def rank3_factorise(I: np.ndarray, *, shadow_frac: float = 0.1, high: float = 0.0,
                    tau: float = TAU, iters: int = 15, sample: int = 20000,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Robust rank-3 factorisation ``I[k, p] ~ E[p] . S[k]`` (Hayakawa 1994, with shadows
    and highlights masked out; see the module docstring).

    Parameters
    ----------
    I : (K, P) linear grey observations of P pixels under K lights (not divided by any
        intensity).
    shadow_frac, high : first inlier guess (see :func:`initial_inliers`).
    tau : an observation is an inlier when ``|I - pred| <= tau * pred`` (relative
        residual) after each round.
    iters : alternating rounds.
    sample : pixels (random, seeded) used to fit S; E is then solved for every pixel.
    seed : seed of the pixel sample.

    Returns
    -------
    E : (P, 3) pseudo-normals in an unknown basis (0 where unconstrained);
    S : (K, 3) pseudo-lights in the matching basis (``E S^T`` is basis-free);
    inliers : (K, P) bool observations used in the final fit.
    """
    I = np.asarray(I, dtype=np.float64)
    k, p = I.shape
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(p, size=min(sample, p), replace=False))
    Is = torch.from_numpy(I[:, idx])
    W = torch.from_numpy(initial_inliers(I[:, idx], shadow_frac, high)).double()
    # Start from the SVD of the inlier-filled matrix (Hayakawa's factorisation).
    U, sv, Vt = torch.linalg.svd(Is * W, full_matrices=False)
    S = U[:, :3] * sv[:3].sqrt()
    for _ in range(iters):
        E, _ = _solve_rows(S, W.T, Is.T)
        S, _ = _solve_rows(E, W, Is)
        pred = S @ E.T
        W = ((Is - pred).abs() <= tau * pred.clamp_min(0)) & (pred > 0)
        W = W.double()
    # Keep S well scaled: an orthonormal-columns gauge (any basis is as good).
    Q, R = torch.linalg.qr(S)
    S = Q * torch.linalg.norm(R, ord=2)
    It = torch.from_numpy(I)
    W_all = torch.from_numpy(initial_inliers(I, shadow_frac, high)).double()
    for _ in range(3):
        E, ok = _solve_rows(S, W_all.T, It.T)
        pred = S @ E.T
        W_all = (((It - pred).abs() <= tau * pred.clamp_min(0)) & (pred > 0)).double()
    E = torch.where(ok[:, None], E, torch.zeros_like(E))
    return E.numpy(), S.numpy(), W_all.numpy().astype(bool)
