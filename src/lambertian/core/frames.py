"""The one module that converts between coordinate conventions. Nothing else converts.

Conventions
-----------
project (DiLiGenT's)
    x right, y up, z toward the camera. Normals point out of the surface; light vectors
    point from the surface toward the light. Image row ``r`` maps to ``y = -r`` and
    column ``c`` to ``x = c``.
OpenCV camera
    x right, y down, z forward (away from the camera); ``X_cam = R X_world + t``.
    The renderer's camera uses it. ``project = diag(1, -1, -1) @ opencv``.
PyTorch3D view
    +x left, +y up, +z forward (into the scene); its light vectors point toward the
    light like ours. ``project = diag(-1, 1, -1) @ pytorch3d``.
Mitsuba 3
    a camera's local frame is PyTorch3D's (+x left, +y up, looking along +z); a
    directional emitter's ``direction`` is the direction the light *travels*, i.e. the
    negative of our light vector. Scenes built by this package put Mitsuba's world axes
    on the project frame (camera at +z looking at the origin, +y up), so only the sign
    of light directions changes.

All functions take (..., 3) arrays or tensors and return the same kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # tensors are handled without importing torch (``import lambertian`` stays light)
    from lambertian.core.tensors import ArrayLike

_OPENCV = (1.0, -1.0, -1.0)
_PYTORCH3D = (-1.0, 1.0, -1.0)


def _flip(v: ArrayLike, signs: tuple[float, float, float]) -> ArrayLike:
    if hasattr(v, "new_tensor"):  # a torch tensor: keep its dtype and device
        return v * v.new_tensor(signs)
    return np.asarray(v) * np.asarray(signs, dtype=np.result_type(np.asarray(v), np.float32))


def opencv_to_project(v: ArrayLike) -> ArrayLike:
    """Vectors in the OpenCV camera frame (y down, z forward) to the project frame."""
    return _flip(v, _OPENCV)


def project_to_opencv(v: ArrayLike) -> ArrayLike:
    """Vectors in the project frame to the OpenCV camera frame (its own inverse)."""
    return _flip(v, _OPENCV)


def pytorch3d_to_project(v: ArrayLike) -> ArrayLike:
    """Vectors in PyTorch3D view coordinates (+x left, +y up, +z forward) to ours."""
    return _flip(v, _PYTORCH3D)


def project_to_pytorch3d(v: ArrayLike) -> ArrayLike:
    """Vectors in the project frame to PyTorch3D view coordinates."""
    return _flip(v, _PYTORCH3D)


def project_light_to_mitsuba_direction(light: ArrayLike) -> ArrayLike:
    """Our light vector (toward the light) to a Mitsuba ``directional`` emitter's
    ``direction`` (the way light travels), in a world whose axes are the project frame."""
    return -light


def mitsuba_direction_to_project_light(direction: ArrayLike) -> ArrayLike:
    """Inverse of :func:`project_light_to_mitsuba_direction`."""
    return -direction


def pytorch3d_light_to_project(light: ArrayLike) -> ArrayLike:
    """A PyTorch3D light location/direction in view space to our light vector."""
    return _flip(light, _PYTORCH3D)


def pixel_to_project_xy(rows: ArrayLike, cols: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """Pixel (row, column) to project-frame (x, y): x = column, y = -row."""
    return cols, -rows


def yaleb_light(azimuth_deg: ArrayLike, elevation_deg: ArrayLike) -> np.ndarray:
    """Yale B file-name angles (A, E in degrees) to a unit light vector, project frame.

    ``L = (-cos E sin A, sin E, cos E cos A)`` (see the data README).
    """
    a = np.deg2rad(np.asarray(azimuth_deg, dtype=np.float64))
    e = np.deg2rad(np.asarray(elevation_deg, dtype=np.float64))
    return np.stack([-np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)], axis=-1)


def normal_to_rgb(normals: np.ndarray) -> np.ndarray:
    """Unit normals to the conventional colour code ``(n + 1) / 2`` in [0, 1]."""
    return (np.asarray(normals) + 1.0) * 0.5


def rgb_to_normal(rgb: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normal_to_rgb` (not renormalised)."""
    return np.asarray(rgb) * 2.0 - 1.0
