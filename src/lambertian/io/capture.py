"""The one container every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Capture:
    """Images of one object under several distant lights, plus what is known about them.

    Attributes
    ----------
    name : short name of the capture (the folder name for most layouts).
    root : folder the capture was read from.
    files : image file names in the capture's own order (length K).
    images : (K, H, W, C) float32, linear, raw values scaled to [0, 1] by the file's
        bit depth (C = 1 grey or 3 RGB). Not yet divided by ``intensities``.
    mask : (H, W) bool, the object's pixels (all True when the layout has no mask).
    lights : (K, 3) float64 unit light directions, project frame, toward the light.
    intensities : (K, C) float64 per-image, per-channel light intensities (ones when
        unknown).
    bit_depth : bits per sample of the source files (8 or 16; 32 for float files).
    normals : optional (H, W, 3) float64 ground-truth unit normals, zeros outside mask.
    depth : optional (H, W) float32 ground-truth depth (NaN where unknown).
    K : optional (3, 3) camera intrinsics for ``depth``.
    meta : anything else the layout carries (crop, ambient image, notes).
    """

    name: str
    root: Path
    files: list[str]
    images: np.ndarray
    mask: np.ndarray
    lights: np.ndarray
    intensities: np.ndarray
    bit_depth: int
    normals: np.ndarray | None = None
    depth: np.ndarray | None = None
    K: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_images(self) -> int:
        return int(self.images.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    def normalized_images(self) -> np.ndarray:
        """(K, H, W, C) float32 images divided by their per-channel light intensity."""
        scale = (1.0 / self.intensities).astype(np.float32)[:, None, None, :]
        return self.images * scale

    def grey(self, normalized: bool = True) -> np.ndarray:
        """(K, H, W) float32 grey images, ITU-R BT.601 weights for RGB
        (0.2989 R + 0.5870 G + 0.1140 B, the DiLiGenT evaluation's)."""
        from lambertian.core.grey import to_grey

        return to_grey(self.normalized_images() if normalized else self.images)

    def select(self, index: np.ndarray | list[int] | slice) -> Capture:
        """A capture with only the chosen images (same mask and ground truth)."""
        idx = np.arange(self.num_images)[index]
        return Capture(self.name, self.root, [self.files[i] for i in idx], self.images[idx],
                       self.mask, self.lights[idx], self.intensities[idx], self.bit_depth,
                       self.normals, self.depth, self.K, dict(self.meta))


def require_capture(value: Any, name: str = "capture") -> Capture:
    """``value`` when it is a :class:`Capture`, else InputError naming ``name``: an array
    passed where a capture is wanted would fail later with an AttributeError of no use."""
    if not isinstance(value, Capture):
        from lambertian.core.errors import InputError

        raise InputError(name, f"expected a Capture (lambertian.io.read_capture(FOLDER)), got "
                               f"{type(value).__name__}")
    return value
