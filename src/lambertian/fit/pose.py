"""Fit the pose (R, t) of a known mesh to a masked photograph: a soft-silhouette term plus,
optionally, the NMR-shaded grey image (silhouettes alone let rotation absorb the error,
the seed's observation; shading pins rotation down).

The silhouette term is by default the soft symmetric difference over the mask's area
(:func:`lambertian.fit.losses.symmetric_difference_loss`), whose minimum is the aligned
pose; ``silhouette="iou"`` gives NMR's ``1 - IoU``, whose union denominator biases the
distance. The pose update is ``R = exp([w]x) R0``, ``t = t0 + dist0 * dt`` (axis-angle
``w``, translation in units of the initial distance, so one learning rate fits both),
by Adam with a cosine-decaying step.

Measured (``benchmarks/bench_pose.py``, car mesh, 20 starts up to 10 degrees / 10%):
1 degree moves the outline by a third of a pixel at 64x64, so fit at a resolution where
the object spans a hundred pixels or more (256x256 in the benchmark).

References: Kato et al., "Neural 3D Mesh Renderer", CVPR 2018; Liu et al., "Soft
Rasterizer", ICCV 2019.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from lambertian.fit.light import LightParams
from lambertian.fit.losses import iou_loss, symmetric_difference_loss
from lambertian.fit.rotation import axis_angle_to_matrix
from lambertian.render.camera import Camera
from lambertian.render.mesh import Mesh
from lambertian.render.rasterize import rasterize
from lambertian.render.shade import pixel_normals, shade
from lambertian.render.soft_silhouette import soft_silhouette


def sample_image(image: torch.Tensor, uv: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Bilinear samples (P,) of a window image (H, W) at full-image pixel coordinates (P, 2);
    0 outside the window. Differentiable in ``uv``."""
    H, W = image.shape
    gx = 2.0 * (uv[:, 0] - camera.x0) / max(W - 1, 1) - 1.0
    gy = 2.0 * (uv[:, 1] - camera.y0) / max(H - 1, 1) - 1.0
    grid = torch.stack([gx, gy], dim=-1).reshape(1, 1, -1, 2).to(image.dtype)
    out = F.grid_sample(image[None, None], grid, mode="bilinear", padding_mode="zeros",
                        align_corners=True)
    return out.reshape(-1)


