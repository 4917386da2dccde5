"""Read the inputs of ``lambertian fit``: a grey linear photo, a mask, K.txt, POSE.txt.

Images go through :mod:`lambertian.io` (16 bits kept, bit depth checked); every problem
is a one-line :class:`InputError` naming the file.
"""

from __future__ import annotations

import os

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io import read_image
from lambertian.io import read_mask as _read_mask
from lambertian.ps.inputs import to_grey


def read_grey(path: str | os.PathLike[str]) -> np.ndarray:
    """(H, W) float32 linear grey in [0, 1] from an 8- or 16-bit grey or RGB image
    (0.2989 R + 0.5870 G + 0.1140 B)."""
    img, _ = read_image(path)
    return to_grey(img[None])[0]


def read_mask(path: str | os.PathLike[str], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool mask, checked against the photo's ``shape``."""
    return _read_mask(path, shape)


def read_matrix(path: str | os.PathLike[str], shape: tuple[int, int]) -> np.ndarray:
    """A plain-text matrix of the given shape (whitespace or comma separated)."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError(p, "file not found")
    try:
        with open(p) as f:
            vals = [float(v) for v in f.read().replace(",", " ").split()]
    except ValueError:
        raise InputError(p, "not a plain-text matrix of numbers") from None
    if len(vals) != shape[0] * shape[1]:
        raise InputError(p, f"expected a {shape[0]}x{shape[1]} matrix, found {len(vals)} numbers")
    a = np.asarray(vals, dtype=np.float64).reshape(shape)
    if not np.isfinite(a).all():
        raise InputError(p, "matrix has non-finite entries")
    return a


def read_pose(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """POSE.txt: 3x4 ``[R|t]`` world-to-camera (OpenCV); R must be a rotation."""
    a = read_matrix(path, (3, 4))
    R, t = a[:, :3], a[:, 3]
    from lambertian.render.mesh import MAX_COORDINATE

    if np.abs(t).max() > MAX_COORDINATE:
        raise InputError(path, f"translation {np.abs(t).max():.3g} is beyond {MAX_COORDINATE:g}: "
                               "the renderer's float32 arithmetic would overflow")
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
        raise InputError(path, "the left 3x3 block is not a rotation matrix")
    return R, t
