"""The Neural Mesh Renderer's lighting model on rasterized fragments.

    I = albedo * (l_a + sum_k l_d,k max(0, n_d,k . n))

(Kato, Ushiku, Harada, "Neural 3D Mesh Renderer", CVPR 2018), i.e.
:func:`lambertian.core.shading.lambertian_shading` with an ambient term. Light vectors
``n_d`` are in the *project frame of the camera* (x right, y up, z toward the camera,
pointing toward the light); normals are rotated from the world into that frame through
``R`` and :func:`lambertian.core.frames.opencv_to_project`, so gradients reach R too.
Use :func:`world_light_to_project` for lights fixed in the world (as NMR's are).
"""

from __future__ import annotations

import torch

from lambertian.core.frames import opencv_to_project, project_to_opencv
from lambertian.core.shading import lambertian_shading
from lambertian.core.tensors import ArrayLike, as_tensor
from lambertian.render.camera import Camera
from lambertian.render.mesh import Mesh, face_normals, vertex_normals
from lambertian.render.rasterize import Fragments, interpolate, rasterize


def world_light_to_project(direction_world: torch.Tensor, camera: Camera) -> torch.Tensor:
    """World-frame light vectors (..., 3) to the camera's project frame."""
    return opencv_to_project(camera.world_light_to_camera(direction_world))


def project_light_to_world(direction: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Light vectors (..., 3) in the camera's project frame to the world frame."""
    return camera.camera_light_to_world(project_to_opencv(direction))


def pixel_normals(mesh: Mesh, camera: Camera, frags: Fragments, smooth: bool = False
                  ) -> torch.Tensor:
    """Unit normals (H, W, 3) of the visible surface, camera project frame, 0 on background.

    ``smooth=False`` gives per-face (flat) normals, ``True`` perspective-correct
    interpolated area-weighted vertex normals (renormalised).
    """
    H, W = frags.face.shape
    if smooth:
        vn = vertex_normals(mesh.vertices, mesh.faces)
        n = interpolate(vn, mesh.faces, frags)
        n = n / n.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    else:
        fn = face_normals(mesh.face_vertices())
        flat = frags.face.reshape(-1)
        pix = torch.nonzero(flat >= 0).squeeze(1)
        n = torch.zeros(H * W, 3, dtype=fn.dtype).index_put((pix,), fn[flat[pix]]).reshape(H, W, 3)
    n = opencv_to_project(camera.world_light_to_camera(n))
    return n * frags.mask.unsqueeze(-1)


def shade(normals: torch.Tensor, mask: torch.Tensor, directions: ArrayLike,
          intensities: ArrayLike | float = 1.0, ambient: ArrayLike | float = 0.0,
          albedo: ArrayLike | float = 1.0) -> torch.Tensor:
    """NMR lighting of per-pixel normals.

    Parameters
    ----------
    normals : (H, W, 3) unit normals, camera project frame.
    mask : (H, W) bool, pixels covered by the mesh (background renders 0).
    directions : (K, 3) unit light vectors, camera project frame (toward the light).
    intensities : scalar, (K,) or (K, C) directional intensities ``l_d``.
    ambient : scalar or (C,) ambient intensity ``l_a``.
    albedo : scalar, (C,), or (H, W) / (H, W, C) per pixel.

    Returns
    -------
    (H, W, C) image, C = 1 for grey light and albedo.
    """
    d = as_tensor(directions, dtype=normals.dtype).reshape(-1, 3)
    k = d.shape[0]
    cos = lambertian_shading(normals, d)  # (K, H, W)
    e = as_tensor(intensities, dtype=normals.dtype)
    e = e.expand(k) if e.dim() == 0 else e
    e = e.reshape(k, 1, 1, -1)  # (K, 1, 1, C)
    direct = (e * cos.unsqueeze(-1)).sum(dim=0)  # (H, W, C)
    amb = as_tensor(ambient, dtype=normals.dtype).reshape(-1)
    rho = as_tensor(albedo, dtype=normals.dtype)
    if rho.dim() == 2:
        rho = rho.unsqueeze(-1)
    img = rho * (amb + direct)
    return img * mask.unsqueeze(-1).to(img.dtype)


def render(mesh: Mesh, camera: Camera, directions: ArrayLike,
           intensities: ArrayLike | float = 1.0, ambient: ArrayLike | float = 0.0,
           albedo: ArrayLike | float | None = None, smooth: bool = False
           ) -> tuple[torch.Tensor, Fragments]:
    """Rasterize and shade: (H, W, C) image and the fragments.

    ``albedo`` None takes the mesh's per-vertex albedo when it has one (interpolated),
    else 1. Lights as in :func:`shade` (camera project frame).
    """
    frags = rasterize(mesh, camera)
    n = pixel_normals(mesh, camera, frags, smooth=smooth)
    if albedo is None:
        if mesh.albedo is not None:
            va = mesh.albedo if mesh.albedo.dim() == 2 else mesh.albedo.unsqueeze(-1)
            albedo = interpolate(va, mesh.faces, frags)
        else:
            albedo = 1.0
    return shade(n, frags.mask, directions, intensities, ambient, albedo), frags
