"""Depth error against a reference, after the alignment the integration leaves free."""

from __future__ import annotations

import numpy as np


def aligned_depth_error(depth: np.ndarray, reference: np.ndarray,
                        mask: np.ndarray | None = None) -> dict[str, float]:
    """Mean absolute depth error after the best scale-and-offset alignment.

    Normal integration recovers depth up to an offset (orthographic) or a scale
    (perspective); both are fitted here by least squares, ``min_{s,o} ||s d + o - g||^2``,
    over the pixels where both maps are finite (and ``mask``, if given).

    Parameters
    ----------
    depth, reference : (H, W) depth maps, NaN where unknown (the reference's units).
    mask : optional (H, W) bool restricting the pixels compared.

    Returns
    -------
    dict with ``mae`` and ``rmse`` (reference units), ``median``, ``scale``, ``offset``
    and ``pixels``.
    """
    d = np.asarray(depth, np.float64)
    g = np.asarray(reference, np.float64)
    v = np.isfinite(d) & np.isfinite(g)
    if mask is not None:
        v &= np.asarray(mask, bool)
    if v.sum() < 2:
        raise ValueError("fewer than 2 pixels where both depth maps are known")
    A = np.stack([d[v], np.ones(int(v.sum()))], axis=1)
    (s, o), *_ = np.linalg.lstsq(A, g[v], rcond=None)
    err = np.abs(A @ np.array([s, o]) - g[v])
    return {"mae": float(err.mean()), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "median": float(np.median(err)), "scale": float(s), "offset": float(o),
            "pixels": int(v.sum())}
