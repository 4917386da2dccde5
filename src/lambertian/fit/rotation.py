"""Rotation parametrisations for pose fitting (candidates for lambertian.core.frames)."""

from __future__ import annotations

import torch


def axis_angle_to_matrix(w: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula: axis-angle (3,) (angle = norm, radians) to a (3, 3) rotation.

    Smooth at 0 (series for small angles), so it can parametrise a pose update.
    """
    theta2 = (w * w).sum()
    theta = torch.sqrt(theta2.clamp_min(1e-30))
    small = theta2 < 1e-8
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / theta2.clamp_min(1e-30))
    zero = torch.zeros((), dtype=w.dtype)
    k = torch.stack([torch.stack([zero, -w[2], w[1]]), torch.stack([w[2], zero, -w[0]]),
                     torch.stack([-w[1], w[0], zero])])
    return torch.eye(3, dtype=w.dtype) + a * k + b * (k @ k)


def rotation_angle_deg(R1: torch.Tensor, R2: torch.Tensor) -> float:
    """Angle (degrees) of the relative rotation ``R1^T R2``."""
    c = ((torch.trace(R1.T @ R2) - 1.0) / 2.0).clamp(-1.0, 1.0)
    return float(torch.rad2deg(torch.arccos(c)))
