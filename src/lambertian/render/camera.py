"""Pinhole camera in the OpenCV convention, with a crop window.

Frame: OpenCV camera (x right, y down, z forward), ``X_cam = R X_world + t`` and pixel
``(u, v) = (fx x / z + cx, fy y / z + cy)``; integer ``(u, v)`` are pixel *centres*
(OpenCV's convention), column ``u``, row ``v``. A crop ``(x0, y0, w, h)`` renders
pixels ``[y0, y0 + h) x [x0, x0 + w)`` of the full image by shifting the principal point
(``cx -= x0, cy -= y0``, the seed's ``camera_matrix[1, 2] -= 1480``), so a cropped
render equals the same window of a full render exactly, at the cost of the crop only.
The rasterizer keeps the full-image ``K`` and the integer window offset apart, so the
arithmetic per pixel is the same in both renders and the pixels agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from lambertian.core.tensors import ArrayLike, as_tensor


@dataclass
class Camera:
    """A pinhole camera: intrinsics ``K`` (3, 3), pose ``R`` (3, 3), ``t`` (3,), image size.

    ``R`` and ``t`` may require grad (pose fitting); ``K`` is fixed and refers to the full
    image. ``width``/``height`` are the size of the rendered window, whose top-left pixel
    is ``(x0, y0)`` of the full image (0, 0 unless :meth:`crop` was applied).
    """

    K: torch.Tensor
    R: torch.Tensor
    t: torch.Tensor
    width: int
    height: int
    x0: int = 0
    y0: int = 0

    @classmethod
    def create(cls, K: ArrayLike, R: ArrayLike, t: ArrayLike, width: int, height: int,
               dtype: torch.dtype = torch.float32) -> Camera:
        """Build from arrays (tensors keep their autograd graph)."""
        return cls(as_tensor(K, dtype=dtype).reshape(3, 3), as_tensor(R, dtype=dtype).reshape(3, 3),
                   as_tensor(t, dtype=dtype).reshape(3), int(width), int(height))

    @property
    def dtype(self) -> torch.dtype:
        return self.R.dtype

    def crop(self, x0: int, y0: int, width: int, height: int) -> Camera:
        """The camera that renders the window ``[y0, y0+height) x [x0, x0+width)`` of the
        current one (offsets add up when crops are nested)."""
        return replace(self, x0=self.x0 + int(x0), y0=self.y0 + int(y0), width=int(width),
                       height=int(height))

    @property
    def K_window(self) -> torch.Tensor:
        """Intrinsics of the rendered window: the principal point shifted by the crop."""
        K = self.K.clone()
        K[0, 2] -= self.x0
        K[1, 2] -= self.y0
        return K

    def to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """World points (..., 3) to the OpenCV camera frame (..., 3)."""
        return points @ self.R.T + self.t

    def project(self, points_cam: torch.Tensor) -> torch.Tensor:
        """Camera-frame points (..., 3) to full-image pixel coordinates (..., 2) = (u, v)."""
        K = self.K.to(points_cam.dtype)
        z = points_cam[..., 2:3]
        xy = points_cam[..., :2] / z
        u = K[0, 0] * xy[..., 0] + K[0, 1] * xy[..., 1] + K[0, 2]
        v = K[1, 1] * xy[..., 1] + K[1, 2]
        return torch.stack([u, v], dim=-1)

    def world_light_to_camera(self, direction_world: torch.Tensor) -> torch.Tensor:
        """A world-frame vector (..., 3) in the OpenCV camera frame: ``R d``."""
        return direction_world @ self.R.T

    def camera_light_to_world(self, direction_cam: torch.Tensor) -> torch.Tensor:
        """An OpenCV camera-frame vector (..., 3) in the world frame: ``R^T d``."""
        return direction_cam @ self.R


def look_at_pose(eye: ArrayLike, target: ArrayLike, up: ArrayLike = (0.0, 1.0, 0.0),
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """OpenCV pose ``(R, t)`` of a camera at ``eye`` looking at ``target``.

    ``up`` is the world direction that appears upward in the image (image rows grow
    downward, so the camera's +y is ``-up`` projected).
    """
    eye_t = as_tensor(eye, dtype=dtype).reshape(3)
    z = as_tensor(target, dtype=dtype).reshape(3) - eye_t
    z = z / z.norm()
    down = -as_tensor(up, dtype=dtype).reshape(3)
    x = torch.linalg.cross(down, z)
    x = x / x.norm()
    y = torch.linalg.cross(z, x)
    R = torch.stack([x, y, z])
    return R, -R @ eye_t
