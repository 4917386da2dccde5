"""Closed-form shadow-aware photometric stereo: least squares on the lit observations only.

Under the model ``I_k = albedo * max(0, n . l_k)`` an observation in attached shadow
carries no linear constraint on ``g = albedo * n``; including it (plain least squares)
biases every pixel near the terminator. Dropping the unlit observations makes the
per-pixel solution exact on noise-free data wherever at least 3 non-coplanar lights are
lit. Where only 2 are lit, ``g`` is known up to a 1-D family ``g0 + t (l1 x l2)``; the
unlit lights (``n . l_j <= 0``) and visibility (``n_z >= 0``) bound that family to an arc
of normals and we take the arc's midpoint. With 1 lit light the normal is set to the
light, with none to the view direction (both are guesses, flagged by ``lit_count``).

References: R. J. Woodham, Optical Engineering 19(1), 1980 (least squares);
excluding shadowed observations by thresholding as in H. Rushmeier, G. Taubin,
A. Gueziec, "Applying shape from lighting variation to bump map capture", EGSR 1997.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from lambertian.ps.inputs import check_images, check_lights, check_mask
from lambertian.ps.least_squares import DEFAULT_CHUNK, albedo_from_normals, pixel_chunks
from lambertian.ps.result import PSResult

DEFAULT_ITERATIONS = 3  # lit-set re-decisions; 3 is where the error stops changing
MAX_ARC_DEG = 85.0  # keeps albedo = |g0| / cos(theta) finite on 2-lit pixels


def _two_lit(y: torch.Tensor, L: torch.Tensor, lit: torch.Tensor) -> torch.Tensor:
    """Midpoint-of-feasible-arc normals for pixels with exactly two lit lights.

    y : (P, K) grey observations; L : (P, K, 3) unit lights; lit : (P, K) bool with two
    True per row. Returns (P, 3) unit normals.
    """
    k = L.shape[1]
    order = torch.argsort(lit.to(torch.int64) * (2 * k) - torch.arange(k), dim=1,
                          descending=True)[:, :2]  # the two lit indices
    l1 = torch.gather(L, 1, order[:, :1, None].expand(-1, 1, 3))[:, 0]
    l2 = torch.gather(L, 1, order[:, 1:, None].expand(-1, 1, 3))[:, 0]
    y1 = torch.gather(y, 1, order[:, :1])[:, 0]
    y2 = torch.gather(y, 1, order[:, 1:])[:, 0]
    # Minimum-norm g0 = a l1 + b l2 with g0 . l_i = y_i (a 2 x 2 Gram system).
    c12 = (l1 * l2).sum(-1)
    det = (1.0 - c12 * c12).clamp_min(1e-9)
    a = (y1 - c12 * y2) / det
    b = (y2 - c12 * y1) / det
    g0 = a[:, None] * l1 + b[:, None] * l2
    u = torch.nn.functional.normalize(g0, dim=1)
    v = torch.nn.functional.normalize(torch.linalg.cross(l1, l2), dim=1)
    # n(theta) = cos u + sin v; constraints alpha + tan(theta) beta <= 0.
    alpha = torch.cat([torch.einsum("pc,pkc->pk", u, L), -u[:, 2:]], dim=1)
    beta = torch.cat([torch.einsum("pc,pkc->pk", v, L), -v[:, 2:]], dim=1)
    active = torch.cat([~lit, torch.ones_like(lit[:, :1])], dim=1) & (beta.abs() > 1e-9)
    bound = -alpha / torch.where(active, beta, torch.ones_like(beta))
    inf = torch.full_like(bound, math.inf)
    hi = torch.where(active & (beta > 0), bound, inf).amin(dim=1)
    lo = torch.where(active & (beta < 0), bound, -inf).amax(dim=1)
    theta = 0.5 * (torch.atan(lo) + torch.atan(hi))
    theta = torch.where(lo > hi, torch.zeros_like(theta), theta)  # noise: no feasible arc
    lim = math.radians(MAX_ARC_DEG)
    theta = theta.clamp(-lim, lim)
    return torch.cos(theta)[:, None] * u + torch.sin(theta)[:, None] * v


def solve_lit(obs: torch.Tensor, lights: torch.Tensor, lit: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel normals and albedo from the lit observations only (batched, torch).

    Parameters
    ----------
    obs : (P, K, C) observations (images divided by light intensities).
    lights : (P, K, 3) or (K, 3) unit light directions, project frame.
    lit : (P, K) bool, the observations to use.

    Returns
    -------
    normals : (P, 3) unit normals; albedo : (P, C), fitted per channel on the lit set.
    """
    L = lights.to(obs.dtype)
    if L.dim() == 2:
        L = L.expand(obs.shape[0], -1, -1)
    w = lit.to(obs.dtype)
    count = lit.sum(dim=1)
    A = torch.einsum("pk,pki,pkj->pij", w, L, L)
    B = torch.einsum("pk,pki,pkc->pic", w, L, obs)
    eye = torch.eye(3, dtype=obs.dtype).expand_as(A)
    # Three lit but (nearly) coplanar lights are as ambiguous as two: rank test.
    full = (count >= 3) & (torch.linalg.det(A).abs() > 1e-6)
    G = torch.linalg.solve(torch.where(full[:, None, None], A, eye), B)  # (P, 3, C)
    # Rank-1 fit G ~ n albedo^T: one power step from the channel sum.
    n = torch.nn.functional.normalize(G.sum(-1), dim=1)
    n = torch.nn.functional.normalize(torch.einsum("pic,pc->pi", G,
                                                    torch.einsum("pic,pi->pc", G, n)), dim=1)
    two = (~full) & (count >= 2)
    if two.any():
        n[two] = _two_lit(obs[two].mean(-1), L[two], lit[two])
    one = count == 1
    if one.any():
        n[one] = L[one][lit[one]]
    none = count == 0
    n[none] = torch.tensor([0.0, 0.0, 1.0], dtype=obs.dtype)
    shading = torch.einsum("pi,pki->pk", n, L)
    albedo = albedo_from_normals(obs, shading, w)
    return n, albedo


