"""Surfaces with depth discontinuities, ray-cast, for testing normal integration.

A depth jump shows in a normal map only through its consequences: where one object
occludes another, the foreground's normals turn toward grazing at its silhouette, and the
two sides' normals disagree about how depth changes across the edge (their difference
field has curl there). An integrator that smooths across the edge (:func:`poisson`)
spreads that disagreement over the whole surface; a discontinuity-preserving one
(:func:`bilateral`) can put it into the jump. A jump whose height is the same all along
its edge between two sides with the same normals is invisible in the normals and
recoverable by no integrator, so every scene here has jumps that vary along their edges.

Scene (:func:`jump_surface`): 2-3 spheres of random size and place, each sunk into a
steep background plane (its centre in front of the plane by 0.3-0.7 radii). Seen
obliquely, part of each sphere's outline is the visible contact circle (no jump, so the
relative depth of sphere and plane is fixed by the normals) and the rest an occluding
silhouette, where the sphere's normals turn to grazing and the depth jumps from its rim
to the plane behind, by an amount that grows from zero along the outline.

Tried and not kept: a staircase of tilted treads, each turned 15-30 degrees about a hinge
at one end of its edge (the riser hidden). Its jumps show in the normals only through the
treads' different tilts, not through grazing normals, and the bilateral integrator did
not open them (its error equal to Poisson's, or worse where the reweighting wandered;
seeds 0-2 at 200 x 240: 0.96 / 1.00 / 1.01 of Poisson's orthographic, 1.41 / 0.94 / 1.06
perspective). Nor tilted discs (55-75 degrees from the optical axis) through the steep
plane: 1.05 / 2.20 / 0.48 of Poisson's orthographic, 0.95 / 0.99 / 1.00 perspective; a
plane's normals tilted that far are not grazing enough.

The geometry is exact: every pixel's ray (through its centre, ``K^-1 [u, v, 1]``, or
along the optical axis for an orthographic camera) is intersected with the primitives,
and the normal is the hit primitive's analytic normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lambertian.core.frames import opencv_to_project

KINDS = ("spheres",)


@dataclass
class JumpSurface:
    """A generated surface with ground truth.

    normals : (H, W, 3) float64 unit normals, project frame (x right, y up, z toward the
        camera), zeros outside ``mask``.
    mask : (H, W) bool, the pixels that see a surface.
    depth : (H, W) float64 depth along the optical axis (pixel units when orthographic),
        NaN outside ``mask``.
    K : (3, 3) intrinsics, or None for an orthographic camera.
    jumps : (H, W) bool, pixels with a 4-neighbour on another primitive (the edges).
    """

    normals: np.ndarray
    mask: np.ndarray
    depth: np.ndarray
    K: np.ndarray | None
    jumps: np.ndarray


def _rays(shape: tuple[int, int], K: np.ndarray | None):
    """Per-pixel ray origins and directions (OpenCV frame; direction z component 1)."""
    h, w = shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    if K is None:  # orthographic: point (u, v, depth) in pixel units
        origin = np.stack([cols, rows, np.zeros_like(cols)], axis=-1)
        direction = np.broadcast_to(np.array([0.0, 0.0, 1.0]), origin.shape)
    else:
        origin = np.zeros((h, w, 3))
        direction = np.stack([cols, rows, np.ones_like(cols)], axis=-1) @ np.linalg.inv(K).T
    return origin, direction


def _hit_sphere(o, d, centre, radius):
    """(depth, normal) of the nearest hit of rays ``o + t d`` on a sphere (inf: miss)."""
    oc = o - centre
    a = np.einsum("...i,...i", d, d)
    b = np.einsum("...i,...i", d, oc)
    c = np.einsum("...i,...i", oc, oc) - radius ** 2
    disc = b * b - a * c
    hit = disc >= 0
    t = np.where(hit, (-b - np.sqrt(np.where(hit, disc, 0.0))) / a, np.inf)
    t = np.where(t > 0, t, np.inf)
    p = o + np.where(np.isfinite(t), t, 0.0)[..., None] * d
    normal = (p - centre) / radius
    return t, np.where(np.isfinite(t)[..., None], normal, 0.0)


def _hit_plane(o, d, normal, offset, inside=None):
    """Rays on the plane ``normal . p = offset`` (normal toward the camera, n_z < 0);
    ``inside(p)`` -> bool restricts the plane to a region (a bounded plate)."""
    denom = d @ normal
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (offset - o @ normal) / denom
    t = np.where((denom < 0) & (t > 0), t, np.inf)
    if inside is not None:
        p = o + np.where(np.isfinite(t), t, 0.0)[..., None] * d
        t = np.where(inside(p), t, np.inf)
    return t, np.broadcast_to(normal, o.shape)


def _plane_from_affine(coef, K):
    """Normal and offset (OpenCV, ``n . p = offset``, n_z < 0) of the plane whose depth
    (orthographic) or inverse depth (perspective) is ``coef . (u, v, 1)``."""
    a, b, c = coef
    if K is None:  # p = (u, v, a u + b v + c): n . p = -c with n = (a, b, -1)
        n = np.array([a, b, -1.0])
        return n / np.linalg.norm(n), -c / np.linalg.norm(n)
    n = np.linalg.inv(K).T @ np.array([a, b, c])  # n . p = 1 on the plane, n_z > 0
    return -n / np.linalg.norm(n), -1.0 / np.linalg.norm(n)


def _affine_tilt(rng, max_slope, K, depth):
    """(a, b) of a plane tilted up to ``max_slope`` (depth change per lateral unit) at
    ``depth``, as the depth (orthographic) or inverse-depth (perspective) coefficients."""
    sa, sb = rng.uniform(-max_slope, max_slope, 2)
    if K is None:
        return sa, sb
    # inverse depth 1/d: a change of s d / fx in depth per pixel -> -s / (fx d)
    return -sa / (K[0, 0] * depth), -sb / (K[1, 1] * depth)


def _scene(kind, rng, shape, K):
    """Primitive hit functions (rays -> depth along the ray, OpenCV normal)."""
    h, w = shape
    far = 3.0 * w if K is None else 10.0  # the scene's distance
    px = 1.0 if K is None else far / K[0, 0]  # scene units per pixel at that distance
    Kinv = None if K is None else np.linalg.inv(K)

    def at(u, v, depth):
        return np.array([u, v, depth]) if K is None else depth * (Kinv @ [u, v, 1.0])

    def affine_through(a, b, u, v, depth):
        """(a, b, c) with the plane at ``depth`` on pixel (u, v)."""
        q = depth if K is None else 1.0 / depth
        return np.array([a, b, q - a * u - b * v])

    prims = []
    if kind == "spheres":
        # a steep background plane; each sphere sunk into it (its centre in front of the
        # plane by 0.3-0.7 radii), so its outline is partly the visible contact circle
        # (no jump) and partly an occluding silhouette (a jump growing from zero)
        a, b = _affine_tilt(rng, 0.3, K, far)
        b_steep = (1.2 if K is None else -1.2 / (K[1, 1] * far)) * rng.choice([-1, 1])
        coef = affine_through(a, b + b_steep, w / 2, h / 2, far)
        n_bg, off = _plane_from_affine(coef, K)
        prims.append(lambda o, d, n=n_bg, f=off: _hit_plane(o, d, n, f))
        for _ in range(int(rng.integers(2, 4))):
            r_px = rng.uniform(0.12, 0.18) * min(h, w)
            u, v = rng.uniform(r_px, w - r_px), rng.uniform(r_px, h - r_px)
            on_plane = _hit_plane(np.zeros(3) if K is not None else np.array([u, v, 0.0]),
                                  at(u, v, 1.0) if K is not None else np.array([0, 0, 1.0]),
                                  n_bg, off)[0]
            foot = at(u, v, float(on_plane))
            radius = r_px * px * (1.0 if K is None else float(on_plane) / far)
            centre = foot + n_bg * radius * rng.uniform(0.3, 0.7)
            prims.append(lambda o, d, c=centre, r=radius: _hit_sphere(o, d, c, r))
    else:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return prims


def jump_surface(kind: str = "spheres", *, shape: tuple[int, int] = (200, 240),
                 K: np.ndarray | None = None, seed: int = 0) -> JumpSurface:
    """A seeded surface whose depth jumps at occluding edges (see the module's scenes).

    Parameters
    ----------
    kind : "spheres" (the one scene so far; see the module).
    shape : (H, W) image size in pixels.
    K : (3, 3) intrinsics (perspective; the scene sits about 10 units away) or None
        (orthographic, pixel units; the scene about ``3 W`` away).
    seed : the random layout (the plane's tilt; the spheres' number, sizes and places, and
        how deep each sinks into the plane).

    Returns
    -------
    :class:`JumpSurface`: exact depth and normals of the nearest hit at every pixel.

    Examples
    --------
    >>> s = jump_surface("spheres", shape=(60, 80), seed=1)
    >>> bool(s.mask.all()), bool(s.jumps.any())
    (True, True)
    """
    K = None if K is None else np.asarray(K, np.float64)
    rng = np.random.default_rng(seed)
    origin, direction = _rays(shape, K)
    best = np.full(shape, np.inf)
    normal = np.zeros(shape + (3,))
    label = np.full(shape, -1)
    for i, prim in enumerate(_scene(kind, rng, shape, K)):
        t, n = prim(origin, direction)
        nearer = t < best
        best = np.where(nearer, t, best)
        normal = np.where(nearer[..., None], n, normal)
        label = np.where(nearer, i, label)
    mask = np.isfinite(best)
    depth = np.where(mask, best * direction[..., 2], np.nan)
    n = np.where(mask[..., None], opencv_to_project(normal), 0.0)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-300)
    jumps = np.zeros(shape, bool)
    across = (label[:, 1:] != label[:, :-1]) & mask[:, 1:] & mask[:, :-1]
    jumps[:, 1:] |= across
    jumps[:, :-1] |= across
    across = (label[1:] != label[:-1]) & mask[1:] & mask[:-1]
    jumps[1:] |= across
    jumps[:-1] |= across
    return JumpSurface(n, mask, depth, K, jumps)
