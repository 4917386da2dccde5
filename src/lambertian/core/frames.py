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


# --- ApolloCar3D (the car set of the Peking University / Baidu driving competition) ---
#
# The car meshes' files have y pointing *down* the car's height with the roof at -y
# (checked on the files: the slab at min y is 1.3 m wide, the roof; at max y it spans the
# wheels). The competition's pose rows (model id, a1, a2, a3, x, y, z) apply to the
# mesh with y negated first: X_cam = R X_model + (x, y, z), OpenCV camera frame, with
# R = (Ry(-a2) Rx(-a1) Rz(-a3))^T = Rz(a3) Rx(a1) Ry(a2) (right-handed rotations about
# the camera's axes). An upright car therefore has a3 close to +-pi.

_APOLLOCAR_FILE = (1.0, -1.0, 1.0)


def apollocar_file_to_model(vertices: ArrayLike) -> ArrayLike:
    """ApolloCar3D mesh-file vertices (..., 3) to the model frame the pose rows rotate
    (y negated; its own inverse). Negating one axis mirrors the mesh, so the faces'
    winding must be reversed to keep normals outward (done by the mesh reader)."""
    return _flip(vertices, _APOLLOCAR_FILE)


def apollocar_pose_to_rt(a1: float, a2: float, a3: float, x: float, y: float, z: float
                         ) -> tuple[np.ndarray, np.ndarray]:
    """A pose row's angles (radians) and position (metres) to an object-to-camera pose.

    Returns ``R`` (3, 3) = Rz(a3) Rx(a1) Ry(a2) and ``t`` (3,) = (x, y, z), so that
    ``X_cam = R X_model + t`` (OpenCV camera frame; model frame of
    :func:`apollocar_file_to_model`).
    """
    from scipy.spatial.transform import Rotation

    # intrinsic "ZXY" is the matrix product Rz(a3) Rx(a1) Ry(a2)
    R = Rotation.from_euler("ZXY", [a3, a1, a2]).as_matrix()
    return R, np.array([x, y, z], dtype=np.float64)


def rt_to_apollocar_pose(R: ArrayLike, t: ArrayLike) -> tuple[float, float, float, float,
                                                              float, float]:
    """Inverse of :func:`apollocar_pose_to_rt`: ``(a1, a2, a3, x, y, z)`` with a1 in
    [-pi/2, pi/2] and a2, a3 in (-pi, pi] (the angles of a rotation are unique there,
    except at a1 = +-pi/2)."""
    from scipy.spatial.transform import Rotation

    a3, a1, a2 = Rotation.from_matrix(np.asarray(R, dtype=np.float64)).as_euler("ZXY")
    x, y, z = (float(v) for v in np.asarray(t, dtype=np.float64).reshape(3))
    return float(a1), float(a2), float(a3), x, y, z