def lit_mask(obs: torch.Tensor, threshold: float) -> torch.Tensor:
    """(P, K) bool: observations whose channel mean exceeds ``threshold``."""
    return obs.mean(-1) > threshold


def solve_shadow_aware(obs: torch.Tensor, lights: torch.Tensor, threshold: float = 0.0,
                       iterations: int = DEFAULT_ITERATIONS
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Threshold the observations into lit / unlit, solve, then re-decide (batched).

    The first lit set is ``mean_c(obs) > threshold``; each of ``iterations`` further
    rounds takes the lit set the estimate itself predicts (``n . l > 0``) on pixels the
    data determine (>= 3 lit), which under noise recovers dim but lit observations that
    the threshold dropped and drops noisy shadowed ones it kept.

    obs : (P, K, C); lights : (P, K, 3) or (K, 3). Returns normals (P, 3), albedo (P, C)
    and the final lit set (P, K) bool.
    """
    L = lights.to(obs.dtype)
    if L.dim() == 2:
        L = L.expand(obs.shape[0], -1, -1)
    lit = lit_mask(obs, threshold)
    n, albedo = solve_lit(obs, L, lit)
    for _ in range(iterations):
        predicted = torch.einsum("pi,pki->pk", n, L) > 0
        lit = torch.where((predicted.sum(1) >= 3)[:, None], predicted, lit)
        n, albedo = solve_lit(obs, L, lit)
    return n, albedo, lit


def shadow_aware(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None,
                 *, threshold: float = 0.0, iterations: int = DEFAULT_ITERATIONS,
                 chunk: int = DEFAULT_CHUNK,
                 source: str = "images") -> PSResult:
    """Shadow-aware least-squares normals and albedo (closed form, per pixel).

    An observation counts as lit when its channel mean exceeds ``threshold`` (0 for
    noise-free images; about two noise standard deviations otherwise).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images already divided by the intensities.
    lights : (K, 3) light directions, project frame (normalised here).
    mask : (H, W) bool pixels to solve (all when None).
    threshold : lit / unlit decision level on the channel mean.
    iterations : rounds of re-deciding the lit set from the estimate's own shading.
    chunk : pixels solved per block (bounds memory).
    source : name used in error messages.

    Returns
    -------
    PSResult with (H, W, 3) normals, (H, W, C) albedo and (H, W, K) ``inliers`` (the lit
    observations each pixel used); ``info["lit_count_below_3"]`` counts the pixels
    whose normal is not determined by the data alone.
    """
    t0 = time.perf_counter()
    img = check_images(images, source)
    k, h, w, c = img.shape
    L = torch.from_numpy(check_lights(lights, k, source))
    m = check_mask(mask, (h, w), source)
    idx = np.flatnonzero(m.ravel())
    flat = img.reshape(k, h * w, c)
    normals = np.zeros((h * w, 3), np.float32)
    albedo = np.zeros((h * w, c), np.float32)
    inliers = np.zeros((h * w, k), bool)
    for sl in pixel_chunks(idx.size, chunk):
        pix = idx[sl]
        obs = torch.from_numpy(np.ascontiguousarray(flat[:, pix].transpose(1, 0, 2))).double()
        n, a, lit = solve_shadow_aware(obs, L, threshold, iterations)
        normals[pix], albedo[pix], inliers[pix] = n.numpy(), a.numpy(), lit.numpy()
    return PSResult(normals.reshape(h, w, 3), albedo.reshape(h, w, c), m,
                    inliers=inliers.reshape(h, w, k),
                    info={"method": "shadow_aware", "threshold": threshold,
                          "iterations": iterations,
                          "lit_count_below_3": int((inliers[idx].sum(1) < 3).sum()),
                          "seconds": time.perf_counter() - t0})
