"""Closed-form shadow-aware photometric stereo: the maximum-likelihood lit set.

Under the model ``I_kc = albedo_c * max(0, n . l_k) + e_kc`` with Gaussian noise ``e``
(standard deviation ``sigma``) an observation in attached shadow carries no linear
constraint on ``n``; including it (plain least squares) biases every pixel near the
terminator. For a given lit set ``S`` the model is linear in ``G = n albedo^T``, and the
rank-1 weighted least-squares fit over all colour channels jointly (one normal, one
albedo per channel: 5 parameters per pixel) is a 3 x 3 generalised eigenproblem
(:func:`solve_lit`). The estimator fits every candidate lit set (every subset of the
lights when there are at most :data:`MAX_ENUMERATED_LIGHTS`), scores each fit by the
chi-square of the full clamped model on *all* observations (lit and unlit alike, so the
scores of different sets are comparable: every candidate has the same 5 parameters)
and keeps the best: the maximum-likelihood lit set. With more lights the candidates
are a threshold's lit set and its re-decisions from the estimate's own shading, each
kept only when it lowers the chi-square.

On noise-free data the fit is exact wherever at least 3 non-coplanar lights are lit.
Where only 2 are lit, ``g`` is known up to a 1-D family ``g0 + t (l1 x l2)``; the unlit
lights (``n . l_j <= 0``) and visibility (``n_z >= 0``) bound that family to an arc of
normals and we take the arc's midpoint. With 1 lit light the normal is set to the
light, with none to the view direction (both are guesses, flagged by ``lit_count``).

References: R. J. Woodham, Optical Engineering 19(1), 1980 (least squares);
excluding shadowed observations as in H. Rushmeier, G. Taubin, A. Gueziec, "Applying
shape from lighting variation to bump map capture", EGSR 1997; the joint colour fit is
the rank-1 reduced-rank regression of T. W. Anderson, "Estimating linear restrictions
on regression coefficients for multivariate normal distributions", Ann. Math. Stat.
22(3), 1951.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import torch

from lambertian.ps.inputs import check_inputs
from lambertian.ps.least_squares import DEFAULT_CHUNK, albedo_from_normals, pixel_chunks
from lambertian.ps.result import PSResult

MAX_ENUMERATED_LIGHTS = 8  # 2^8 candidate lit sets per pixel; more lights: re-decisions
DEFAULT_ITERATIONS = 3  # re-decision rounds when the lit sets are not enumerated
MAX_ARC_DEG = 85.0  # keeps albedo = |g0| / cos(theta) finite on 2-lit pixels
INVISIBLE_PENALTY = 1e12  # chi-square added to fits whose normal faces away (n_z < 0)


def _two_lit(y: torch.Tensor, L: torch.Tensor, lit: torch.Tensor) -> torch.Tensor:
    """Midpoint-of-feasible-arc normals for pixels with exactly two lit lights.

    y : (P, K) scalar observations (shading times a positive scale); L : (P, K, 3) unit
    lights; lit : (P, K) bool with two True per row. Returns (P, 3) unit normals.
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


def _top_eigenvector(S: torch.Tensor, iterations: int = 4) -> torch.Tensor:
    """(P, D) unit top eigenvectors of (P, D, D) PSD matrices by power iteration.

    The matrices here are rank 1 on noise-free data (one step is then exact) and
    dominated by one eigenvalue under noise, where batched ``eigh`` of 3 x 3 matrices
    costs ten times more.
    """
    v = torch.gather(S, 2, S.diagonal(dim1=1, dim2=2).argmax(1)[:, None, None]
                     .expand(-1, S.shape[1], 1))[..., 0]  # the largest column
    for _ in range(iterations):
        v = torch.nn.functional.normalize((S @ v[..., None])[..., 0], dim=1)
    return v


def _weights(sigma: float | torch.Tensor | None, obs: torch.Tensor) -> torch.Tensor:
    """(P, K) inverse noise variances from a scalar, (K,) or (P, K) sigma (1 when None)."""
    if sigma is None:
        return torch.ones(obs.shape[:2], dtype=obs.dtype)
    s = torch.as_tensor(sigma, dtype=obs.dtype)
    return (1.0 / s.clamp_min(1e-12) ** 2).expand(obs.shape[:2])


