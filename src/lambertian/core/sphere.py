"""Spheres seen in images: the circle of a sphere's mask and its analytic normals.

Used by the calibration spheres (chrome and matte) and as ground truth for the UW psm
``gray`` sphere. Orthographic camera, project frame (x right, y up, z toward camera).
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError

# Fewest pixels a sphere's mask may have: a disc of radius 3 pixels. Fewer cannot place a
# highlight or a shading gradient on the sphere.
MIN_SPHERE_PIXELS = int(np.ceil(np.pi * 3**2))  # 29


def _sphere_mask(mask: np.ndarray, source: str) -> np.ndarray:
    """(H, W) bool ``mask``, or InputError naming ``source`` when it is empty or too small
    for a sphere (the checks of both fits)."""
    m = np.asarray(mask).astype(bool)
    if m.ndim != 2 or not m.any():
        raise InputError(source, "mask is empty: no sphere to fit")
    n = int(m.sum())
    if n < MIN_SPHERE_PIXELS:
        raise InputError(source, f"mask has only {n} pixel{'' if n == 1 else 's'}: too small "
                                 f"for a sphere (at least {MIN_SPHERE_PIXELS}, a disc of "
                                 "radius 3)")
    return m


def fit_circle(mask: np.ndarray, source: str = "mask",
               min_fill: float = 0.9) -> tuple[float, float, float]:
    """Centre (row, column) and radius in pixels of the disc a mask covers.

    The centre is the mask's centroid and the radius follows from its area (both
    sub-pixel and insensitive to a ragged edge); the mask is then checked to be a disc:
    at least ``min_fill`` of the fitted disc covered and of the mask inside the disc.

    Raises
    ------
    InputError : the mask is empty, too small or not a disc.
    """
    m = _sphere_mask(mask, source)
    if m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any():
        # The centroid and area of a cut disc are not its centre and radius.
        raise InputError(source, "mask touches the image border: the sphere is cut by the "
                                 "frame, so its circle cannot be fitted (a chrome sphere "
                                 "calibrates with the camera's intrinsics instead)")
    rows, cols = np.nonzero(m)
    cy, cx = rows.mean(), cols.mean()
    r = float(np.sqrt(rows.size / np.pi))
    yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    overlap = float((disc & m).sum())
    if overlap < min_fill * disc.sum() or overlap < min_fill * m.sum():
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


def pixel_rays(rows: np.ndarray, cols: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Unit viewing rays through pixels (integer coordinates at pixel centres).

    Returns (..., 3) float64 in the OpenCV camera frame (x right, y down, z forward).
    """
    K = np.asarray(K, np.float64)
    uv1 = np.stack([np.asarray(cols, np.float64), np.asarray(rows, np.float64),
                    np.ones(np.shape(rows))], axis=-1)
    d = uv1 @ np.linalg.inv(K).T
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def fit_sphere_cone(mask: np.ndarray, K: np.ndarray, source: str = "mask",
                    min_fill: float = 0.9) -> tuple[np.ndarray, float]:
    """The cone of viewing rays tangent to a sphere, from its mask (perspective camera).

    A sphere seen by a pinhole camera fills the circular cone of rays ``d . c >= cos a``
    around the direction ``c`` of its centre, with ``sin a = R / |C|``; its image is an
    ellipse, not a circle, once it is off the optical axis. The edge rays satisfy the
    linear equation ``d . w = 1`` with ``w = c / cos a``, solved in least squares over
    the mask's edge (mid-points between each edge pixel and its outside neighbour; the
    image border is not an edge, so a sphere cut by the frame is still fitted).

    Parameters
    ----------
    mask : (H, W) bool, the sphere's pixels (checked: at least ``min_fill`` of the fitted
        cone's pixels covered and of the mask inside it).
    K : (3, 3) intrinsics, OpenCV convention, pixels.

    Returns
    -------
    centre_ray : (3,) unit direction of the sphere's centre, OpenCV camera frame.
    sin_alpha : sine of the cone's half-angle: the sphere's radius when its centre is
        placed at distance 1 (the scale a single view cannot recover).
    """
    m = _sphere_mask(mask, source)
    # Pad with "inside" so that where the frame cuts the sphere there is no edge.
    pad = np.pad(m, 1, constant_values=True)
    pts = []
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        out = ~pad[1 + dr:pad.shape[0] - 1 + dr, 1 + dc:pad.shape[1] - 1 + dc]
        r, c = np.nonzero(m & out)
        pts.append(np.stack([r + dr / 2, c + dc / 2], axis=1))
    edge = np.concatenate(pts)
    if len(edge) < 8:
        raise InputError(source, "mask has too little visible edge to fit the sphere")
    d = pixel_rays(edge[:, 0], edge[:, 1], K)
    w = np.linalg.lstsq(d, np.ones(len(d)), rcond=None)[0]
    cos_a = 1.0 / np.linalg.norm(w)
    centre_ray = w * cos_a
    rows, cols = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    cone = pixel_rays(rows, cols, K) @ centre_ray >= cos_a
    overlap = float((cone & m).sum())
    if overlap < min_fill * cone.sum() or overlap < min_fill * m.sum() or cos_a >= 1.0:
        share = 100 * overlap / max(cone.sum(), 1)
        raise InputError(source, f"mask is not the image of a sphere ({share:.0f}% overlap "
                                 "with the best fitting cone)")
    return centre_ray, float(np.sqrt(max(1.0 - cos_a * cos_a, 0.0)))
