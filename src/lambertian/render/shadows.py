"""Visibility of surface points from distant directions, by shadow mapping with our own
rasterizer: cast shadows of a directional light, and the ambient occlusion of a uniform
sky. NMR's lighting has neither; with a known mesh both are computable, and the light fit
uses them to model cast shadows instead of only down-weighting them.

For a direction ``d`` (world frame, toward the light) the mesh is rasterized by a camera
far away along ``d`` (a near-orthographic view), and a point is lit when its depth is not
behind the map's depth at its projection by more than a slope-scaled bias. Visibility is
a discrete decision (no gradient), as in every rasterization shadow method.

References
----------
L. Williams, "Casting curved shadows on curved surfaces", SIGGRAPH 1978 (shadow maps);
S. Zhukov, A. Iones, G. Kronin, "An ambient light illumination model", EGWR 1998
(ambient occlusion as the cosine-weighted visible fraction of the hemisphere);
T. Aila, S. Laine, "Alias-free shadow maps", EGSR 2004, and G. S. Johnson, W. R. Mark,
C. A. Burns, "The irregular Z-buffer", ACM TOG 2005 (:func:`ray_visibility`: the shadow
test made at the points themselves instead of at texel centres, which is exact).
"""

from __future__ import annotations

import math

import torch

from lambertian.render.camera import Camera, look_at_pose
from lambertian.render.mesh import Mesh
from lambertian.render.rasterize import Fragments, rasterize

FAR = 1000.0  # light camera distance in bounding radii: perspective error ~ 1e-3


def surface_points(mesh: Mesh, frags: Fragments) -> torch.Tensor:
    """World points (H, W, 3) of the visible surface (0 on background), no gradient."""
    H, W = frags.face.shape
    flat = frags.face.reshape(-1)
    pix = torch.nonzero(flat >= 0).squeeze(1)
    with torch.no_grad():
        corners = mesh.vertices[mesh.faces[flat[pix]]]
        X = (frags.bary.reshape(-1, 3)[pix].unsqueeze(-1) * corners).sum(1)
        out = torch.zeros(H * W, 3, dtype=X.dtype).index_put((pix,), X)
    return out.reshape(H, W, 3)


def light_visibility(mesh: Mesh, points: torch.Tensor, direction: torch.Tensor,
                     resolution: int = 512, bias_texels: float = 3.0) -> torch.Tensor:
    """(P,) bool: is each world point (P, 3) unoccluded toward the world ``direction`` (3,)?

    ``bias_texels`` is the depth tolerance in shadow-map texels (times the surface slope,
    which the depth difference between neighbouring texels carries): larger removes more
    self-shadowing acne, smaller keeps thin occluders.
    """
    with torch.no_grad():
        v = mesh.vertices.detach()
        centre = 0.5 * (v.amin(0) + v.amax(0))
        radius = float((v - centre).norm(dim=1).max())
        d = direction.detach().to(v.dtype).reshape(3)
        d = d / d.norm()
        up = torch.tensor([0.0, 1.0, 0.0], dtype=v.dtype)
        if abs(float(d @ up)) > 0.9:
            up = torch.tensor([1.0, 0.0, 0.0], dtype=v.dtype)
        R, t = look_at_pose(centre + FAR * radius * d, centre, up, dtype=v.dtype)
        f = (resolution / 2.0) * FAR / (1.02 * radius)  # the bounding sphere fills the map
        c = (resolution - 1) / 2.0
        K = torch.tensor([[f, 0.0, c], [0.0, f, c], [0.0, 0.0, 1.0]], dtype=v.dtype)
        cam = Camera(K, R, t, resolution, resolution)
        frags = rasterize(Mesh(v, mesh.faces), cam)
        depth = torch.where(frags.mask, frags.depth, torch.full_like(frags.depth, float("inf")))
        pc = cam.to_camera(points.to(v.dtype))
        uv = cam.project(pc)
        texel = 1.02 * radius / (resolution / 2.0)  # world size of one texel
        # the nearest map depth in a 3x3 window, so sampling at the texel grid does not
        # shadow a point by its own, tilted face
        dmin = -torch.nn.functional.max_pool2d(-depth[None, None], 3, 1, 1)[0, 0]
        dmax = torch.nn.functional.max_pool2d(
            torch.where(frags.mask, frags.depth, torch.zeros_like(frags.depth))[None, None],
            3, 1, 1)[0, 0]
        col = torch.round(uv[:, 0]).long().clamp(0, resolution - 1)
        row = torch.round(uv[:, 1]).long().clamp(0, resolution - 1)
        slope = (dmax[row, col] - dmin[row, col]).clamp(min=0.0, max=4.0 * texel)
        occluder = depth[row, col]
        return pc[:, 2] <= occluder + bias_texels * (texel + slope)


