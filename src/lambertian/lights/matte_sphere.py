"""Light directions and intensities from a matte (Lambertian) calibration sphere.

The sphere's circle gives its normals analytically (orthographic camera); each image is
then a shadow-aware robust fit of ``I = c + b . n`` (see
:mod:`lambertian.lights.lambertian_fit`): ``l = b / |b|`` and the relative intensity is
``|b|`` (the sphere's albedo is one unknown common scale).

Reference: Q. Zheng, R. Chellappa, PAMI 13(7), 1991; calibration by a diffuse sphere as in
Y. Zhang, "Multiple illuminant direction detection with application to image synthesis",
PAMI 23(8), 2001.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import LightSet
from lambertian.core.sphere import fit_circle, sphere_normals
from lambertian.lights.lambertian_fit import fit_directional

# Drop a thin rim: its normals are most sensitive to a small error in the circle.
RIM = 0.95


def matte_sphere_lights(images: np.ndarray, mask: np.ndarray, *,
                        circle: tuple[float, float, float] | None = None,
                        saturation: float | None = 0.99, ambient: bool = True,
                        names: Sequence[str] | None = None,
                        source: str = "sphere") -> LightSet:
    """Per-image light direction and relative intensity from a Lambertian sphere.

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images (C channels averaged).
    mask : (H, W) bool, the sphere's disc (checked to be a disc).
    circle : optional (row, column, radius), else fitted to ``mask``.
    saturation : values at or above this are ignored (None keeps all).
    ambient : fit an ambient term per image.
    names : K names for error messages.

    Returns
    -------
    LightSet with ``directions`` (K, 3) unit light vectors (project frame),
    ``intensities`` (K,) and ``ambient`` (K,) relative to the sphere's albedo, and
    ``notes`` {"circle", "inlier_share": (K,)}.
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim == 4:
        imgs = imgs.mean(axis=-1)
    m = np.asarray(mask, bool)
    if imgs.ndim != 3 or m.shape != imgs.shape[1:]:
        raise InputError(source, f"images {imgs.shape} and mask {m.shape} do not match")
    cy, cx, r = fit_circle(m, source) if circle is None else circle
    normals, disc = sphere_normals(m.shape, (cy, cx), r)
    sel = disc & m & (normals[..., 2] > np.sqrt(1.0 - RIM * RIM))
    given_names = names
    names = list(names) if names is not None else [f"image {k}" for k in range(len(imgs))]
    dirs = np.zeros((len(imgs), 3))
    ints = np.zeros(len(imgs))
    amb = np.zeros(len(imgs))
    share = np.zeros(len(imgs))
    for k, img in enumerate(imgs):
        fit = fit_directional(img[sel], normals[sel], ambient=ambient, saturation=saturation,
                              source=names[k])
        dirs[k], ints[k], amb[k] = fit.direction, fit.intensity, fit.ambient
        share[k] = fit.inliers.mean()
    return LightSet(dirs, ints, amb, names=given_names, method="matte sphere",
                    notes={"circle": (cy, cx, r), "inlier_share": share})
