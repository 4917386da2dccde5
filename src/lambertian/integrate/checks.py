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

# Smallest z of a normal the integrators take (see check_normals).
MIN_NZ = 1e-3

__all__ = ["MIN_NZ", "UNIT_TOLERANCE", "ZERO_NORM", "check_camera", "check_normals",
           "mask_components", "read_camera"]


def check_normals(normals: np.ndarray, mask: np.ndarray | None = None, *,
                  source: str | os.PathLike[str] = "normals",
                  mask_source: str | os.PathLike[str] = "mask",
                  ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate a normal map and its mask for integration: the shared
    :func:`lambertian.io.checks.check_normal_map` (``light --normals`` uses the same, so
    the two commands accept and refuse the same maps).

    Normals within ``MIN_NZ`` of edge-on or facing away (noise at a silhouette) are tilted
    to ``z = MIN_NZ``: at ``z = 0`` a pixel's equations say nothing about its depth, and
    the system of a region of them is singular.

    Returns (H, W, 3) float64 unit normals (zeros outside the mask), the (H, W) bool
    mask and notes; raises InputError as that function does.
    """
    n, m, notes = check_normal_map(normals, mask, source=source, mask_source=mask_source)
    low = m & (n[..., 2] < MIN_NZ)
    if low.any():
        t = n[low]
        side = np.linalg.norm(t[:, :2], axis=-1, keepdims=True)
        t[:, :2] *= np.sqrt(1 - MIN_NZ ** 2) / np.maximum(side, 1e-12)
        t[:, 2] = MIN_NZ
        n[low] = t
        notes.append(f"{int(low.sum())} normal(s) edge-on or facing away (z < {MIN_NZ:g}) "
                     f"were tilted to z = {MIN_NZ:g}")
    return n, m, notes


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
