"""A GBR cue from colour: pixels of one paint share one albedo.

The albedo entropy (Alldrin, Mallick, Kriegman 2007) asks for few distinct albedos
without knowing which pixels share one. A colour capture says which: under white (or any
single-colour) lights a Lambertian pixel's chromaticity does not depend on its shading, so
pixels of the same chromaticity are the same paint (Klinker, Shafer, Kanade 1990) and
should have the same albedo. A wrong GBR multiplies the albedo by ``|G^-T n|``, a factor
that varies smoothly with the normal, so the spread of log albedo *within* each
chromaticity group grows; the cost is that spread, averaged over the groups.

Each pixel's colour is its mean over the observations the rank-3 factorisation kept
(shadows and highlights left out, so a white highlight does not pull it toward grey), and
the pixels are grouped by k-means of their chromaticity
(:func:`lambertian.lights.albedo_groups.chromaticity_groups`). Grey captures have no cue.

References
----------
N. Alldrin, S. Mallick, D. Kriegman, "Resolving the generalized bas-relief ambiguity by
entropy minimization", CVPR 2007 (the albedo prior this sharpens).
G. J. Klinker, S. A. Shafer, T. Kanade, "A physical approach to color image
understanding", IJCV 4(1), 1990 (diffuse colours of one material share a chromaticity).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lambertian.lights.albedo_groups import chromaticity_groups
from lambertian.lights.gbr import apply_gbr

# Groups smaller than this are left out of the cost (their spread is noise).
MIN_GROUP = 20
# Floor of a group's robust variance of log albedo (a noiseless group would send the log
# cost to -inf and outvote every other group).
MIN_VAR = 1e-12
# MAD to standard deviation for a normal distribution.
MAD_TO_STD = 1.4826


def pixel_colours(colour: np.ndarray, inliers: np.ndarray) -> np.ndarray:
    """(P, C) mean colour of every pixel over its inlier observations.

    colour : (K, P, C) linear colour values of the P pixels in K images;
    inliers : (K, P) bool observations to use (e.g. the factorisation's: neither shadowed
    nor saturated nor specular). Pixels without an inlier get zeros.
    """
    w = inliers[..., None].astype(np.float64)
    return (colour * w).sum(axis=0) / np.maximum(w.sum(axis=0), 1e-12)


def paint_groups(colour: np.ndarray, inliers: np.ndarray, groups: int, *,
                 seed: int = 0) -> np.ndarray:
    """(P,) int paint label of every pixel: k-means of the chromaticity of its mean inlier
    colour (:func:`pixel_colours`; ``colour`` (K, P, C), ``inliers`` (K, P))."""
    return chromaticity_groups(pixel_colours(colour, inliers), groups, saturation=None,
                               seed=seed)


def group_spread(params: np.ndarray, b: np.ndarray, labels: np.ndarray) -> float:
    """Pixel-weighted mean over the paint groups of ``0.5 log var`` of log albedo within
    the group (var: the squared scaled MAD, robust to the pixels a group wrongly holds),
    after the GBR ``params`` = (mu, nu, log lam) of (N, 3) pseudo-normals ``b``; ``labels``
    (N,) their groups. In nats, like the albedo entropy: it is the entropy of a normal
    distribution of that spread, up to a constant. 0 when no group has ``MIN_GROUP``
    pixels."""
    mu, nu, loglam = params
    bn, _ = apply_gbr((mu, nu, float(np.exp(loglam))), b, np.zeros((1, 3)))
    la = np.log(np.maximum(np.linalg.norm(bn, axis=1), 1e-300))
    total, count = 0.0, 0
    for g in np.unique(labels):
        x = la[labels == g]
        if len(x) < MIN_GROUP:
            continue
        var = (MAD_TO_STD * np.median(np.abs(x - np.median(x)))) ** 2
        total += len(x) * 0.5 * np.log(max(var, MIN_VAR))
        count += len(x)
    return total / count if count else 0.0


def group_spread_cost(b: np.ndarray, labels: np.ndarray, weight: float = 1.0
                      ) -> Callable[[np.ndarray], float]:
    """``weight * group_spread(p, b, labels)`` as a function of (mu, nu, log lam), the form
    :func:`lambertian.lights.albedo_entropy.resolve_gbr_entropy` takes as ``extra_cost``."""
    b = np.asarray(b, dtype=np.float64)
    labels = np.asarray(labels)

    def cost(p: np.ndarray) -> float:
        return weight * group_spread(p, b, labels)
    return cost