def solve_lit(obs: torch.Tensor, lights: torch.Tensor, lit: torch.Tensor,
              sigma: float | torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel normal and albedo fitted to the lit observations only (batched, torch).

    Minimises ``sum_{k lit} sum_c (obs_kc - albedo_c n . l_k)^2 / sigma_k^2`` over the
    unit normal and the per-channel albedo jointly: with ``M = sum w_k l_k l_k^T`` and
    ``B = sum w_k l_k obs_k^T`` the optimal normal maximises ``n^T B B^T n / n^T M n``
    (a generalised eigenvector, Anderson 1951) and ``albedo = B^T n / n^T M n``. For one
    channel this is exactly Woodham's least squares.

    Parameters
    ----------
    obs : (P, K, C) observations (images divided by light intensities).
    lights : (P, K, 3) or (K, 3) unit light directions, project frame.
    lit : (P, K) bool, the observations to use.
    sigma : noise standard deviation: scalar, (K,) or (P, K) (weighted least squares).

    Returns
    -------
    normals : (P, 3) unit normals; albedo : (P, C).
    """
    L = lights.to(obs.dtype)
    if L.dim() == 2:
        L = L.expand(obs.shape[0], -1, -1)
    w = lit.to(obs.dtype) * _weights(sigma, obs)
    count = lit.sum(dim=1)
    wL = (w[..., None] * L).transpose(1, 2)  # (P, 3, K); bmm is faster than einsum here
    gram = (lit.to(obs.dtype)[..., None] * L).transpose(1, 2) @ L
    M = wL @ L
    B = wL @ obs
    eye = torch.eye(3, dtype=obs.dtype).expand_as(M)
    # Three lit but (nearly) coplanar lights are as ambiguous as two: rank test.
    full = (count >= 3) & (torch.linalg.det(gram).abs() > 1e-6)
    R = torch.linalg.cholesky(torch.where(full[:, None, None], M, eye))
    Y = torch.linalg.solve_triangular(R, B, upper=False)  # R^-1 B, (P, 3, C)
    u = _top_eigenvector(Y @ Y.transpose(1, 2))
    n = torch.linalg.solve_triangular(R.transpose(1, 2), u[..., None], upper=True)[..., 0]
    n = torch.nn.functional.normalize(n, dim=1)
    # n and -n fit equally (G = n a^T): take the sign that makes the albedo positive.
    n = n * torch.where(torch.einsum("pi,pic->p", n, B) < 0, -1.0, 1.0)[:, None]
    two = (~full) & (count >= 2)
    if two.any():
        # Project the colours on the lit observations' principal colour, then the arc.
        o2 = obs[two] * w[two][..., None].sqrt()
        hue = _top_eigenvector(o2.transpose(1, 2) @ o2)  # (P2, C)
        hue = hue * torch.where(hue.sum(-1) < 0, -1.0, 1.0)[:, None]
        n[two] = _two_lit(torch.einsum("pkc,pc->pk", obs[two], hue), L[two], lit[two])
    one = count == 1
    if one.any():
        n[one] = L[one][lit[one]]
    # no lit light, or nothing observed: the view direction (a guess)
    none = (count == 0) | (n.norm(dim=1) < 0.5)
    n[none] = torch.tensor([0.0, 0.0, 1.0], dtype=obs.dtype)
    albedo = albedo_from_normals(obs, torch.einsum("pi,pki->pk", n, L), w)
    return n, albedo


def chi_square(obs: torch.Tensor, lights: torch.Tensor, normals: torch.Tensor,
               albedo: torch.Tensor, sigma: float | torch.Tensor | None = None
               ) -> torch.Tensor:
    """(P,) ``sum_kc (obs_kc - albedo_c max(0, n . l_k))^2 / sigma_k^2``: the clamped
    model's misfit on every observation, lit or not (minus twice the log-likelihood,
    up to a constant, under Gaussian noise)."""
    L = lights.to(obs.dtype).expand(obs.shape[0], -1, -1)
    shade = torch.einsum("pi,pki->pk", normals, L).clamp_min(0.0)
    r = obs - shade[..., None] * albedo[:, None, :]
    return ((r * r).sum(-1) * _weights(sigma, obs)).sum(-1)


def _score(obs, L, n, a, sigma):
    return chi_square(obs, L, n, a, sigma) + INVISIBLE_PENALTY * (n[:, 2] < -1e-6)


def candidate_sets(k: int) -> torch.Tensor:
    """(2^k, k) bool: every subset of ``k`` lights, the smallest first."""
    sets = sorted(itertools.product((False, True), repeat=k), key=sum)
    return torch.tensor(sets, dtype=torch.bool)


def solve_shadow_aware(obs: torch.Tensor, lights: torch.Tensor,
                       sigma: float | torch.Tensor | None = None,
                       threshold: float | None = None,
                       iterations: int = DEFAULT_ITERATIONS
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Maximum-likelihood lit set, normal and albedo per pixel (batched, torch).

    With at most :data:`MAX_ENUMERATED_LIGHTS` lights every subset is fitted
    (:func:`solve_lit`) and the fit with the smallest :func:`chi_square` kept; normals
    facing away from the camera are not admitted. Exact ties go to the smaller set: on a
    noise-free pixel with two lit lights, a set that adds an unlit light fits exactly
    too, with the normal at an end of the feasible arc instead of its middle. With more
    lights the first lit set is ``mean_c(obs) > threshold`` and each of ``iterations``
    rounds proposes the lit set the estimate predicts (``n . l > 0``), kept where it
    lowers the chi-square. Under equal noise on every observation ``sigma`` does not
    change the estimate; it weights the fit when it differs between observations, and
    sets the default threshold ``2 sigma / sqrt(C)`` (0 when None).

    obs : (P, K, C); lights : (P, K, 3) or (K, 3); sigma : scalar, (K,) or (P, K).
    Returns normals (P, 3), albedo (P, C) and the lit set (P, K) bool: the lights the
    estimate shades (``n . l > 0``), which the clamped model's chi-square counts as lit.
    """
    L = lights.to(obs.dtype)
    if L.dim() == 2:
        L = L.expand(obs.shape[0], -1, -1)
    p, k, c = obs.shape
    if k <= MAX_ENUMERATED_LIGHTS:
        best = torch.full((p,), math.inf, dtype=obs.dtype)
        n = torch.zeros(p, 3, dtype=obs.dtype)
        albedo = torch.zeros(p, c, dtype=obs.dtype)
        for s in candidate_sets(k):
            cand = s.expand(p, k)
            n1, a1 = solve_lit(obs, L, cand, sigma)
            score = _score(obs, L, n1, a1, sigma)
            # relative tolerance: exact fits of nested sets tie at rounding level
            better = score < torch.where(best.isinf(), best, best - 1e-9 * (1.0 + best))
            best = torch.where(better, score, best)
            n = torch.where(better[:, None], n1, n)
            albedo = torch.where(better[:, None], a1, albedo)
        return n, albedo, torch.einsum("pi,pki->pk", n, L) > 0
    if threshold is None:
        threshold = 0.0 if sigma is None else float(2.0 * torch.as_tensor(sigma).max()
                                                      / math.sqrt(c))
    lit = obs.mean(-1) > threshold
    n, albedo = solve_lit(obs, L, lit, sigma)
    best = _score(obs, L, n, albedo, sigma)
    for _ in range(iterations):
        cand = torch.einsum("pi,pki->pk", n, L) > 0
        n1, a1 = solve_lit(obs, L, cand, sigma)
        score = _score(obs, L, n1, a1, sigma)
        better = score < best
        best = torch.where(better, score, best)
        n = torch.where(better[:, None], n1, n)
        albedo = torch.where(better[:, None], a1, albedo)
    return n, albedo, torch.einsum("pi,pki->pk", n, L) > 0


