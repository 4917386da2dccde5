"""The renderer's scene (mesh, OpenCV camera, ambient + directional light) in Mitsuba 3,
as an independent reference for :mod:`lambertian.render` and as "photos" with cast
shadows for the fitters.

Conventions (all conversions go through :mod:`lambertian.core.frames`):

- Mitsuba's world is the mesh's world frame (the same vertices).
- Camera: Mitsuba's camera-local frame is PyTorch3D's (+x left, +y up, looking along
  +z), ours is OpenCV's; the ``to_world`` matrix maps Mitsuba camera-local points to the
  world, ``X_world = R^T (C X_mitsuba - t)`` with ``C`` the OpenCV <- PyTorch3D axis change.
- Intrinsics: ``fov`` along x from ``fx`` and the window width; the principal point goes
  into ``principal_point_offset_x/y``, which Mitsuba measures in film widths/heights from
  the film centre, positive moving the principal point left/up. Mitsuba's pixel ``i``
  covers ``[i, i + 1)``, OpenCV's integer ``u`` is a pixel centre, so the film centre is
  ``u = (W - 1) / 2``. Pixels are square (``fx == fy``) and the skew is 0.
- Light: the NMR model ``I = albedo (l_a + l_d max(0, n . l))`` becomes a ``diffuse``
  BSDF of reflectance ``albedo`` (which divides by pi), a ``directional`` emitter of
  irradiance ``pi l_d`` whose ``direction`` is the way light travels (``-l``), and a
  ``constant`` environment of radiance ``l_a`` (a diffuse surface under a uniform sky
  of radiance ``L`` that it fully sees reflects ``albedo L``). On a non-convex mesh
  Mitsuba adds what NMR lacks: cast shadows of the directional light and occlusion of
  the ambient sky (and, with ``max_depth > 2``, interreflections).

Requires the optional dependency ``mitsuba`` (``pip install lambertian[mitsuba]``).

Reference: W. Jakob, S. Speierer, N. Roussel, D. Vicini, "Dr.Jit: A Just-In-Time
Compiler for Differentiable Rendering", SIGGRAPH 2022 (Mitsuba 3).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from lambertian.core.errors import InputError
from lambertian.core.frames import (
    project_light_to_mitsuba_direction,
    project_to_opencv,
    pytorch3d_to_project,
)
from lambertian.core.tensors import ArrayLike, as_tensor
from lambertian.render.camera import Camera
from lambertian.render.mesh import Mesh, vertex_normals
from lambertian.render.shade import project_light_to_world
from lambertian.synth.mitsuba_setup import load_mitsuba


def _mitsuba():
    return load_mitsuba("the Mitsuba reference")


def mitsuba_camera_axes_to_opencv() -> np.ndarray:
    """(3, 3) matrix ``C`` with ``X_opencv = C X_mitsuba_camera`` (a candidate helper for
    :mod:`lambertian.core.frames`: Mitsuba's camera-local frame is PyTorch3D's)."""
    eye = np.eye(3)
    return np.asarray(project_to_opencv(pytorch3d_to_project(eye))).T


def mitsuba_to_world(R: ArrayLike, t: ArrayLike) -> np.ndarray:
    """(4, 4) Mitsuba sensor ``to_world`` for the OpenCV pose ``X_cam = R X_world + t``."""
    Rn = np.asarray(as_tensor(R, dtype=torch.float64).detach(), np.float64).reshape(3, 3)
    tn = np.asarray(as_tensor(t, dtype=torch.float64).detach(), np.float64).reshape(3)
    M = np.eye(4)
    M[:3, :3] = Rn.T @ mitsuba_camera_axes_to_opencv()
    M[:3, 3] = -Rn.T @ tn
    return M


def sensor_dict(camera: Camera, spp: int, seed: int = 0) -> dict:
    """Mitsuba ``perspective`` sensor rendering exactly ``camera``'s window."""
    mi = _mitsuba()
    K = np.asarray(camera.K_window.detach(), np.float64)
    W, H = camera.width, camera.height
    if abs(K[0, 0] - K[1, 1]) > 1e-6 * K[0, 0] or abs(K[0, 1]) > 1e-9 * K[0, 0]:
        raise InputError("camera", "the Mitsuba reference needs square pixels (fx == fy) "
                         "and zero skew")
    fov = math.degrees(2.0 * math.atan(W / (2.0 * K[0, 0])))
    return {
        "type": "perspective", "fov": fov, "fov_axis": "x",
        "principal_point_offset_x": ((W - 1) / 2.0 - K[0, 2]) / W,
        "principal_point_offset_y": ((H - 1) / 2.0 - K[1, 2]) / H,
        "near_clip": 1e-3, "far_clip": 1e5,
        "to_world": mi.ScalarTransform4f(mitsuba_to_world(camera.R, camera.t).tolist()),
        "film": {"type": "hdrfilm", "width": W, "height": H, "pixel_format": "rgb",
                 "rfilter": {"type": "box"}},
        "sampler": {"type": "independent", "sample_count": int(spp), "seed": int(seed)},
    }


