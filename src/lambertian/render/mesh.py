"""Triangle mesh container and mesh files (OBJ, PLY, GLB, ... through trimesh).

Faces are counter-clockwise seen from outside, so ``(v1 - v0) x (v2 - v0)`` points out
of the surface (trimesh's convention). Vertices are in the mesh's world frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from lambertian.core.errors import InputError
from lambertian.core.tensors import ArrayLike, as_tensor
from lambertian.io.matrix import MAX_COORDINATE


@dataclass
class Mesh:
    """``vertices`` (V, 3) float (may require grad), ``faces`` (F, 3) int64,
    optional per-vertex ``albedo`` (V,) grey or (V, C) colour."""

    vertices: torch.Tensor
    faces: torch.Tensor
    albedo: torch.Tensor | None = None

    @classmethod
    def create(cls, vertices: ArrayLike, faces: ArrayLike, albedo: ArrayLike | None = None,
               dtype: torch.dtype = torch.float32) -> Mesh:
        v = as_tensor(vertices, dtype=dtype).reshape(-1, 3)
        f = torch.as_tensor(np.asarray(faces) if not isinstance(faces, torch.Tensor) else faces)
        f = f.to(torch.int64).reshape(-1, 3)
        a = None if albedo is None else as_tensor(albedo, dtype=dtype)
        return cls(v, f, a)

    @property
    def num_faces(self) -> int:
        return int(self.faces.shape[0])

    def face_vertices(self, vertices: torch.Tensor | None = None) -> torch.Tensor:
        """(F, 3, 3) corner positions of every face."""
        v = self.vertices if vertices is None else vertices
        return v[self.faces]

    def to(self, dtype: torch.dtype) -> Mesh:
        a = None if self.albedo is None else self.albedo.to(dtype)
        return Mesh(self.vertices.to(dtype), self.faces, a)


def face_normals(face_verts: torch.Tensor) -> torch.Tensor:
    """Unit outward normals (F, 3) of faces given as (F, 3, 3) corners."""
    n = torch.linalg.cross(face_verts[:, 1] - face_verts[:, 0], face_verts[:, 2] - face_verts[:, 0])
    return n / n.norm(dim=-1, keepdim=True).clamp_min(1e-20)


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals (V, 3) (differentiable in ``vertices``)."""
    fv = vertices[faces]
    n = torch.linalg.cross(fv[:, 1] - fv[:, 0], fv[:, 2] - fv[:, 0])  # length = 2 area
    acc = torch.zeros_like(vertices).index_add(0, faces.reshape(-1), n.repeat_interleave(3, 0))
    return acc / acc.norm(dim=-1, keepdim=True).clamp_min(1e-20)


# Coordinates beyond MAX_COORDINATE overflow the float32 renderer: products of two of
# them (edge functions, squared distances) must stay below float32's 3.4e38.


def load_mesh(path: str | os.PathLike[str], dtype: torch.dtype = torch.float32) -> Mesh:
    """Read a triangle mesh (OBJ, PLY, GLB/GLTF, STL, OFF) with trimesh, or an ApolloCar3D
    JSON car mesh (``.json``, :func:`lambertian.io.apollocar.read_car_mesh`: in the frame
    its pose rows rotate).

    Scenes (GLB) are flattened into one mesh in the scene's world frame. Colours in the
    file are ignored (albedo ``None`` = 1): only albedo x intensity is identifiable anyway.
    """
    import trimesh

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError(p, "mesh file not found")
    if p.lower().endswith(".json"):
        from lambertian.io.apollocar import read_car_mesh

        v, f = read_car_mesh(p)
        return Mesh.create(v, f, dtype=dtype)
    try:
        loaded = trimesh.load(p, force="mesh", process=False)
    except Exception as err:  # trimesh raises many types for unreadable files
        raise InputError(p, f"cannot read mesh ({type(err).__name__}: {err})") from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise InputError(p, "no triangles in the mesh file")
    v = np.asarray(loaded.vertices, dtype=np.float64)
    if not np.isfinite(v).all():
        raise InputError(p, "mesh has non-finite vertex coordinates")
    if np.abs(v).max(initial=0.0) > MAX_COORDINATE:
        raise InputError(p, f"mesh has a vertex coordinate of {np.abs(v).max():.3g}, beyond "
                            f"{MAX_COORDINATE:g}: the renderer's float32 arithmetic would "
                            "overflow (wrong units?)")
    f = np.asarray(loaded.faces, dtype=np.int64)
    check_faces(f, len(v), p)
    # faces of zero area (repeated or collinear corners) render nothing: a mesh of only
    # those would be reported later as "covers no mask pixels", naming the mask
    area2 = np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)
    if not (area2 > 0).any():
        raise InputError(p, f"every one of the {len(f)} triangles has zero area (repeated or "
                            "collinear corners)")
    return Mesh.create(v, f, dtype=dtype)


def check_faces(faces: np.ndarray, num_vertices: int, source: str | os.PathLike[str]) -> None:
    """InputError naming ``source`` unless every index of the (F, 3) ``faces`` lies in
    ``[0, num_vertices)``: a PLY's index past the end would fail inside the renderer
    without the file's name, and a negative one would silently wrap to the last vertices
    (torch indexing)."""
    if faces.size and (faces.min() < 0 or faces.max() >= num_vertices):
        raise InputError(source, f"faces index vertices {int(faces.min())}..{int(faces.max())} "
                                 f"but the mesh has {num_vertices} (0..{num_vertices - 1})")


def save_mesh(mesh: Mesh, path: str | os.PathLike[str]) -> None:
    """Write a mesh with trimesh (format from the file extension)."""
    import trimesh

    tm = trimesh.Trimesh(mesh.vertices.detach().cpu().numpy(), mesh.faces.cpu().numpy(),
                         process=False)
    tm.export(os.fspath(path))