def shadow_aware(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None,
                 *, sigma: float | None = None, threshold: float | None = None,
                 iterations: int = DEFAULT_ITERATIONS, chunk: int = DEFAULT_CHUNK,
                 source: str = "images", progress: bool = False) -> PSResult:
    """Shadow-aware normals and albedo: the maximum-likelihood lit set per pixel.

    See :func:`solve_shadow_aware` (all lit sets are tried for up to 8 lights).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images already divided by the intensities.
    lights : (K, 3) light directions, project frame (normalised here).
    mask : (H, W) bool pixels to solve (all when None).
    sigma : image noise standard deviation, if known (weights, default threshold).
    threshold : first lit / unlit level on the channel mean (more than 8 lights only).
    iterations : re-decision rounds of the lit set (more than 8 lights only).
    chunk : pixels solved per block (bounds memory).
    source : name used in error messages.
    progress : show a progress bar over pixel blocks.

    Returns
    -------
    PSResult with (H, W, 3) normals, (H, W, C) albedo and (H, W, K) ``inliers`` (the lit
    observations each pixel used); ``info["lit_count_below_3"]`` counts the pixels
    whose normal is not determined by the data alone.
    """
    t0 = time.perf_counter()
    img, L_np, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    L = torch.from_numpy(L_np)
    idx = np.flatnonzero(m.ravel())
    flat = img.reshape(k, h * w, c)
    # The solver's floors and tolerances are absolute numbers: work in units of the
    # capture's brightest observation, so that a change of units (intensities x 1e6,
    # float images in small units) cannot change a normal. sigma and threshold are
    # values in the images' units and scale with them; the albedo is scaled back.
    unit = float(np.max(flat[:, idx]))  # finite, and the mask not empty: check_inputs
    unit = unit if unit > 0 else 1.0
    sigma_u = None if sigma is None else sigma / unit
    threshold_u = None if threshold is None else threshold / unit
    normals = np.zeros((h * w, 3), np.float32)
    albedo = np.zeros((h * w, c), np.float32)
    inliers = np.zeros((h * w, k), bool)
    for sl in pixel_chunks(idx.size, chunk, progress, "shadow-aware"):
        pix = idx[sl]
        obs = torch.from_numpy(np.ascontiguousarray(flat[:, pix].transpose(1, 0, 2))).double()
        n, a, lit = solve_shadow_aware(obs / unit, L, sigma_u, threshold_u, iterations)
        # a pixel black in every image has no normal (zero, as least squares leaves it),
        # not the solver's guess facing the camera
        n[~obs.reshape(len(pix), -1).any(dim=1)] = 0.0
        normals[pix], albedo[pix], inliers[pix] = n.numpy(), (a * unit).numpy(), lit.numpy()
    return PSResult(normals.reshape(h, w, 3), albedo.reshape(h, w, c), m,
                    inliers=inliers.reshape(h, w, k),
                    info={"method": "shadow_aware", "sigma": sigma, "threshold": threshold,
                          "enumerated": k <= MAX_ENUMERATED_LIGHTS,
                          "iterations": iterations,
                          "lit_count_below_3": int((inliers[idx].sum(1) < 3).sum()),
                          "seconds": time.perf_counter() - t0})


