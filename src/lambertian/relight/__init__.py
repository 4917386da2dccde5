"""Relighting: per-pixel models fitted from a capture under known lights, relit anywhere.

Plain functions, images (K, H, W[, C]) and lights (K, 3) in the project frame in, a
:class:`RelightModel` out; :func:`relight` renders it under a new light.

- :func:`fit_ptm`: polynomial texture maps (Malzbender et al. 2001), 6 terms per channel.
- :func:`fit_hsh`: hemispherical harmonics (Gautron et al. 2004), 9 or 16 per channel.
- :func:`fit_lobe`: this project's model, photometric-stereo normals, albedo, a diffuse
  ratio (6 PTM terms shared by the channels) and one white Blinn-Phong lobe about its own
  axis per pixel (16 numbers for RGB).
- :func:`fit_model`: any of them by name (``ptm``, ``hsh9``, ``hsh16``, ``ours``).
"""

from __future__ import annotations

import numpy as np

from lambertian.relight.basis import hsh_basis, ptm_basis
from lambertian.relight.lobe import SHININESS, fit_lobe
from lambertian.relight.model import KINDS, RelightModel
from lambertian.relight.polynomial import fit_hsh, fit_polynomial, fit_ptm
from lambertian.relight.render import display, relight


def fit_model(kind: str, images: np.ndarray, lights: np.ndarray,
              mask: np.ndarray | None = None, **kwargs) -> RelightModel:
    """Fit the model named ``kind`` (one of :data:`KINDS`); keyword arguments go to
    :func:`fit_lobe` (``ours``) or :func:`fit_polynomial`."""
    if kind == "ours":
        return fit_lobe(images, lights, mask, **kwargs)
    if kind in ("ptm", "hsh9", "hsh16"):
        kwargs.pop("method", None)
        kwargs.pop("progress", None)
        return fit_polynomial(images, lights, mask, kind=kind, **kwargs)
    raise ValueError(f"unknown relighting model {kind!r}; choose from {KINDS}")


__all__ = ["KINDS", "SHININESS", "RelightModel", "display", "fit_hsh", "fit_lobe",
           "fit_model", "fit_polynomial", "fit_ptm", "hsh_basis", "ptm_basis", "relight"]
