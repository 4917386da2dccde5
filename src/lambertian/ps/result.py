"""What every photometric-stereo solver returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class PSResult:
    """Normals and albedo recovered from images under known lights.

    normals : (H, W, 3) float32 unit normals, project frame, zeros outside the mask.
    albedo : (H, W, C) float32 albedo (times the light scale), zeros outside the mask.
    mask : (H, W) bool pixels that were solved.
    inliers : optional (H, W, K) bool, the observations each pixel's fit used.
    info : method name, settings, timings.
    """

    normals: np.ndarray
    albedo: np.ndarray
    mask: np.ndarray
    inliers: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
