"""One image of known geometry -> ambient + directional light.

Given per-pixel normals (measured, or a mesh's rendered normal map) and a mask, the image
is fitted with ``I = albedo (ambient + intensity max(0, n . l))`` by the robust,
shadow-aware linear fit of :mod:`lambertian.lights.lambertian_fit`: attached shadows
are pixels the current light does not reach, cast shadows, highlights and saturation are
Tukey outliers. A colour image is first split into groups of constant albedo by
chromaticity (:mod:`lambertian.lights.albedo_groups`), each with its own unknown albedo,
so printed or painted textures do not bias the light; a grey image assumes uniform
albedo. ``intensity`` and ``ambient`` are relative to the (geometric-mean) albedo. For general
(non-point) illumination see :mod:`lambertian.lights.sh`.

Reference: Q. Zheng, R. Chellappa, "Estimation of illuminant direction, albedo, and shape
from shading", PAMI 13(7), 1991; the albedo groups follow Klinker, Shafer, Kanade,
IJCV 4(1), 1990.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight
from lambertian.io.checks import check_normal_map, check_shading
from lambertian.lights.albedo_groups import chromaticity_groups
from lambertian.lights.lambertian_fit import fit_directional, fit_directional_grouped
from lambertian.ps.inputs import to_grey

# Albedo groups of a colour image: a few paints per object is the common case, and a
# group too many only costs one more free scale (the fit stays identifiable).
ALBEDO_GROUPS = 3


def estimate_light(image: np.ndarray, normals: np.ndarray, mask: np.ndarray | None = None, *,
                   ambient: bool = True, saturation: float | None = 0.99,
                   min_cos: float = 0.1, albedo_groups: int = ALBEDO_GROUPS, seed: int = 0,
                   source: str = "image") -> DirectionalLight:
    """Ambient + directional light from one image of known normals.

    Parameters
    ----------
    image : (H, W) or (H, W, C) linear image (colour is reduced to grey with the
        DiLiGenT weights after its chromaticity has grouped the pixels by albedo).
    normals : (H, W, 3) unit normals, project frame (zero where unknown).
    mask : (H, W) bool pixels to use (default: where normals are non-zero).
    ambient : fit an ambient term.
    saturation : pixel values at or above this are ignored (clipped highlights).
    min_cos : ``n . l`` below which a pixel counts as in attached shadow.
    albedo_groups : albedo groups of a colour image (1: uniform albedo).
    seed : seed of the grouping's k-means.
    source : the image's name for error messages.

    Returns
    -------
    DirectionalLight with unit ``direction``, ``intensity`` and ``ambient`` relative to
    the geometric-mean albedo, and ``notes = {"inlier_share", "residual", "group_albedo"}``.

    Raises
    ------
    InputError : shapes disagree; the normals are not a floating-point map of unit
        vectors where the mask says (:func:`lambertian.io.checks.check_normal_map`, the
        check ``integrate`` makes); or the image or its lit region is too small or too
        flat to constrain a light (:func:`lambertian.io.checks.check_shading`; reported
        as unidentifiable, never guessed).
    """
    img = np.asarray(image, dtype=np.float64)
    colour = img if img.ndim == 3 and img.shape[-1] > 1 else None
    if img.ndim == 3:
        img = to_grey(img[None])[0]
    N = np.asarray(normals)
    if N.shape != img.shape + (3,):
        raise InputError(source, f"normals {N.shape} do not match the image {img.shape}")
    if mask is not None and np.shape(mask) != img.shape:
        raise InputError(source, f"mask {np.shape(mask)} does not match the image {img.shape}")
    # The shared checks (float, finite, unit where the mask says), as `integrate` makes.
    N, m, _ = check_normal_map(N, mask, source="normals", mask_source="mask")
    check_shading(img, m, source=source)
    if colour is not None and albedo_groups > 1:
        labels = chromaticity_groups(colour[m], albedo_groups, saturation=saturation,
                                     seed=seed)
        fit, group_albedo = fit_directional_grouped(img[m], N[m], labels, ambient=ambient,
                                                    min_cos=min_cos, saturation=saturation,
                                                    source=source)
    else:
        fit = fit_directional(img[m], N[m], ambient=ambient, min_cos=min_cos,
                              saturation=saturation, source=source)
        group_albedo = np.ones(1)
    notes = {"inlier_share": float(fit.inliers.mean()), "residual": fit.residual,
             "group_albedo": [float(a) if np.isfinite(a) else None for a in group_albedo]}
    return DirectionalLight(fit.direction, fit.intensity, fit.ambient, notes=notes)
