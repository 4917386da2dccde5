"""What every relighting fit returns, and how many numbers per pixel it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Model kinds: PTM (6 per channel), hemispherical harmonics (9 or 16 per channel), and
#: this project's physical model (normal, albedo, a specular lobe).
KINDS = ("ptm", "hsh9", "hsh16", "ours")

#: Terms of ``ours``'s diffuse ratio (the PTM biquadratic of the light direction).
RATIO_TERMS = 6


@dataclass
class RelightModel:
    """A per-pixel relighting model of one capture.

    kind : one of :data:`KINDS`.
    mask : (H, W) bool, pixels that were fitted (the rest relight to 0).
    coefficients : polynomial kinds only: (H, W, C, n) float32, channel ``c`` under light
        ``l`` is ``basis(l) @ coefficients[..., c, :]`` (:mod:`lambertian.relight.basis`).
    normals : ``ours``: (H, W, 3) float32 unit normals, project frame.
    albedo : ``ours``: (H, W, C) float32 diffuse albedo (times the light scale).
    specular : ``ours``: (H, W, 1) float32 strength of the Blinn-Phong lobe (the light's
        colour: one for every channel).
    shininess : ``ours``: (H, W) float32 Blinn-Phong exponent, one of
        :data:`lambertian.relight.lobe.SHININESS`.
    axis : ``ours``: (H, W, 3) float32 unit axis of the lobe (toward the camera: stored as
        its x and y); None reads as the normals.
    ratio : ``ours``: (H, W, 6) float32 coefficients ``r`` of the diffuse ratio
        ``max(0, 1 + r . ptm_basis(l))`` (:mod:`lambertian.relight.lobe`); None reads as 0.
    info : method, settings, timings.
    """

    kind: str
    mask: np.ndarray
    coefficients: np.ndarray | None = None
    normals: np.ndarray | None = None
    albedo: np.ndarray | None = None
    specular: np.ndarray | None = None
    shininess: np.ndarray | None = None
    axis: np.ndarray | None = None
    ratio: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mask.shape[0]), int(self.mask.shape[1])

    @property
    def channels(self) -> int:
        if self.coefficients is not None:
            return int(self.coefficients.shape[2])
        assert self.albedo is not None
        return int(self.albedo.shape[2])

    def numbers_per_pixel(self) -> int:
        """How many numbers the model stores for one pixel (the issue's budget is 16)."""
        if self.kind == "ours":
            # a unit normal is 2 degrees of freedom but stored as 3 numbers; count 3.
            # normal 3, albedo C, specular 1, exponent 1, axis 2, diffuse ratio 6
            return 3 + self.channels + 1 + 1 + 2 + RATIO_TERMS
        assert self.coefficients is not None
        return int(self.coefficients.shape[2] * self.coefficients.shape[3])
