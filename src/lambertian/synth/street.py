"""A generated street scene: two car-like meshes under one camera, for the scene light fit
(several objects sharing one light, :func:`lambertian.app.mesh_fit.fit_scene_light`)."""

from __future__ import annotations

import math

import numpy as np
import torch

from lambertian.render.camera import look_at_pose
from lambertian.render.mesh import Mesh
from lambertian.synth import meshes


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def two_cars(size: int, subdivisions: int = 2
             ) -> tuple[list[tuple[str, Mesh, np.ndarray, np.ndarray]], np.ndarray]:
    """Two cars (4 m and 3.4 m long, :func:`lambertian.synth.meshes.car`) on one street
    seen from 4 m up and 14 m back; the near car hides part of the far one.

    Returns
    -------
    objects : ``(name, mesh, R (3, 3), t (3,))`` per car, object to OpenCV camera.
    K : (3, 3) intrinsics of a ``size`` x ``size`` image.
    """
    Rc, tc = look_at_pose([0.0, 4.0, 14.0], [0.0, 0.0, 0.0], dtype=torch.float64)
    Rc, tc = Rc.numpy(), tc.numpy()
    objects = [(name, meshes.car(length=length, subdivisions=subdivisions), Rc @ _ry(yaw),
                Rc @ np.array(pos) + tc)
               for name, pos, yaw, length in (("near", [-1.2, 0.0, 1.0], 0.4, 4.0),
                                              ("far", [1.5, 0.0, -2.0], -0.3, 3.4))]
    f = 1.3 * size
    K = np.array([[f, 0.0, (size - 1) / 2], [0.0, f, (size - 1) / 2], [0.0, 0.0, 1.0]])
    return objects, K
