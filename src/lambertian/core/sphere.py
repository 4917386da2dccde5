"""Spheres seen in images: the circle of a sphere's mask and its analytic normals.

Used by the calibration spheres (chrome and matte) and as ground truth for the UW psm
``gray`` sphere. Orthographic camera, project frame (x right, y up, z toward camera).
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError


def fit_circle(mask: np.ndarray, source: str = "mask",
               min_fill: float = 0.9) -> tuple[float, float, float]:
    """Centre (row, column) and radius in pixels of the disc a mask covers.

    The centre is the mask's centroid and the radius follows from its area (both
    sub-pixel and insensitive to a ragged edge); the mask is then checked to be a disc:
    at least ``min_fill`` of the fitted disc covered and of the mask inside the disc.

    Raises
    ------
    InputError : the mask is empty or not a disc.
    """
    m = np.asarray(mask).astype(bool)
    if m.ndim != 2 or not m.any():
        raise InputError(source, "mask is empty: no sphere to fit")
    rows, cols = np.nonzero(m)
    cy, cx = rows.mean(), cols.mean()
    r = float(np.sqrt(rows.size / np.pi))
    yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    overlap = float((disc & m).sum())
    if overlap < min_fill * disc.sum() or overlap < min_fill * m.sum() or r < 3:
        raise InputError(source, f"mask is not a disc ({100 * overlap / max(disc.sum(), 1):.0f}%"
                                 " overlap with the best circle)")
    return float(cy), float(cx), r


def sphere_normals(shape: tuple[int, int], centre: tuple[float, float],
                   radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Analytic unit normals of a sphere under an orthographic camera.

    Parameters
    ----------
    shape : (H, W) of the image.
    centre : (row, column) of the sphere's centre in pixels.
    radius : its radius in pixels.

    Returns
    -------
    normals : (H, W, 3) float64, project frame, zeros outside the disc.
    mask : (H, W) bool, pixels strictly inside the disc.
    """
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    x = (xx - centre[1]) / radius
    y = -(yy - centre[0]) / radius  # image rows grow downward; y is up
    r2 = x * x + y * y
    mask = r2 < 1.0
    z = np.sqrt(np.clip(1.0 - r2, 0.0, None))
    n = np.stack([x, y, z], axis=-1)
    n[~mask] = 0.0
    return n, mask
