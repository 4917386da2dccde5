"""Several known objects in one photo: one mesh for the renderer, and which object each
face (and so each pixel) belongs to.

The objects are placed in the OpenCV camera frame by their own poses and concatenated;
the scene is then seen by a camera at the origin (``R = I``, ``t = 0``). One rasterization
gives the mutual occlusions, and the shadow maps and sky visibility of
:func:`lambertian.fit.light.mesh_visibility` on this mesh give the shadows the objects
cast on each other, so the one ambient + directional light of the photo is fitted to all
objects at once (seed 001: "two cars for one image to have a more liable update").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lambertian.core.errors import InputError
from lambertian.render.mesh import Mesh


@dataclass
class SceneObject:
    """One object: ``mesh`` (its own frame), pose ``R`` (3, 3), ``t`` (3,) (OpenCV,
    ``X_cam = R X_mesh + t``), optional ``mask`` (H, W) bool of its visible pixels in
    the full photo, and a ``name`` for messages and results."""

    mesh: Mesh
    R: np.ndarray
    t: np.ndarray
    mask: np.ndarray | None = None
    name: str = "object"
    # what errors name: the SCENE.json and the object (its name alone names no file)
    source: str | None = None

    @property
    def who(self) -> str:
        return self.source or self.name


def camera_depths(mesh: Mesh, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(V,) depth z of each vertex of ``mesh`` in the camera frame at the pose (R, t)
    (OpenCV: z forward; ``t`` as (3,) or (3, 1))."""
    v = mesh.vertices.detach().double().numpy()
    return v @ np.asarray(R, np.float64)[2] + float(np.asarray(t, np.float64).ravel()[2])


def check_in_front(obj: SceneObject) -> None:
    """InputError when any of the object's vertices is not in front of the camera (the
    rasterizer drops such faces, which would make the fit silently wrong)."""
    z = camera_depths(obj.mesh, obj.R, obj.t)
    if z.max() <= 0:
        raise InputError(obj.who, f"the object is behind the camera (its nearest point has "
                                   f"z = {z.max():.3g})")
    if z.min() <= 0:
        raise InputError(obj.who, f"the object crosses the camera's plane (z from "
                                   f"{z.min():.3g} to {z.max():.3g}): move it in front")


def merge_objects(objects: list[SceneObject], dtype: torch.dtype = torch.float32
                  ) -> tuple[Mesh, torch.Tensor]:
    """All objects in the OpenCV camera frame as one mesh.

    Returns
    -------
    mesh : vertices (sum V_i, 3) ``R_i X + t_i``, faces (sum F_i, 3) re-indexed.
    owner : (sum F_i,) int64, the index of the object each face belongs to.
    """
    verts, faces, owner = [], [], []
    base = 0
    for i, o in enumerate(objects):
        check_in_front(o)
        R = torch.as_tensor(np.asarray(o.R), dtype=torch.float64)
        t = torch.as_tensor(np.asarray(o.t), dtype=torch.float64).reshape(3)
        v = o.mesh.vertices.detach().to(torch.float64) @ R.T + t
        verts.append(v.to(dtype))
        faces.append(o.mesh.faces + base)
        owner.append(torch.full((o.mesh.num_faces,), i, dtype=torch.int64))
        base += int(v.shape[0])
    return Mesh(torch.cat(verts), torch.cat(faces)), torch.cat(owner)


def pixel_owner(face: torch.Tensor, owner: torch.Tensor) -> torch.Tensor:
    """(H, W) int64 index of the object each pixel sees (-1 for background), from the
    rasterizer's visible ``face`` (H, W) and the faces' ``owner`` (F,)."""
    return torch.where(face >= 0, owner[face.clamp_min(0)], torch.full_like(face, -1))


def silhouette_iou(rendered: np.ndarray, mask: np.ndarray) -> float:
    """Intersection over union of two (H, W) bool masks (1 when both are empty)."""
    union = np.logical_or(rendered, mask).sum()
    return float(np.logical_and(rendered, mask).sum() / union) if union else 1.0
