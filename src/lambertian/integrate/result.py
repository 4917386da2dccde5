"""What every normal integrator returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class DepthResult:
    """A depth map recovered from normals.

    depth : (H, W) float32 depth along the optical axis (growing away from the camera),
        NaN outside the mask. Orthographic: pixel units, known up to one offset per mask
        component (each component's median is 0). Perspective (``K`` given): metric up to
        one scale per component (each component's median is ``info["median_depth"]``).
    mask : (H, W) bool pixels that carry a depth.
    K : (3, 3) intrinsics, or None for orthographic.
    info : method, settings, components, notes, timings.
    """

    depth: np.ndarray
    mask: np.ndarray
    K: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """Human-readable notes (dropped pixels, several components)."""
        return list(self.info.get("notes", []))
