"""Local diffuse reflectance maxima: a GBR cue from where each image is brightest.

On a Lambertian surface of uniform albedo, the shading ``albedo * max(0, n . l)`` peaks
where the normal points at the light (``n ~ l``), so at such a local maximum the
pseudo-normal and the image's light must be parallel after the right GBR
transformation: two equations per image for the three GBR parameters. The maxima are
found on the factorisation's diffuse prediction ``E S^T``, which the GBR does not change
and which carries no highlight (those are left out of the fit), in windows whose albedo
is uniform (an albedo edge makes a maximum of its own). Per image only the maximum that
is brightest relative to its albedo is kept (the one closest to ``n = l``); many of the
others are flat-shading noise.

The cue is not used alone: a maximum is only as exact as the pixel grid and the noise
allow (near the peak the shading varies with the square of the normal's offset), so it
is added, with a small weight, to the albedo entropy (:mod:`albedo_entropy`), whose
minimum it moves away from the flat or stretched reliefs that entropy alone sometimes
prefers.

Reference: T. Papadhimitri, P. Favaro, "A new perspective on uncalibrated photometric
stereo", CVPR 2013 (local diffuse reflectance maxima).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_erosion, maximum_filter, uniform_filter

from lambertian.lights.gbr import apply_gbr, unit

# Window (pixels) of a local maximum and of the albedo-uniformity check.
WINDOW = 7
# Relative standard deviation of the albedo in the window above which the maximum may
# come from an albedo edge.
ALBEDO_TOL = 0.05
# Maxima darker than this share of the image's brightest diffuse pixel are ignored
# (grazing light: a flat, noisy peak).
MIN_LEVEL = 0.3
# Robust (Cauchy) scale of the alignment residual (unit-vector components, ~radians).
LOSS_SCALE = 0.05


def diffuse_maxima(E: np.ndarray, S: np.ndarray, b0: np.ndarray, mask: np.ndarray,
                   usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the local maximum of the diffuse prediction in a window of uniform
    albedo, brightest relative to its albedo.

    E : (P, 3) pseudo-normals of the mask's pixels (any basis); S : (K, 3) lights in the
    same basis; b0 : (P, 3) the same pseudo-normals in an integrable basis (their norms
    are the albedo up to a smooth GBR factor); mask : (H, W) bool with P pixels;
    usable : (P,) bool pixels with a reliable pseudo-normal.
    Returns (M,) pixel indices into the mask's pixels and (M,) image indices, at most
    one per image.
    """
    h, w = mask.shape
    valid = np.zeros((h, w), bool)
    valid[mask] = usable
    inner = binary_erosion(valid, iterations=WINDOW)
    alb = np.zeros((h, w))
    alb[mask] = np.linalg.norm(b0, axis=1)
    m1 = uniform_filter(alb, WINDOW)
    m2 = uniform_filter(alb ** 2, WINDOW)
    spread = np.sqrt(np.maximum(m2 - m1 ** 2, 0.0)) / np.maximum(m1, 1e-12)
    uniform = inner & (spread < ALBEDO_TOL)
    index = np.full((h, w), -1)
    index[mask] = np.arange(int(mask.sum()))
    diffuse = S @ E.T  # (K, P): GBR-invariant, highlight-free
    pixels, images = [], []
    grid = np.full((h, w), -np.inf)
    for k in range(len(S)):
        grid[mask] = np.where(usable, diffuse[k], -np.inf)
        top = grid[valid].max() if valid.any() else 0.0
        if not np.isfinite(top) or top <= 0:
            continue  # an unlit image has no maximum
        peak = (grid == maximum_filter(grid, size=WINDOW)) & uniform & (grid > MIN_LEVEL * top)
        if not peak.any():
            continue
        score = np.where(peak, grid / np.maximum(alb, 1e-12), -np.inf)
        pixels.append(index.flat[int(np.argmax(score))])
        images.append(k)
    return np.array(pixels, dtype=int), np.array(images, dtype=int)


def maxima_residuals(params: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(2M + M,) x and y components of ``unit(n) - unit(l)`` after the GBR ``params``
    (mu, nu, log lam) for M maxima pseudo-normals ``b`` and their images' lights ``s``,
    then ``min(l_z, 0)`` (a light behind the surface makes no maximum)."""
    mu, nu, loglam = params
    bn, sl = apply_gbr((mu, nu, float(np.exp(loglam))), b, s)
    behind = np.minimum(unit(sl)[:, 2], 0.0)
    return np.concatenate([(unit(bn) - unit(sl))[:, :2].ravel(), behind])


def maxima_cost(params: np.ndarray, b: np.ndarray, s: np.ndarray) -> float:
    """Mean robust (Cauchy) misalignment per maximum of :func:`maxima_residuals`."""
    r = maxima_residuals(params, b, s)
    return float(np.log1p((r / LOSS_SCALE) ** 2).sum() / max(len(b), 1))