def _unit_normals_known_albedo(y: torch.Tensor, L: torch.Tensor, sets: torch.Tensor
                               ) -> torch.Tensor:
    """Best unit normal per pixel for shading observations ``y = max(0, n . l)``.

    y : (P, K) shading (observations divided by a known albedo); L : (P, K, 3);
    sets : (Q, K) candidate lit sets. Each set with 3 or more lights gives the
    normalised least-squares normal, each with 2 the two unit normals that fit both
    exactly (or the nearest); the one with the smallest squared misfit of the clamped
    model wins. Returns (P, 3).
    """
    p, k = y.shape
    best = torch.full((p,), math.inf, dtype=y.dtype)
    n_best = torch.zeros(p, 3, dtype=y.dtype)
    n_best[:, 2] = 1.0
    for s in sets:
        m = int(s.sum())
        if m < 2:
            continue
        Ls = L[:, s]  # (P, m, 3)
        if m >= 3:
            g = torch.linalg.lstsq(Ls, y[:, s, None]).solution[..., 0]
            cands = [torch.nn.functional.normalize(g, dim=1)]
        else:
            # minimum-norm g0 in span(l1, l2), then move along l1 x l2 onto the sphere
            g0 = torch.linalg.lstsq(Ls, y[:, s, None], driver="gelsd").solution[..., 0]
            v = torch.nn.functional.normalize(torch.linalg.cross(Ls[:, 0], Ls[:, 1]), dim=1)
            t = (1.0 - (g0 * g0).sum(1)).clamp_min(0.0).sqrt()[:, None]
            cands = [torch.nn.functional.normalize(g0 + t * v, dim=1),
                     torch.nn.functional.normalize(g0 - t * v, dim=1)]
        for n in cands:
            r = y - torch.einsum("pi,pki->pk", n, L).clamp_min(0.0)
            score = (r * r).sum(1) + INVISIBLE_PENALTY * (n[:, 2] < -1e-6)
            better = score < best
            best = torch.where(better, score, best)
            n_best = torch.where(better[:, None], n, n_best)
    return n_best


