"""Pixels, cameras and depth: the geometry shared by the integrators and the mesh writer.

Depth here is always the distance along the optical axis, growing away from the camera
(as in DiLiGenT's depth_gt.npy). Pixel ``(row, column)`` sits at OpenCV image coordinates
``(u, v) = (column, row)``; with intrinsics ``K`` the 3-D point is
``depth * K^-1 [u, v, 1]`` in the OpenCV camera frame, converted to the project frame
only through :mod:`lambertian.core.frames`. Without ``K`` (orthographic) the point is
``(x, y, z) = (column, -row, -depth)`` in the project frame, in pixel units.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.frames import opencv_to_project, project_to_opencv


def pixel_coordinates(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P,) rows and columns (float64) of the mask's pixels, in row-major order."""
    rows, cols = np.nonzero(np.asarray(mask, bool))
    return rows.astype(np.float64), cols.astype(np.float64)


def gradient_coefficients(normals: np.ndarray, mask: np.ndarray, K: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of the linear equations a normal puts on the depth's differences.

    The tangent vectors of the surface are orthogonal to its normal. With ``n`` in the
    OpenCV frame, ``(a, b, c)``, and ``z`` the unknown, this gives at every pixel

        cu * dz/du + a = 0,    cv * dz/dv + b = 0,

    orthographic: ``z`` is depth in pixel units and ``cu = cv = c``;
    perspective: ``z = log(depth)`` and, with ``u' = u - cx``, ``v' = v - cy``,
    ``cu = a u' + b v' fx / fy + c fx`` and ``cv = a u' fy / fx + b v' + c fy``
    (Y. Queau, J.-D. Durou, J.-F. Aujol, "Normal integration: a survey", JMIV 60, 2018,
    section 2; written multiplied out as in X. Cao et al., "Bilateral Normal Integration",
    ECCV 2022, so that grazing normals (c near 0) give no infinite gradient).

    Parameters
    ----------
    normals : (H, W, 3) unit normals, project frame.
    mask : (H, W) bool.
    K : (3, 3) intrinsics, or None for an orthographic camera.

    Returns
    -------
    cu, cv, a, b : (P,) arrays over the mask's pixels (row-major).
    """
    m = np.asarray(mask, bool)
    n = project_to_opencv(np.asarray(normals, np.float64)[m])
    a, b, c = n[:, 0], n[:, 1], n[:, 2]
    if K is None:
        return c, c.copy(), a, b
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    rows, cols = pixel_coordinates(m)
    u, v = cols - cx, rows - cy
    cu = a * u + b * v * (fx / fy) + c * fx
    cv = a * u * (fy / fx) + b * v + c * fy
    return cu, cv, a, b


def depth_to_points(depth: np.ndarray, mask: np.ndarray, K: np.ndarray | None = None
                    ) -> np.ndarray:
    """(P,) masked depths to (P, 3) float64 points in the project frame (row-major order).

    Perspective (K given): back-projection ``depth * K^-1 [u, v, 1]``; orthographic:
    ``(column, -row, -depth)`` in pixel units.
    """
    m = np.asarray(mask, bool)
    d = np.asarray(depth, np.float64)[m]
    rows, cols = pixel_coordinates(m)
    if K is None:
        return np.stack([cols, -rows, -d], axis=-1)
    rays = np.stack([cols, rows, np.ones_like(cols)], axis=-1) @ np.linalg.inv(K).T
    return opencv_to_project(rays * d[:, None])


def normals_from_depth(depth: np.ndarray, K: np.ndarray | None = None) -> np.ndarray:
    """(H, W) depth (NaN where unknown) -> (H, W, 3) unit normals, project frame.

    Central differences of the back-projected points (one-sided at NaN borders through
    ``np.gradient`` on the filled map, NaN where either neighbour is unknown). Used to
    shade depth maps and to check integrators against known surfaces.
    """
    d = np.asarray(depth, np.float64)
    h, w = d.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    if K is None:
        pts = np.stack([cols, -rows, -d], axis=-1)
    else:
        rays = np.stack([cols, rows, np.ones_like(cols)], axis=-1) @ np.linalg.inv(K).T
        pts = opencv_to_project(rays * d[..., None])
    du = np.gradient(pts, axis=1)  # along columns: toward +x
    dv = np.gradient(pts, axis=0)  # along rows: toward -y
    n = np.cross(dv, du)  # (-y) x (+x) = +z: outward toward the camera
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return n / norm
