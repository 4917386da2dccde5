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
(ambient occlusion as the cosine-weighted visible fraction of the hemisphere).
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


def sphere_directions(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(n, 3) unit directions spread evenly over the sphere (Fibonacci lattice): a
    deterministic set, so no seed is needed."""
    i = torch.arange(n, dtype=dtype) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    r = torch.sqrt((1.0 - z * z).clamp_min(0.0))
    return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], dim=1)


def ambient_visibility(mesh: Mesh, points: torch.Tensor, normals: torch.Tensor,
                       n_directions: int = 128, resolution: int = 256) -> torch.Tensor:
    """(P,) cosine-weighted fraction of the hemisphere around each normal that sees the
    sky (1 = unoccluded): what a uniform ambient light is multiplied by.

    points : (P, 3) world points; normals : (P, 3) unit world normals.
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
            vis = light_visibility(mesh, points[use], d, resolution)
            num[use] += cos[use] * vis.to(points.dtype)
            den[use] += cos[use]
        return num / den.clamp_min(1e-12)