def ray_visibility(mesh: Mesh, points: torch.Tensor, direction: torch.Tensor,
                   eps: float = 1e-4, max_pairs: int = 1 << 21) -> torch.Tensor:
    """(P,) bool: does the ray from each world point (P, 3) along the world ``direction``
    (3,) leave the mesh without hitting a face? Exact (an irregular z-buffer).

    A shadow map decides at texel centres and needs a depth bias, so it misses occluders
    thinner than a few texels (a car's body panels, pillars and wheel arches seen from a
    scene-sized map) and leaks light. Here every face is projected along ``direction``
    and tested against the points inside its footprint, found through a grid of the
    points' projections: a point is occluded when a face covers it and lies more than
    ``eps`` x the mesh's bounding radius above it (toward the light), so the point's own
    face and a coincident twin (a two-sided sheet) do not shadow it. Computed in float64
    in chunks of at most ``max_pairs`` (face, point) candidates.
    """
    with torch.no_grad():
        v = mesh.vertices.detach().to(torch.float64)
        p = points.detach().to(torch.float64).reshape(-1, 3)
        out = torch.ones(p.shape[0], dtype=torch.bool)
        if p.shape[0] == 0 or mesh.faces.shape[0] == 0:
            return out
        d = direction.detach().to(torch.float64).reshape(3)
        d = d / d.norm()
        a = torch.tensor([1.0, 0.0, 0.0] if abs(float(d[0])) < 0.9 else [0.0, 1.0, 0.0],
                         dtype=torch.float64)
        e1 = torch.linalg.cross(d, a)
        e1 = e1 / e1.norm()
        e2 = torch.linalg.cross(d, e1)
        basis = torch.stack([e1, e2, d], dim=1)
        radius = float((v - 0.5 * (v.amin(0) + v.amax(0))).norm(dim=1).max())
        tol = eps * max(radius, 1e-12)
        q = p @ basis  # (P, 3): 2-D position across the rays, height toward the light
        tri = (v @ basis)[mesh.faces]  # (F, 3 corners, 3)
        lo, hi = q[:, :2].amin(0), q[:, :2].amax(0)
        # faces that can shadow any point: footprint over the points', above the lowest
        tlo, thi = tri[..., :2].amin(1), tri[..., :2].amax(1)
        cand = ((thi >= lo).all(1) & (tlo <= hi).all(1)
                & (tri[..., 2].amax(1) > q[:, 2].min() + tol))
        tri, tlo, thi = tri[cand], tlo[cand], thi[cand]
        if tri.shape[0] == 0:
            return out
        # a grid of about two points per cell over the points' footprint
        g = max(1, min(1024, int((p.shape[0] / 2.0) ** 0.5)))
        cell = ((hi - lo) / g).clamp_min(1e-12)
        pc = ((q[:, :2] - lo) / cell).floor().long().clamp(0, g - 1)
        pid = pc[:, 1] * g + pc[:, 0]
        order = torch.argsort(pid)
        counts = torch.bincount(pid, minlength=g * g)
        start = torch.cumsum(counts, 0) - counts
        c0 = ((tlo - lo) / cell).floor().long().clamp(0, g - 1)
        c1 = ((thi - lo) / cell).floor().long().clamp(0, g - 1)
        span = c1 - c0 + 1  # (F', 2) cells across x and y
        ncell = span[:, 0] * span[:, 1]
        # (face, cell) pairs, then (face, point) pairs, in chunks of faces
        cum = torch.cumsum(ncell, 0)
        f0 = 0
        nf = tri.shape[0]
        while f0 < nf:
            f1 = int(torch.searchsorted(cum, cum[f0] - ncell[f0] + max_pairs // 4).clamp(
                min=f0 + 1, max=nf))
            fi = torch.repeat_interleave(torch.arange(f0, f1), ncell[f0:f1])
            # each pair's index among its face's cells (the chunk's pairs start at face f0)
            first = cum[f0] - ncell[f0]
            k = torch.arange(fi.shape[0]) + first - (cum[fi] - ncell[fi])
            cx = c0[fi, 0] + k % span[fi, 0]
            cy = c0[fi, 1] + k // span[fi, 0]
            cid = cy * g + cx
            cnt = counts[cid]
            keep = cnt > 0
            fi, cid, cnt = fi[keep], cid[keep], cnt[keep]
            pair_face = torch.repeat_interleave(fi, cnt)
            ccum = torch.cumsum(cnt, 0)
            j = torch.arange(pair_face.shape[0]) - torch.repeat_interleave(ccum - cnt, cnt)
            pt = order[torch.repeat_interleave(start[cid], cnt) + j]
            out &= ~_covers(tri[pair_face], q[pt], tol, pt, p.shape[0])
            f0 = f1
        return out


