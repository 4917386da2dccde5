"""Per-pixel polynomial relighting fits: PTM and hemispherical harmonics.

Every pixel's observations under K known lights are fitted by least squares in a fixed
light basis (:mod:`lambertian.relight.basis`). The design matrix depends on the lights
only, so one pseudo-inverse serves every pixel and the whole fit is a single
``(n, K) @ (K, P C)`` matrix product.

References
----------
T. Malzbender, D. Gelb, H. Wolters, "Polynomial Texture Maps", SIGGRAPH 2001.
P. Gautron, J. Krivanek, S. Pattanaik, K. Bouatouch, "A Novel Hemispherical Basis for
Accurate and Efficient Rendering", EGSR 2004 (HSH, as used by RTIBuilder/RTIViewer).
"""

from __future__ import annotations

import time

import numpy as np

from lambertian.core.errors import InputError
from lambertian.ps.inputs import check_inputs
from lambertian.relight.basis import basis
from lambertian.relight.model import RelightModel

# Relative singular-value cut of the basis matrix: a light set that leaves a basis
# direction unobserved (all lights on one ring, say) is ill-posed, not silently fitted.
BASIS_RCOND = 1e-6


def fit_polynomial(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None,
                   *, kind: str = "hsh9", source: str = "images") -> RelightModel:
    """Fit a PTM or HSH model to every pixel (per channel).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images, already divided by the light
        intensities.
    lights : (K, 3) light directions, project frame (normalised here).
    mask : (H, W) bool pixels to fit (all when None).
    kind : ``ptm`` (6 terms), ``hsh9`` or ``hsh16``.
    source : name used in error messages.

    Returns
    -------
    RelightModel with ``coefficients`` (H, W, C, n) float32, zeros outside the mask.
    """
    t0 = time.perf_counter()
    img, L, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    B = basis(kind, L)  # (K, n)
    n = B.shape[1]
    if k < n:
        raise InputError(source, f"{k} images for a {n}-term {kind} model: need at least {n}")
    s = np.linalg.svd(B, compute_uv=False)
    if s[-1] < BASIS_RCOND * s[0]:
        raise InputError(source, f"the lights do not determine a {kind} model (its basis "
                                 "matrix is singular: lights too few or too regular)")
    pinv = np.linalg.pinv(B).astype(np.float32)  # (n, K)
    idx = np.flatnonzero(m.ravel())
    coef = np.zeros((h * w, c, n), np.float32)
    obs = img.reshape(k, h * w, c)
    # One product per channel keeps the (K, P) operand contiguous.
    for ch in range(c):
        coef[idx, ch, :] = (pinv @ np.ascontiguousarray(obs[:, idx, ch])).T
    return RelightModel(kind, m, coefficients=coef.reshape(h, w, c, n),
                        info={"method": kind, "terms": n,
                              "seconds": time.perf_counter() - t0})


def fit_ptm(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
            source: str = "images") -> RelightModel:
    """PTM fit (Malzbender et al. 2001): 6 coefficients per pixel and channel.
    See :func:`fit_polynomial`."""
    return fit_polynomial(images, lights, mask, kind="ptm", source=source)


def fit_hsh(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
            terms: int = 9, source: str = "images") -> RelightModel:
    """Hemispherical-harmonics fit (Gautron et al. 2004) with 9 or 16 terms per pixel and
    channel. See :func:`fit_polynomial`."""
    if terms not in (9, 16):
        raise ValueError(f"HSH models here have 9 or 16 terms, not {terms}")
    return fit_polynomial(images, lights, mask, kind=f"hsh{terms}", source=source)
