"""Resolving the GBR ambiguity by minimising the entropy of the albedo distribution.

Real objects are made of few materials, so their albedo takes few values; a wrong GBR
transformation multiplies each albedo by a factor that varies with the normal
(``|G^-T b|`` grows or shrinks with the tilt), which spreads the albedo histogram. The
GBR whose albedos have the lowest entropy is taken as the truth. Unlike the specular
cue it needs no highlight and no accurate normal at any particular pixel: every pixel
votes, which makes it the less biased cue on broad specular lobes.

Two physical constraints keep the search away from degenerate members of the group:
``lam > 0`` (the sign of n_z, i.e. normals facing the camera, is kept; the convex /
concave flip is decided elsewhere) and lights in front of the object (a light with
``l_z < 0`` cannot light visible pixels; such GBRs are rejected).

Reference: N. Alldrin, S. Mallick, D. Kriegman, "Resolving the generalized bas-relief
ambiguity by entropy minimization", CVPR 2007.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from lambertian.lights.gbr import apply_gbr, unit

# Histogram of log(albedo / median albedo): fixed bin width (a differential-entropy
# estimate, so a wider distribution costs more) over a range wide enough that no
# plausible GBR pushes mass out of it.
BINS = 128
RANGE = (-3.0, 3.0)
# Coarse search of (mu, nu, log lam) before the local refinement (as the specular cue).
GRID_MU = np.linspace(-1.5, 1.5, 13)
GRID_LOG_LAM = np.linspace(-1.6, 1.6, 17)
# Lights with l_z below this (after the GBR) count as behind the object.
MIN_LZ = 0.0


def albedo_entropy(params: np.ndarray, b: np.ndarray) -> float:
    """Entropy (nats) of the histogram of log relative albedo after the GBR ``params``
    = (mu, nu, log lam) of (N, 3) pseudo-normals ``b``. Mass outside ``RANGE`` is kept in
    two overflow bins so that it is never ignored."""
    mu, nu, loglam = params
    bn, _ = apply_gbr((mu, nu, float(np.exp(loglam))), b, np.zeros((1, 3)))
    alb = np.linalg.norm(bn, axis=1)
    la = np.log(np.maximum(alb, 1e-300) / max(float(np.median(alb)), 1e-300))
    h, _ = np.histogram(la, bins=BINS, range=RANGE)
    h = np.concatenate([h, [np.sum(la < RANGE[0]), np.sum(la > RANGE[1])]])
    q = h[h > 0] / len(la)
    return float(-(q * np.log(q)).sum())


def _lights_in_front(params: np.ndarray, s: np.ndarray) -> bool:
    mu, nu, loglam = params
    _, sl = apply_gbr((mu, nu, float(np.exp(loglam))), np.zeros((1, 3)), s)
    lit = np.linalg.norm(sl, axis=1) > 0  # a black image's zero light is nowhere
    return bool(np.all(unit(sl[lit])[:, 2] > MIN_LZ))


def sample_rows(n: int, sample: int, seed: int) -> np.ndarray:
    """Sorted indices of the seeded subsample of at most ``sample`` of ``n`` rows that the
    GBR search uses (all rows when there are no more than ``sample``)."""
    if n <= sample:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))


def resolve_gbr_entropy(b: np.ndarray, s: np.ndarray, *, sample: int = 20000,
                        seed: int = 0,
                        extra_cost: Callable[[np.ndarray], float] | None = None
                        ) -> tuple[np.ndarray, float]:
    """GBR parameters (mu, nu, lam > 0) minimising the albedo entropy (Alldrin et al.
    2007), by a coarse grid over the GBRs that keep every light in front, then a
    Nelder-Mead refinement.

    b : (P, 3) pseudo-normals in an integrable basis (rows with a reliable fit);
    s : (K, 3) lights in the same basis; sample : pixels used (seeded subsample);
    seed : seed of the subsample; extra_cost : another cue's cost of (mu, nu, log lam)
    added to the entropy (nats), e.g. the diffuse maxima's.
    Returns the parameters and the entropy reached (nats, without ``extra_cost``).
    Returns the identity GBR and ``inf`` when no GBR on the grid keeps all lights in
    front.
    """
    b = b[sample_rows(len(b), sample, seed)]

    def objective(p: np.ndarray) -> float:
        return albedo_entropy(p, b) + (extra_cost(p) if extra_cost is not None else 0.0)

    best, best_cost = None, np.inf
    for mu in GRID_MU:
        for nu in GRID_MU:
            for t in GRID_LOG_LAM:
                p = np.array([mu, nu, t])
                if not _lights_in_front(p, s):
                    continue
                c = objective(p)
                if c < best_cost:
                    best, best_cost = p, c
    if best is None:
        return np.array([0.0, 0.0, 1.0]), float("inf")

    def cost(p: np.ndarray) -> float:
        # Leaving the feasible set costs more than any entropy (bounded by log(BINS + 2)).
        return objective(p) if _lights_in_front(p, s) else 1e3

    fit = minimize(cost, best, method="Nelder-Mead",
                   options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 400})
    x = fit.x if fit.fun <= best_cost else best
    return np.array([x[0], x[1], float(np.exp(x[2]))]), albedo_entropy(x, b)