def shadow_aware_shared_albedo(obs: torch.Tensor, lights: torch.Tensor,
                               sigma: float | None = None, iterations: int = 3
                               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Shadow-aware normals when every pixel of an object shares one RGB albedo.

    A known structure of the synthetic-spheres benchmark, not of real objects: the
    per-pixel maximum-likelihood fit (:func:`solve_shadow_aware`) starts it, then
    ``iterations`` rounds alternate the object's albedo (least squares over all its
    pixels, given the normals) and each pixel's unit normal given that albedo (2
    unknowns instead of 5: two lit lights then fix the normal up to a mirror pair).
    The albedo uses the pixels with at least 3 lit lights.

    obs : (S, P, K, C) observations of the P pixels of S objects; lights : (S, K, 3).
    Returns normals (S, P, 3) and albedo (S, C).
    """
    s, p, k, c = obs.shape
    L = lights.to(obs.dtype)[:, None].expand(s, p, k, 3).reshape(-1, k, 3)
    o = obs.reshape(-1, k, c)
    n, _, _ = solve_shadow_aware(o, L, sigma)
    sets = candidate_sets(k) if k <= MAX_ENUMERATED_LIGHTS else None
    albedo = torch.zeros(s, c, dtype=obs.dtype)
    for _ in range(iterations):
        shade = torch.einsum("pi,pki->pk", n, L).clamp_min(0.0)
        # pixels with fewer than 3 lit lights have guessed normals: leave them out
        shade = (shade * ((shade > 0).sum(1, keepdim=True) >= 3)).reshape(s, p, k)
        albedo = (torch.einsum("spkc,spk->sc", obs, shade)
                  / (shade * shade).sum((1, 2))[:, None].clamp_min(1e-12))
        a = albedo[:, None].expand(s, p, c).reshape(-1, c)
        y = torch.einsum("pkc,pc->pk", o, a) / (a * a).sum(1, keepdim=True).clamp_min(1e-12)
        if sets is None:
            lit = torch.einsum("pi,pki->pk", n, L) > 0
            n, _ = solve_lit(y[..., None], L, lit)
        else:
            n = _unit_normals_known_albedo(y, L, sets)
    return n.reshape(s, p, 3), albedo


def _solve_lit_groups(obs_t: torch.Tensor, obs: torch.Tensor, L: torch.Tensor,
                      lit: torch.Tensor, w: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`solve_lit` for groups of pixels that share their lights and one lit set.

    obs_t : (G, K, P * C) the observations, lights first; obs : (G, P, K, C) the same;
    L : (G, K, 3); lit : (K,) bool; w : (K,) inverse variances. The 3 x 3 systems
    (``M``, its Cholesky factor, the rank test) are the same for every pixel of a group,
    so they are formed once per group and applied to all its pixels in one product.
    Returns normals (G, P, 3) and albedo (G, P, C).
    """
    g, p, k, c = obs.shape
    wk = lit.to(obs.dtype) * w  # (K,)
    count = int(lit.sum())
    Lt = L.transpose(1, 2)  # (G, 3, K)
    wL = Lt * wk  # (G, 3, K)
    if count >= 3:
        gram = (Lt * lit.to(obs.dtype)) @ L
        full = torch.linalg.det(gram).abs() > 1e-6  # (G,)
    else:
        full = torch.zeros(g, dtype=torch.bool)
    B = (wL @ obs_t).reshape(g, 3, p, c)  # (G, 3, P, C)
    n = torch.zeros(g, p, 3, dtype=obs.dtype)
    if full.any():
        eye = torch.eye(3, dtype=obs.dtype).expand(g, 3, 3)
        R = torch.linalg.cholesky(torch.where(full[:, None, None], wL @ L, eye))
        Y = torch.linalg.solve_triangular(R, B.reshape(g, 3, p * c), upper=False)
        Y = Y.reshape(g, 3, p, c).permute(0, 2, 1, 3)  # (G, P, 3, C)
        u = _top_eigenvector((Y @ Y.transpose(-1, -2)).reshape(-1, 3, 3)).reshape(g, p, 3)
        nf = torch.linalg.solve_triangular(R.transpose(1, 2), u.transpose(1, 2),
                                           upper=True).transpose(1, 2)
        nf = torch.nn.functional.normalize(nf, dim=-1)
        sign = torch.einsum("gpi,gipc->gp", nf, B) < 0
        n = torch.where(full[:, None, None], nf * torch.where(sign, -1.0, 1.0)[..., None], n)
    rest = ~full
    if rest.any():
        o = obs[rest].reshape(-1, k, c)
        Lr = L[rest][:, None].expand(-1, p, k, 3).reshape(-1, k, 3)
        lr = lit.expand(o.shape[0], k)
        nr = torch.zeros(o.shape[0], 3, dtype=obs.dtype)
        if count == 2:
            o2 = o * wk.sqrt()[:, None]
            hue = _top_eigenvector(o2.transpose(1, 2) @ o2)
            hue = hue * torch.where(hue.sum(-1) < 0, -1.0, 1.0)[:, None]
            nr = _two_lit(torch.einsum("pkc,pc->pk", o, hue), Lr, lr)
        elif count == 1:
            nr = Lr[:, lit][:, 0]
        if count >= 3:  # coplanar lit lights: as ambiguous as two, per pixel
            nr, _ = solve_lit(o, Lr, lr, 1.0 / w.sqrt())
        nr[(count == 0) | (nr.norm(dim=1) < 0.5)] = torch.tensor([0.0, 0.0, 1.0],
                                                                  dtype=obs.dtype)
        n[rest] = nr.reshape(-1, p, 3)
    none = n.norm(dim=-1) < 0.5
    n[none] = torch.tensor([0.0, 0.0, 1.0], dtype=obs.dtype)
    shade = n @ Lt  # (G, P, K)
    s = shade * wk
    albedo = (torch.einsum("gpkc,gpk->gpc", obs, s)
              / (s * shade).sum(-1, keepdim=True).clamp_min(1e-12))
    return n, albedo


