"""Procedural meshes for tests, demos and reference renders: sphere, torus, a simple
car-like body, a lumpy sphere and a folded sheet.

World frame of every mesh: x right, y up, z toward a viewer in front (the project
frame), centred at the origin, outward CCW faces. Built with trimesh.
"""

from __future__ import annotations

import numpy as np
import torch

from lambertian.render.mesh import Mesh


def _to_mesh(tm, dtype: torch.dtype) -> Mesh:
    return Mesh.create(np.asarray(tm.vertices, dtype=np.float64), np.asarray(tm.faces), dtype=dtype)


def sphere(radius: float = 1.0, subdivisions: int = 3, dtype: torch.dtype = torch.float32) -> Mesh:
    """Icosphere (20 * 4**subdivisions faces): convex."""
    import trimesh

    return _to_mesh(trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius), dtype)


def torus(major: float = 1.0, minor: float = 0.35, sections: int = 48, rings: int = 24,
          dtype: torch.dtype = torch.float32) -> Mesh:
    """Torus around the y axis (2 * sections * rings faces): non-convex, casts shadows."""
    import trimesh

    tm = trimesh.creation.torus(major_radius=major, minor_radius=minor,
                                major_sections=sections, minor_sections=rings)
    # trimesh's torus lies around z; stand it around y so its hole faces sideways
    tm.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    return _to_mesh(tm, dtype)


def _rounded_box(extents: list[float], subdivisions: int, power: float = 4.0):
    """A box refined ``subdivisions`` times and pushed onto the superellipsoid
    ``sum |x_i / e_i|^power = 1``: flat sides with rounded edges, many normal directions."""
    import trimesh

    box = trimesh.creation.box(extents=extents)
    for _ in range(subdivisions):
        box = box.subdivide()
    half = np.asarray(extents) / 2.0
    p = np.asarray(box.vertices) / half
    p = p / (np.abs(p) ** power).sum(axis=1, keepdims=True) ** (1.0 / power)
    return trimesh.Trimesh(p * half, box.faces, process=False)


def car(length: float = 4.0, subdivisions: int = 3, dtype: torch.dtype = torch.float32) -> Mesh:
    """A car-like body: a rounded lower body, a rounded cabin and four wheels (non-convex).

    Length along x, up along y, width along z, centred on the origin.
    ``subdivisions`` refines the body and cabin (12 * 4**subdivisions faces each).
    """
    import trimesh

    s = length / 4.0
    body = _rounded_box([4.0 * s, 0.8 * s, 1.8 * s], subdivisions)
    body.apply_translation([0.0, 0.1 * s, 0.0])
    cabin = _rounded_box([2.0 * s, 0.7 * s, 1.5 * s], subdivisions)
    cabin.apply_translation([-0.2 * s, 0.75 * s, 0.0])
    parts = [body, cabin]
    for x in (-1.3 * s, 1.3 * s):
        for z in (-0.8 * s, 0.8 * s):
            wheel = trimesh.creation.cylinder(radius=0.38 * s, height=0.3 * s, sections=24)
            wheel.apply_translation([x, -0.3 * s, z])
            parts.append(wheel)
    tm = trimesh.util.concatenate(parts)
    tm.apply_translation([0.0, -tm.bounds[0, 1] - 0.5 * (tm.bounds[1, 1] - tm.bounds[0, 1]), 0.0])
    return _to_mesh(tm, dtype)


def subdivided_sphere_with_faces(min_faces: int, dtype: torch.dtype = torch.float32) -> Mesh:
    """The smallest icosphere with at least ``min_faces`` faces."""
    sub = 0
    while 20 * 4 ** sub < min_faces:
        sub += 1
    return sphere(subdivisions=sub, dtype=dtype)


def blob(seed: int = 0, bumps: int = 12, subdivisions: int = 5,
         dtype: torch.dtype = torch.float32) -> Mesh:
    """A lumpy sphere: the unit icosphere's radius raised or lowered by ``bumps`` Gaussian
    bumps at seeded directions (heights -0.12..0.25, widths 0.15..0.45 rad). Non-convex:
    the hollows between bumps cast shadows and receive each other's light."""
    import trimesh

    tm = trimesh.creation.icosphere(subdivisions=subdivisions)
    d = np.asarray(tm.vertices, np.float64)
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(bumps, 3))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    height = rng.uniform(-0.12, 0.25, bumps)
    width = rng.uniform(0.15, 0.45, bumps)
    angle = np.arccos(np.clip(d @ centres.T, -1.0, 1.0))  # (V, bumps)
    r = 1.0 + (height * np.exp(-0.5 * (angle / width) ** 2)).sum(axis=1)
    return _to_mesh(trimesh.Trimesh(d * r[:, None], tm.faces, process=False), dtype)


def folded_sheet(folds: int = 3, depth: float = 0.4, bend: float = 0.3, cells: int = 160,
                 dtype: torch.dtype = torch.float32) -> Mesh:
    """A square sheet (x, y in [-1, 1]) folded like paper: the height toward the viewer
    (+z) is a rounded zig-zag of ``folds`` ridges across a slanted axis (slopes of about
    50 degrees at ``depth`` 0.4), the sheet bent by ``bend`` along the folds. The valleys
    shadow and light each other, as the folds of DiLiGenT's reading do."""
    import trimesh

    u = np.linspace(-1.0, 1.0, cells + 1)
    x, y = np.meshgrid(u, u)
    t = (0.9 * x + 0.45 * y) * folds / 2.0
    # a triangle wave with rounded ridges and valleys (arcsin of a slightly damped sine),
    # the whole sheet bent along the folds (so each facet's normal turns too)
    z = depth * np.arcsin(0.95 * np.sin(2.0 * np.pi * t)) / np.pi
    z += bend * np.cos(1.1 * (0.9 * y - 0.45 * x))
    verts = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)
    i = np.arange(cells)[:, None] * (cells + 1) + np.arange(cells)[None, :]
    a, b, c, e = i.ravel(), i.ravel() + 1, i.ravel() + cells + 1, i.ravel() + cells + 2
    # counter-clockwise seen from +z (row index grows with y)
    faces = np.concatenate([np.stack([a, b, e], 1), np.stack([a, e, c], 1)])
    return _to_mesh(trimesh.Trimesh(verts, faces, process=False), dtype)
