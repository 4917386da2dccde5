"""Depth maps to triangle meshes with per-vertex normals and albedo colours (PLY)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.integrate.geometry import depth_to_points
from lambertian.io.camera_files import linear_to_srgb

# Albedo colours: this percentile of the masked albedo maps to white, so a few specular
# pixels cannot darken the whole mesh.
ALBEDO_PERCENTILE = 99.5


def grid_faces(valid: np.ndarray) -> np.ndarray:
    """(F, 3) int64 triangles over the valid pixels of an (H, W) grid.

    Vertices are the valid pixels numbered in row-major order. Every 2 x 2 block with all
    four pixels valid gives two triangles, one with exactly three gives one. Winding is
    counter-clockwise seen from the camera (+z, project frame), so face normals point
    toward it.
    """
    v = np.asarray(valid, bool)
    index = np.full(v.shape, -1, np.int64)
    index[v] = np.arange(int(v.sum()))
    a, b = index[:-1, :-1], index[:-1, 1:]  # top-left, top-right
    c, d = index[1:, :-1], index[1:, 1:]  # bottom-left, bottom-right
    va, vb, vc, vd = a >= 0, b >= 0, c >= 0, d >= 0
    tris = []
    full = va & vb & vc & vd
    tris += [np.stack([a[full], c[full], d[full]], 1), np.stack([a[full], d[full], b[full]], 1)]
    # blocks with one corner missing: the triangle of the other three (same winding)
    for sel, tri in ((~va & vb & vc & vd, (b, c, d)), (va & ~vb & vc & vd, (a, c, d)),
                     (va & vb & ~vc & vd, (a, d, b)), (va & vb & vc & ~vd, (a, c, b))):
        tris.append(np.stack([t[sel] for t in tri], 1))
    return np.concatenate(tris, axis=0)


def albedo_colours(albedo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W[, C]) linear albedo -> (P, 4) uint8 sRGB-encoded RGBA over the mask.

    Scaled so the :data:`ALBEDO_PERCENTILE` percentile is white, then gamma-encoded
    (sRGB transfer curve) because viewers show vertex colours as sRGB.
    """
    m = np.asarray(mask, bool)
    a = np.asarray(albedo, np.float64)
    if a.ndim == 2:
        a = a[..., None]
    a = a[m]
    if a.shape[1] == 1:
        a = np.repeat(a, 3, axis=1)
    a = a[:, :3]
    top = np.percentile(a, ALBEDO_PERCENTILE) if a.size else 1.0
    x = np.clip(a / (top if top > 0 else 1.0), 0.0, 1.0)
    srgb = linear_to_srgb(x)
    rgba = np.full((x.shape[0], 4), 255, np.uint8)
    rgba[:, :3] = np.rint(srgb * 255).astype(np.uint8)
    return rgba


def depth_to_mesh(depth: np.ndarray, K: np.ndarray | None = None,
                  normals: np.ndarray | None = None, albedo: np.ndarray | None = None):
    """A trimesh.Trimesh of a depth map, one vertex per pixel with a finite depth.

    Parameters
    ----------
    depth : (H, W) depth along the optical axis, NaN where there is no surface.
    K : (3, 3) intrinsics (vertices back-projected, project frame) or None (orthographic:
        ``(column, -row, -depth)`` in pixel units).
    normals : optional (H, W, 3) unit normals, project frame, used as vertex normals
        (else trimesh computes them from the faces).
    albedo : optional (H, W) or (H, W, 3) linear albedo -> vertex colours.

    Returns
    -------
    trimesh.Trimesh (not processed: vertex order is the pixels' row-major order).
    """
    import trimesh

    valid = np.isfinite(np.asarray(depth, np.float64))
    verts = depth_to_points(depth, valid, K)
    faces = grid_faces(valid)
    kwargs = {}
    if normals is not None:
        kwargs["vertex_normals"] = np.asarray(normals, np.float64)[valid]
    if albedo is not None:
        kwargs["vertex_colors"] = albedo_colours(albedo, valid)
    return trimesh.Trimesh(vertices=verts, faces=faces, process=False, **kwargs)


def write_ply(path: str | os.PathLike[str], mesh) -> Path:
    """Write a mesh as binary PLY with its vertex normals and colours."""
    from trimesh.exchange.ply import export_ply

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(export_ply(mesh, encoding="binary", vertex_normal=True))
    return p
