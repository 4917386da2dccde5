"""The light type: ambient + one directional light, as in the light JSON of DESIGN.md.

``{"direction": [x, y, z], "intensity": d, "ambient": a}`` in the project frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class DirectionalLight:
    """A distant light toward ``direction`` (unit, project frame) plus ambient."""

    direction: np.ndarray
    intensity: float = 1.0
    ambient: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = np.asarray(self.direction, dtype=np.float64).reshape(3)
        norm = np.linalg.norm(d)
        if not np.isfinite(norm) or norm == 0:
            raise ValueError(f"light direction {d.tolist()} has no direction")
        self.direction = d / norm

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"direction": [float(v) for v in self.direction],
                               "intensity": float(self.intensity),
                               "ambient": float(self.ambient)}
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DirectionalLight:
        extra = {k: v for k, v in d.items() if k not in ("direction", "intensity", "ambient")}
        return cls(np.asarray(d["direction"], float), float(d.get("intensity", 1.0)),
                   float(d.get("ambient", 0.0)), extra)
