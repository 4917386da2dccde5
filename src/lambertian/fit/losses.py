"""Losses for fitting a rendered mesh to a masked photograph."""

from __future__ import annotations

import torch


def iou_loss(silhouette: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``1 - IoU`` of a soft silhouette (H, W) in [0, 1] and a target mask (H, W)
    (the soft IoU of Kato et al. / SoftRas)."""
    m = mask.to(silhouette.dtype)
    inter = (silhouette * m).sum()
    union = (silhouette + m - silhouette * m).sum().clamp_min(1e-12)
    return 1.0 - inter / union


def robust_scale(residual: torch.Tensor) -> torch.Tensor:
    """1.4826 x median absolute deviation: a standard deviation that ignores outliers."""
    r = residual.detach()
    return 1.4826 * (r - r.median()).abs().median()


def cauchy_loss(residual: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """Mean Cauchy (Lorentzian) loss ``c^2 / 2 log(1 + (r / c)^2)``: bounded influence, so
    cast shadows and other unmodelled pixels do not drag the fit (Black & Rangarajan 1996)."""
    c2 = torch.as_tensor(scale, dtype=residual.dtype) ** 2
    return (0.5 * c2 * torch.log1p(residual ** 2 / c2)).mean()


def symmetric_difference_loss(silhouette: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Soft area of ``silhouette XOR mask`` over the mask's area, ``sum(s + m - 2 s m) / sum(m)``.

    It is ``1 - IoU``'s numerator over a fixed denominator. The union in ``1 - IoU`` grows
    when the silhouette grows, so its minimum sits where the soft edge spills outward (the
    camera too close, about 1% of the distance at 64 px); with a fixed denominator the
    inward and outward halves of a symmetric soft edge cancel and the minimum is the
    aligned pose.
    """
    m = mask.to(silhouette.dtype)
    return (silhouette + m - 2.0 * silhouette * m).sum() / m.sum().clamp_min(1.0)
