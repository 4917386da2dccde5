"""8-bit quantisation of per-pixel coefficients with one scale and bias per term, the scheme
both ``.ptm`` (PTM 1.2) and ``.rti`` (HSH) files use."""

from __future__ import annotations

import numpy as np


def term_ranges(coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-term (last axis) minimum and a non-zero span over every other axis."""
    c = np.asarray(coefficients, np.float64).reshape(-1, coefficients.shape[-1])
    lo = c.min(axis=0)
    span = c.max(axis=0) - lo
    # A constant term still needs a usable step: any positive span decodes it exactly.
    span = np.where(span > 0, span, np.maximum(np.abs(lo), 1.0))
    # Six significant digits: a file re-written from its own decoded (float32) numbers
    # then finds the same span, so write -> read -> write is byte-identical.
    span = np.array([float(f"{v:.6g}") for v in span])
    return lo, span


def to_bytes(values: np.ndarray) -> np.ndarray:
    """Round and clip to uint8."""
    return np.clip(np.round(values), 0, 255).astype(np.uint8)