def mitsuba_mesh(mesh: Mesh, smooth: bool = True, albedo: float = 1.0,
                 bsdf: dict | None = None):
    """A Mitsuba ``Mesh`` with the same vertices and faces (and, when ``smooth``, our
    area-weighted vertex normals, so both renderers interpolate the same normals).
    Its material is a grey ``diffuse`` BSDF of reflectance ``albedo``, or ``bsdf`` (a
    Mitsuba BSDF dictionary) when given."""
    mi = _mitsuba()
    v = mesh.vertices.detach().to(torch.float64)
    f = mesh.faces
    m = mi.Mesh("mesh", v.shape[0], f.shape[0], has_vertex_normals=smooth,
                props=_props(mi, albedo, bsdf))
    params = mi.traverse(m)
    params["vertex_positions"] = v.numpy().astype(np.float32).ravel()
    params["faces"] = f.numpy().astype(np.uint32).ravel()
    if smooth:
        vn = vertex_normals(v, f)
        params["vertex_normals"] = vn.numpy().astype(np.float32).ravel()
    params.update()
    return m


def _props(mi, albedo: float, bsdf: dict | None = None):
    props = mi.Properties()
    props["bsdf"] = mi.load_dict(bsdf or {"type": "diffuse",
                                          "reflectance": {"type": "rgb",
                                                          "value": float(albedo)}})
    return props


def render_mitsuba(mesh: Mesh, camera: Camera, direction: ArrayLike, intensity: float,
                   ambient: float, albedo: float = 1.0, smooth: bool = True, spp: int = 64,
                   seed: int = 0) -> np.ndarray:
    """Render ``mesh`` seen by ``camera`` under ambient + one directional light in Mitsuba.

    Light is linear, so the two lights are rendered apart with Mitsuba's ``direct``
    integrator (no interreflections, as in NMR) and summed: the directional light by
    emitter sampling, the ambient sky by cosine-weighted BSDF sampling only, which is
    exact (zero variance) wherever the surface sees the whole sky, so the only noise left
    is in the sky's occlusion by the mesh itself.

    Parameters
    ----------
    direction : (3,) light vector toward the light, camera project frame (as
        :func:`lambertian.render.render` takes it).
    intensity, ambient : NMR's ``l_d`` and ``l_a``; albedo : grey reflectance.
    spp : samples per pixel; seed : the sampler's seed.

    Returns
    -------
    (H, W) float32 linear grey image of the window (background 0). Pixels are integrated
    over their area (box filter), whereas :func:`lambertian.render.render` samples the
    pixel centre: compare away from silhouette edges.
    """
    mi = _mitsuba()
    d = as_tensor(direction, dtype=torch.float64).reshape(3)
    d = d / d.norm()
    cam64 = Camera(camera.K.detach().double(), camera.R.detach().double(),
                   camera.t.detach().double(), camera.width, camera.height, camera.x0, camera.y0)
    d_world = project_light_to_world(d, cam64).numpy()
    travel = np.asarray(project_light_to_mitsuba_direction(d_world), np.float64)
    lights = [({"type": "directional", "direction": travel.tolist(),
                "irradiance": {"type": "rgb", "value": math.pi * float(intensity)}},
               {"emitter_samples": 1, "bsdf_samples": 0})]
    if ambient > 0:
        lights.append(({"type": "constant", "radiance": {"type": "rgb", "value": float(ambient)}},
                       {"emitter_samples": 0, "bsdf_samples": 1}))
    out = np.zeros((camera.height, camera.width), np.float32)
    for k, (emitter, sampling) in enumerate(lights):
        scene = {"type": "scene",
                 "integrator": {"type": "direct", "hide_emitters": True, **sampling},
                 "sensor": sensor_dict(camera, spp, seed + k),
                 "mesh": mitsuba_mesh(mesh, smooth, albedo),
                 "light": emitter}
        out += np.asarray(mi.render(mi.load_dict(scene)), dtype=np.float32).mean(axis=-1)
    return out
