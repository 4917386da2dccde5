"""The one reader of small plain-text matrices: ``K.txt`` (3 x 3 intrinsics, OpenCV
convention, pixels) and ``POSE.txt`` (3 x 4 ``[R|t]``, world to camera, OpenCV).

Every problem is a one-line :class:`~lambertian.core.errors.InputError` naming the file.
"""

from __future__ import annotations

import os

import numpy as np

from lambertian.core.errors import InputError

# Coordinates beyond this overflow the float32 renderer (lambertian.render.mesh uses the
# same bound for meshes): products of two of them must stay below float32's 3.4e38.
MAX_COORDINATE = 1e15

# Plausible intrinsics, in pixels. Real focal lengths run from ~10^2 (fisheye, small
# sensors) to ~10^6 (long telephoto on large sensors); principal points sit within a few
# image sizes of the image. Beyond these bounds the perspective integrator's coefficients
# (products such as (u - cx) * fx / fy, squared in its normal equations) and the float32
# depth and mesh overflow or lose every digit: NaN depth, "array must not contain infs".
MIN_FOCAL = 1e-3
MAX_FOCAL = 1e9
MAX_PRINCIPAL_POINT = 1e9
# fx / fy is the pixel aspect ratio: 1 for square pixels, 2 for the widest anamorphic
# lenses. At 1e12 (fx 1e9, fy 1e-3) the bilateral integrator's preconditioner breaks down.
MAX_ASPECT = 1e3


def read_matrix(path: str | os.PathLike[str], shape: tuple[int, int]) -> np.ndarray:
    """A plain-text matrix of the given shape (whitespace or comma separated), float64."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError(p, "file not found")
    try:
        with open(p) as f:
            vals = [float(v) for v in f.read().replace(",", " ").split()]
    except (ValueError, UnicodeDecodeError, OSError):
        raise InputError(p, "not a plain-text matrix of numbers") from None
    if len(vals) != shape[0] * shape[1]:
        raise InputError(p, f"expected a {shape[0]}x{shape[1]} matrix, found {len(vals)} numbers")
    a = np.asarray(vals, dtype=np.float64).reshape(shape)
    if not np.isfinite(a).all():
        raise InputError(p, "matrix has non-finite entries")
    return a


def check_camera(K: np.ndarray, source: str | os.PathLike[str] = "camera") -> np.ndarray:
    """(3, 3) float64 pinhole intrinsics ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``, or
    InputError (wrong shape, non-finite, non-positive or implausible focal lengths or
    pixel aspect ratio, a principal point beyond :data:`MAX_PRINCIPAL_POINT`, skew)."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise InputError(source, f"intrinsics must be a 3 x 3 matrix, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise InputError(source, "intrinsics hold NaN or infinite values")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise InputError(source, f"focal lengths must be positive, got fx={K[0, 0]:g}, "
                                 f"fy={K[1, 1]:g} (a singular or non-camera matrix)")
    f = (K[0, 0], K[1, 1])
    if min(f) < MIN_FOCAL or max(f) > MAX_FOCAL:
        raise InputError(source, f"focal lengths fx={f[0]:g}, fy={f[1]:g} are not plausible: "
                                 f"they must lie between {MIN_FOCAL:g} and {MAX_FOCAL:g} "
                                 "pixels")
    if max(f[0] / f[1], f[1] / f[0]) > MAX_ASPECT:
        raise InputError(source, f"focal lengths fx={f[0]:g}, fy={f[1]:g} are not plausible: "
                                 f"their ratio (the pixel aspect ratio) is beyond "
                                 f"{MAX_ASPECT:g}")
    if max(abs(K[0, 2]), abs(K[1, 2])) > MAX_PRINCIPAL_POINT:
        raise InputError(source, f"principal point ({K[0, 2]:g}, {K[1, 2]:g}) is not "
                                 f"plausible: it must lie within {MAX_PRINCIPAL_POINT:g} "
                                 "pixels of the image origin")
    if not np.allclose(K[2], [0.0, 0.0, 1.0]) or K[1, 0] != 0.0:
        raise InputError(source, "last row must be [0 0 1] and K[1, 0] zero")
    if abs(K[0, 1]) > 1e-9 * K[0, 0]:
        raise InputError(source, "skewed cameras (K[0, 1] != 0) are not supported")
    return K


def read_camera(path: str | os.PathLike[str]) -> np.ndarray:
    """K.txt: (3, 3) intrinsics, checked by :func:`check_camera`."""
    return check_camera(read_matrix(path, (3, 3)), path)


def read_pose(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """POSE.txt: 3x4 ``[R|t]`` world-to-camera (OpenCV); R must be a rotation."""
    a = read_matrix(path, (3, 4))
    R, t = a[:, :3], a[:, 3]
    if np.abs(t).max() > MAX_COORDINATE:
        raise InputError(path, f"translation {np.abs(t).max():.3g} is beyond {MAX_COORDINATE:g}: "
                               "the renderer's float32 arithmetic would overflow")
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
        raise InputError(path, "the left 3x3 block is not a rotation matrix")
    return R, t
