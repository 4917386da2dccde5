"""Error measures used by tests, commands and benchmarks.

All take NumPy arrays (or tensors) and return plain floats or NumPy arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lambertian.core.arrays import to_numpy

if TYPE_CHECKING:  # torch is loaded with the first real work, not by the metrics
    from lambertian.core.tensors import ArrayLike

# Thresholds customary in the photometric-stereo literature (degrees).
ANGLE_THRESHOLDS = (11.25, 22.5, 30.0)


def _unit(v: np.ndarray, axis: int = -1) -> np.ndarray:
    norm = np.linalg.norm(v, axis=axis, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v, dtype=np.float64), where=norm > 0)


def angular_error_deg(estimate: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """Angle in degrees between (..., 3) vectors (each normalised first)."""
    a = _unit(to_numpy(estimate).astype(np.float64))
    b = _unit(to_numpy(truth).astype(np.float64))
    cos = np.clip(np.sum(a * b, axis=-1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def normal_error_stats(estimate: ArrayLike, truth: ArrayLike,
                       mask: ArrayLike | None = None) -> dict[str, float]:
    """Mean and median angular error of a normal map, and the share of pixels below
    11.25, 22.5 and 30 degrees (in percent).

    Parameters
    ----------
    estimate, truth : (H, W, 3) normal maps, the same frame.
    mask : (H, W) bool; defaults to the pixels where ``truth`` is non-zero.
    """
    est, gt = to_numpy(estimate), to_numpy(truth)
    if mask is None:
        mask = np.linalg.norm(gt, axis=-1) > 0
    err = angular_error_deg(est[np.asarray(mask, bool)], gt[np.asarray(mask, bool)])
    stats = {"mean": float(err.mean()), "median": float(np.median(err))}
    for t in ANGLE_THRESHOLDS:
        stats[f"below_{t:g}"] = float(100.0 * np.mean(err < t))
    stats["pixels"] = int(err.size)
    return stats


def light_direction_error_deg(estimate: ArrayLike, truth: ArrayLike) -> np.ndarray:
    """Per-light angular error in degrees between (K, 3) direction sets."""
    return angular_error_deg(estimate, truth)


def scale_invariant_intensity_error(estimate: ArrayLike, truth: ArrayLike) -> float:
    """Mean relative intensity error after the best global scale.

    Uncalibrated methods recover intensities only up to one common scale, so the
    estimate is scaled by ``s = argmin_s sum (s e - g)^2`` before measuring
    ``mean(|s e - g| / g)``.
    """
    e = to_numpy(estimate).astype(np.float64).ravel()
    g = to_numpy(truth).astype(np.float64).ravel()
    s = float(e @ g / max(e @ e, 1e-300))
    return float(np.mean(np.abs(s * e - g) / np.maximum(np.abs(g), 1e-12)))


def albedo_mse(estimate: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None,
               scale_invariant: bool = False) -> float:
    """Mean squared albedo error over the mask (all channels).

    With ``scale_invariant`` the estimate is first scaled by the least-squares factor,
    for methods whose albedo is known only up to the unknown light intensity.
    """
    e = to_numpy(estimate).astype(np.float64)
    g = to_numpy(truth).astype(np.float64)
    if mask is not None:
        m = np.asarray(mask, bool)
        e, g = e[m], g[m]
    if scale_invariant:
        e = e * float((e * g).sum() / max((e * e).sum(), 1e-300))
    return float(np.mean((e - g) ** 2))
