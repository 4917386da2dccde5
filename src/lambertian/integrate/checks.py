"""Checks shared by the normal integrators: normal maps, masks, cameras, mask components.

Bad input raises :class:`~lambertian.core.errors.InputError` with one line naming the
file (or argument) and the problem, never a traceback or a silent wrong answer.
"""

from __future__ import annotations

import os

import numpy as np
from scipy import ndimage

from lambertian.io.checks import (  # the one place these checks live
    UNIT_TOLERANCE,
    ZERO_NORM,
    check_camera,
    check_normal_map,
)
from lambertian.io.matrix import read_camera  # noqa: F401  (re-exported: the one K.txt reader)

__all__ = ["UNIT_TOLERANCE", "ZERO_NORM", "check_camera", "check_normals", "mask_components",
           "read_camera"]


def check_normals(normals: np.ndarray, mask: np.ndarray | None = None, *,
                  source: str | os.PathLike[str] = "normals",
                  mask_source: str | os.PathLike[str] = "mask",
                  ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate a normal map and its mask for integration: the shared
    :func:`lambertian.io.checks.check_normal_map` (``light --normals`` uses the same, so
    the two commands accept and refuse the same maps).

    Returns (H, W, 3) float64 unit normals (zeros outside the mask), the (H, W) bool
    mask and notes; raises InputError as that function does.
    """
    return check_normal_map(normals, mask, source=source, mask_source=mask_source)


def mask_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Label the 4-connected components of a mask.

    Integration links a pixel only to its 4 neighbours, so each 4-connected component
    has its own unknown offset (orthographic) or scale (perspective).

    Returns
    -------
    labels : (H, W) int32, 0 outside the mask, 1..count inside.
    count : number of components.
    """
    labels, count = ndimage.label(np.asarray(mask, bool))
    return labels.astype(np.int32), int(count)