def solve_shadow_aware_groups(obs: torch.Tensor, lights: torch.Tensor,
                              sigma: float | None = None
                              ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`solve_shadow_aware` for groups of pixels that share their lights.

    obs : (G, P, K, C) observations of P pixels in each of G groups (the spheres of the
    Deep Lambertian benchmark, or the pixels of one capture); lights : (G, K, 3);
    sigma : a scalar noise level or None. The same estimate as
    :func:`solve_shadow_aware` on the flattened pixels (every lit set enumerated, the
    smallest chi-square kept, ties to the smaller set), computed with each group's
    3 x 3 systems formed once instead of once per pixel. Returns normals (G, P, 3) and
    albedo (G, P, C).
    """
    g, p, k, c = obs.shape
    L = lights.to(obs.dtype)
    if k > MAX_ENUMERATED_LIGHTS:
        n, a, _ = solve_shadow_aware(obs.reshape(-1, k, c),
                                     L[:, None].expand(g, p, k, 3).reshape(-1, k, 3), sigma)
        return n.reshape(g, p, 3), a.reshape(g, p, c)
    w = _weights(sigma, obs.reshape(-1, k, c))[0]  # (K,): one scalar sigma
    obs_t = obs.permute(0, 2, 1, 3).reshape(g, k, p * c)
    best = torch.full((g, p), math.inf, dtype=obs.dtype)
    n = torch.zeros(g, p, 3, dtype=obs.dtype)
    albedo = torch.zeros(g, p, c, dtype=obs.dtype)
    for s in candidate_sets(k):
        n1, a1 = _solve_lit_groups(obs_t, obs, L, s, w)
        shade = (n1 @ L.transpose(1, 2)).clamp_min(0.0)  # (G, P, K)
        r = obs - shade[..., None] * a1[:, :, None, :]
        score = ((r * r).sum(-1) * w).sum(-1) + INVISIBLE_PENALTY * (n1[..., 2] < -1e-6)
        better = score < torch.where(best.isinf(), best, best - 1e-9 * (1.0 + best))
        best = torch.where(better, score, best)
        n = torch.where(better[..., None], n1, n)
        albedo = torch.where(better[..., None], a1, albedo)
    return n, albedo