def _covers(tri: torch.Tensor, q: torch.Tensor, tol: float, pt: torch.Tensor,
            n: int) -> torch.Tensor:
    """(n,) bool: points (index ``pt``) covered by their paired face (projected corners
    ``tri`` (M, 3, 3), heights in the last column) higher than the point by over ``tol``."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    x, y = q[:, 0], q[:, 1]
    den = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    ok = den.abs() > 1e-300
    den = torch.where(ok, den, torch.ones_like(den))
    w0 = ((b[:, 1] - c[:, 1]) * (x - c[:, 0]) + (c[:, 0] - b[:, 0]) * (y - c[:, 1])) / den
    w1 = ((c[:, 1] - a[:, 1]) * (x - c[:, 0]) + (a[:, 0] - c[:, 0]) * (y - c[:, 1])) / den
    w2 = 1.0 - w0 - w1
    inside = ok & (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
    h = w0 * a[:, 2] + w1 * b[:, 2] + w2 * c[:, 2]
    hit = inside & (h > q[:, 2] + tol)
    return torch.zeros(n, dtype=torch.bool).index_fill_(0, pt[hit], True)


def sphere_directions(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(n, 3) unit directions spread evenly over the sphere (Fibonacci lattice): a
    deterministic set, so no seed is needed."""
    i = torch.arange(n, dtype=dtype) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    r = torch.sqrt((1.0 - z * z).clamp_min(0.0))
    return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], dim=1)


def ambient_visibility(mesh: Mesh, points: torch.Tensor, normals: torch.Tensor,
                       n_directions: int = 128, resolution: int = 256,
                       method: str = "shadow_map") -> torch.Tensor:
    """(P,) cosine-weighted fraction of the hemisphere around each normal that sees the
    sky (1 = unoccluded): what a uniform ambient light is multiplied by.

    points : (P, 3) world points; normals : (P, 3) unit world normals.
    method : ``"shadow_map"`` (:func:`light_visibility` at ``resolution``) or ``"rays"``
        (:func:`ray_visibility`, exact per direction).
    """
    with torch.no_grad():
        dirs = sphere_directions(n_directions, dtype=points.dtype)
        num = torch.zeros(points.shape[0], dtype=points.dtype)
        den = torch.zeros_like(num)
        for d in dirs:
            cos = (normals @ d).clamp_min(0.0)
            use = cos > 0
            if not bool(use.any()):
                continue
            vis = (ray_visibility(mesh, points[use], d) if method == "rays"
                   else light_visibility(mesh, points[use], d, resolution))
            num[use] += cos[use] * vis.to(points.dtype)
            den[use] += cos[use]
        return num / den.clamp_min(1e-12)