def _image_gradients(image: torch.Tensor, sigma: float = 1.0
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Central-difference x and y derivatives (H, W) of the Gaussian-blurred image."""
    r = int(3 * sigma + 0.5)
    x = torch.arange(-r, r + 1, dtype=image.dtype)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    g = g / g.sum()
    im = image.detach()[None, None]
    im = F.conv2d(F.pad(im, (r, r, 0, 0), mode="replicate"), g.reshape(1, 1, 1, -1))
    im = F.conv2d(F.pad(im, (0, 0, r, r), mode="replicate"), g.reshape(1, 1, -1, 1))
    p = F.pad(im, (1, 1, 1, 1), mode="replicate")[0, 0]
    gx = 0.5 * (p[1:-1, 2:] - p[1:-1, :-2])
    gy = 0.5 * (p[2:, 1:-1] - p[:-2, 1:-1])
    return gx, gy


def pose_loss(mesh: Mesh, camera: Camera, image: torch.Tensor, mask: torch.Tensor,
              light: LightParams, shading_weight: float, sigma: float, smooth: bool,
              silhouette: str = "xor") -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    """Total loss, its parts, and the rendered grey image (H, W) at ``camera``'s pose.

    The shading term is direct image alignment: the surface points seen at the current
    pose are projected into the (masked) photo, sampled bilinearly and compared with
    their NMR shading. Unlike comparing two rasterized images, whose pixels do not move
    with the pose (no gradient for misalignment), its gradient has the photo's spatial
    gradient in it (Lucas & Kanade 1981), and the shading pins the rotation.
    """
    frags = rasterize(mesh, camera)
    sil = soft_silhouette(mesh, camera, sigma=sigma, face=frags.face)
    loss_sil = (symmetric_difference_loss(sil, mask) if silhouette == "xor"
                else iou_loss(sil, mask))
    n = pixel_normals(mesh, camera, frags, smooth=smooth)
    img = shade(n, frags.mask, light.direction.reshape(1, 3), light.intensity,
                light.ambient)[..., 0]
    # points that land on the object in the photo, 2 pixels away from its outline: there
    # the bilinear samples mix in the background and would pull the mesh inward
    inner = -F.max_pool2d(-mask[None, None].to(image.dtype), 5, stride=1, padding=2)[0, 0] > 0.5
    both = frags.mask & inner
    if shading_weight > 0 and bool(both.any()):
        flat = frags.face.reshape(-1)
        pix = torch.nonzero(both.reshape(-1)).squeeze(1)
        with torch.no_grad():  # surface points at the current pose, in the world frame
            corners = mesh.vertices[mesh.faces[flat[pix]]]
            X = (frags.bary.reshape(-1, 3)[pix].unsqueeze(-1) * corners).sum(1)
        uv = camera.project(camera.to_camera(X))
        # first-order photo around the pixel centres (where uv lies at this pose), with
        # central differences of a lightly blurred photo: grid_sample's gradient exactly
        # at a pixel centre is a one-sided difference and biases the pose
        gx, gy = _image_gradients(image)
        du = uv - uv.detach()
        observed = (image.reshape(-1)[pix] + gx.reshape(-1)[pix] * du[:, 0]
                    + gy.reshape(-1)[pix] * du[:, 1])
        loss_shade = ((img.reshape(-1)[pix] - observed) ** 2).mean()
    else:
        loss_shade = img.sum() * 0.0
    total = loss_sil + shading_weight * loss_shade
    parts = {"silhouette": float(loss_sil.detach()), "shading": float(loss_shade.detach())}
    return total, parts, img


def fit_pose(mesh: Mesh, camera: Camera, image: torch.Tensor, mask: torch.Tensor,
             light: LightParams, shading_weight: float = 10.0, fit_light: bool = False,
             steps: int = 150, lr: float = 0.01, sigma: float = 0.5, smooth: bool = False,
             silhouette: str = "xor",
             callback: Callable[[int, Camera, torch.Tensor, dict], None] | None = None) -> dict:
    """Gradient descent on ``silhouette loss + shading_weight * MSE`` from the pose in ``camera``.

    Parameters
    ----------
    camera : initial pose (R0, t0), intrinsics and window (crop) of ``image``.
    image : (H, W) grey photo of the window; mask : (H, W) bool object pixels.
    light : light in the camera project frame; optimised too when ``fit_light``.
    shading_weight : 0 fits the silhouette alone.
    silhouette : "xor" (soft symmetric difference over the mask area, unbiased) or "iou".

    Returns
    -------
    dict with ``R`` (3, 3), ``t`` (3,) tensors, ``losses`` (final parts) and ``camera``.
    """
    dtype = camera.R.dtype
    R0, t0 = camera.R.detach(), camera.t.detach()
    dist = float(t0.norm())
    w = torch.zeros(3, dtype=dtype, requires_grad=True)
    dt = torch.zeros(3, dtype=dtype, requires_grad=True)
    params = [w, dt] + (light.parameters() if fit_light else [])
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr * 1e-2)
    parts: dict[str, float] = {}
    for step in range(steps):
        opt.zero_grad()
        cam = Camera(camera.K, axis_angle_to_matrix(w) @ R0, t0 + dist * dt, camera.width,
                     camera.height, camera.x0, camera.y0)
        loss, parts, img = pose_loss(mesh, cam, image, mask, light, shading_weight, sigma, smooth,
                                    silhouette)
        loss.backward()
        opt.step()
        sched.step()
        if callback is not None:
            callback(step, cam, img.detach(), parts)
    with torch.no_grad():
        R = axis_angle_to_matrix(w) @ R0
        t = t0 + dist * dt
        cam = Camera(camera.K, R, t, camera.width, camera.height, camera.x0, camera.y0)
        _, parts, _ = pose_loss(mesh, cam, image, mask, light, shading_weight, sigma, smooth,
                                    silhouette)
    return {"R": R, "t": t, "losses": parts, "camera": cam}
