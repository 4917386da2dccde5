"""Checks shared by the normal integrators: normal maps, masks, cameras, mask components.

Bad input raises :class:`~lambertian.core.errors.InputError` with one line naming the
file (or argument) and the problem, never a traceback or a silent wrong answer.
"""

from __future__ import annotations

import os

import numpy as np
from scipy import ndimage

from lambertian.core.errors import InputError
from lambertian.io.matrix import check_camera, read_camera  # noqa: F401  (re-exported)

# Normals whose length is off by more than this are refused rather than renormalised:
# 8-bit PNG quantisation moves the length by < 0.01, a wrong decoding by far more.
UNIT_TOLERANCE = 0.1
# Below this length a normal counts as "no normal here" (the zeros outside a mask).
ZERO_NORM = 1e-6


def _pixel(index: np.ndarray, width: int) -> str:
    r, c = divmod(int(index), width)
    return f"row {r}, column {c}"


def check_normals(normals: np.ndarray, mask: np.ndarray | None = None, *,
                  source: str | os.PathLike[str] = "normals",
                  mask_source: str | os.PathLike[str] = "mask",
                  ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate a normal map and its mask for integration.

    Parameters
    ----------
    normals : (H, W, 3) normal map, project frame (x right, y up, z toward the camera).
    mask : (H, W) pixels to integrate; None means every pixel whose normal is non-zero.
    source, mask_source : names used in error messages (file paths or argument names).

    Returns
    -------
    normals : (H, W, 3) float64 unit normals, zeros outside the returned mask.
    mask : (H, W) bool.
    notes : human-readable notes on what was changed (zero normals dropped from the mask).

    Raises
    ------
    InputError
        for a wrong shape, a mask of another size, non-finite values or normals that are
        not unit length inside the mask, or a mask with no usable normal.
    """
    n = np.asarray(normals)
    if n.ndim != 3 or n.shape[-1] != 3:
        raise InputError(source, f"a normal map must be H x W x 3, got shape {n.shape}")
    if not np.issubdtype(n.dtype, np.number):
        raise InputError(source, f"normals must be numbers, got dtype {n.dtype}")
    n = n.astype(np.float64)
    h, w = n.shape[:2]
    if mask is None:
        with np.errstate(invalid="ignore"):
            m = ~np.all(np.nan_to_num(n, nan=0.0) == 0, axis=-1)
    else:
        m = np.asarray(mask)
        if m.ndim == 3:  # an RGB mask image: any non-zero channel
            m = m.any(axis=-1)
        m = m.astype(bool)
        if m.shape != (h, w):
            raise InputError(mask_source, f"mask is {m.shape[1]}x{m.shape[0]} but the normal map "
                                          f"is {w}x{h}")
    if not m.any():
        raise InputError(mask_source if mask is not None else source,
                         "mask is empty: no pixel to integrate")
    inside = n[m]
    finite = np.all(np.isfinite(inside), axis=-1)
    if not finite.all():
        first = np.flatnonzero(m.ravel())[np.flatnonzero(~finite)[0]]
        raise InputError(source, f"{int((~finite).sum())} normal(s) inside the mask are NaN or "
                                 f"infinite (first at {_pixel(first, w)})")
    norm = np.linalg.norm(inside, axis=-1)
    zero = norm < ZERO_NORM
    if zero.all():
        raise InputError(source, "all normals inside the mask are zero")
    bad = ~zero & (np.abs(norm - 1.0) > UNIT_TOLERANCE)
    if bad.any():
        k = np.flatnonzero(bad)[0]
        first = np.flatnonzero(m.ravel())[k]
        raise InputError(source, f"normals are not unit length: {int(bad.sum())} pixel(s) inside "
                                 f"the mask, e.g. length {norm[k]:.3g} at {_pixel(first, w)} "
                                 "(is this a normal map in [-1, 1]?)")
    notes = []
    if zero.any():
        m = m.copy()
        m.ravel()[np.flatnonzero(m.ravel())[zero]] = False
        notes.append(f"{int(zero.sum())} pixel(s) inside the mask have no normal (zero vector) "
                     "and were left out")
    out = np.zeros_like(n)
    out[m] = n[m] / np.linalg.norm(n[m], axis=-1, keepdims=True)
    return out, m, notes


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
