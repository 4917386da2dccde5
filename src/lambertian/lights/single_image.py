"""One image of known geometry -> ambient + directional light.

Given per-pixel normals (measured, or a mesh's rendered normal map) and a mask, the image
is fitted with ``I = albedo (ambient + intensity max(0, n . l))`` by the robust,
shadow-aware linear fit of :mod:`lambertian.lights.lambertian_fit`: attached shadows
are pixels the current light does not reach, cast shadows, highlights and saturation are
Tukey outliers. Uniform albedo is assumed, so ``intensity`` and ``ambient`` are relative
to it. For general (non-point) illumination see :mod:`lambertian.lights.sh`.

Reference: Q. Zheng, R. Chellappa, "Estimation of illuminant direction, albedo, and shape
from shading", PAMI 13(7), 1991.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight
from lambertian.lights.lambertian_fit import fit_directional
from lambertian.ps.inputs import to_grey


def estimate_light(image: np.ndarray, normals: np.ndarray, mask: np.ndarray | None = None, *,
                   ambient: bool = True, saturation: float | None = 0.99,
                   min_cos: float = 0.1, source: str = "image") -> DirectionalLight:
    """Ambient + directional light from one image of known normals.

    Parameters
    ----------
    image : (H, W) or (H, W, C) linear image (colour is reduced to grey with the
        DiLiGenT weights).
    normals : (H, W, 3) unit normals, project frame (zero where unknown).
    mask : (H, W) bool pixels to use (default: where normals are non-zero).
    ambient : fit an ambient term.
    saturation : pixel values at or above this are ignored (clipped highlights).
    min_cos : ``n . l`` below which a pixel counts as in attached shadow.
    source : the image's name for error messages.

    Returns
    -------
    DirectionalLight with unit ``direction``, ``intensity`` and ``ambient`` relative to
    the (assumed uniform) albedo, and ``extra = {"inlier_share", "residual"}``.

    Raises
    ------
    InputError : shapes disagree, or the lit region is too small or too flat to
        constrain a light (reported as unidentifiable, never guessed).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = to_grey(img[None])[0]
    N = np.asarray(normals, dtype=np.float64)
    if N.shape != img.shape + (3,):
        raise InputError(source, f"normals {N.shape} do not match the image {img.shape}")
    m = np.linalg.norm(N, axis=-1) > 0.5
    if mask is not None:
        mk = np.asarray(mask, bool)
        if mk.shape != img.shape:
            raise InputError(source, f"mask {mk.shape} does not match the image {img.shape}")
        m &= mk
    fit = fit_directional(img[m], N[m], ambient=ambient, min_cos=min_cos,
                          saturation=saturation, source=source)
    return DirectionalLight(fit.direction, fit.intensity, fit.ambient,
                            {"inlier_share": float(fit.inliers.mean()),
                             "residual": fit.residual})
