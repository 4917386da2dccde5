"""Resolving the GBR ambiguity from specular highlights.

At the peak of a highlight the surface normal bisects the light and the viewer:
``n ~ l + v`` with ``v = (0, 0, 1)`` for an orthographic camera. The diffuse factorisation
is blind to highlights, so they show as the largest positive residuals
``I - max(0, e . s)``; the peak's pseudo-normal (fitted from the other, diffuse
observations of that pixel) and the image's pseudo-light must then satisfy the bisector
condition after the right GBR transformation. Each image with a highlight gives two
equations for the three GBR parameters, so a handful of images fix it; a robust loss
absorbs images whose brightest residual is not a highlight (interreflections, shadow
edges).

Reference: O. Drbohlav, M. Chantler, "Can two specular pixels calibrate photometric
stereo?", ICCV 2005.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import least_squares

from lambertian.lights.gbr import apply_gbr, unit

VIEW = np.array([0.0, 0.0, 1.0])
# Robust loss scale of the bisector residual (radians): highlights further than about
# this from the fit count less and less (a Cauchy loss).
LOSS_SCALE = 0.05
# Coarse search of (mu, nu, log lam) before the local refinement.
GRID_MU = np.linspace(-1.5, 1.5, 13)
GRID_LOG_LAM = np.linspace(-1.6, 1.6, 17)
# Bounds of the refinement: beyond them the relief is flattened or stretched past any
# physical capture (and the fit drifts along the ambiguity's degenerate directions).
BOUND_MU = 3.0
BOUND_LOG_LAM = 3.0


def highlight_peaks(I: np.ndarray, E: np.ndarray, S: np.ndarray, usable: np.ndarray,
                    min_strength: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the pixel with the largest positive residual over the diffuse fit.

    Parameters
    ----------
    I : (K, P) observations; E : (P, 3) pseudo-normals; S : (K, 3) pseudo-lights (any
        common basis: the residual does not depend on it).
    usable : (P,) bool pixels whose pseudo-normal is reliable.
    min_strength : a peak counts as a highlight when its residual is at least this times
        the image's median diffuse prediction over lit pixels.

    Returns
    -------
    peak : (K,) pixel index of each image's peak; strength : (K,) residual over the
    median diffuse level (images with ``strength < min_strength`` get peak -1).
    """
    pred = S @ E.T
    resid = np.where(usable[None, :] & (pred > 0), I - np.clip(pred, 0, None), -np.inf)
    peak = np.argmax(resid, axis=1)
    top = resid[np.arange(len(peak)), peak]
    lit = np.where(pred > 0, pred, np.nan)
    with warnings.catch_warnings():
        # A black image has no lit pixel: its level is NaN and it gets no highlight.
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmedian(np.where(usable[None, :], lit, np.nan), axis=1)
    strength = top / np.maximum(level, 1e-12)
    peak = np.where(strength >= min_strength, peak, -1)
    return peak, strength


def bisector_residuals(params: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(2K,) x and y components of ``unit(n) - unit(unit(l) + v)`` after the GBR ``params``
    (mu, nu, log lam) for K peak pseudo-normals ``b`` and their images' lights ``s``."""
    mu, nu, loglam = params
    bn, sl = apply_gbr((mu, nu, np.exp(loglam)), b, s)
    h = unit(unit(sl) + VIEW)
    # A light behind the surface cannot make a highlight: l_z < 0 costs like a miss.
    behind = np.minimum(unit(sl)[:, 2], 0.0)
    return np.concatenate([(unit(bn) - h)[:, :2].ravel(), behind])


def bisector_error_deg(params: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(M,) angle in degrees between each peak normal and the bisector of its light and
    the viewer after the GBR ``params`` = (mu, nu, lam); b, s as in
    :func:`resolve_gbr_specular`. Used to check a GBR found by another cue."""
    bn, sl = apply_gbr(tuple(params), b, s)
    cos = np.sum(unit(bn) * unit(unit(sl) + VIEW), axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def resolve_gbr_specular(b: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, float]:
    """GBR parameters (mu, nu, lam > 0) that best make each peak normal bisect its light
    and the viewer (Drbohlav & Chantler 2005), by a coarse grid then robust least squares.

    b : (M, 3) pseudo-normals at highlight peaks, integrable basis; s : (M, 3) the lights
    of those images. Returns the parameters and the median bisector error in degrees.
    """
    best, best_cost = None, np.inf
    for mu in GRID_MU:
        for nu in GRID_MU:
            r = np.stack([bisector_residuals(np.array([mu, nu, t]), b, s)
                          for t in GRID_LOG_LAM])
            cost = np.log1p((r / LOSS_SCALE) ** 2).sum(axis=1)
            j = int(np.argmin(cost))
            if cost[j] < best_cost:
                best, best_cost = np.array([mu, nu, GRID_LOG_LAM[j]]), cost[j]
    lo = np.array([-BOUND_MU, -BOUND_MU, -BOUND_LOG_LAM])
    fit = least_squares(bisector_residuals, best, args=(b, s), loss="cauchy",
                        f_scale=LOSS_SCALE, bounds=(lo, -lo))
    mu, nu, loglam = fit.x
    params = np.array([mu, nu, np.exp(loglam)])
    return params, float(np.median(bisector_error_deg(params, b, s)))
