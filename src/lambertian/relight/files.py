"""Relighting models to and from the RTI interchange files (``.ptm``, ``.rti``).

The byte layouts live in :mod:`lambertian.io.ptm` and :mod:`lambertian.io.rti`; this
module converts between them and :class:`RelightModel`.

Units: our models are linear with 1.0 the top of the photos' range. RTIViewer evaluates a
PTM's polynomial in 8-bit units (it casts the decoded coefficients to integers and shows
``clamp(L, 0, 255)``, or ``rgb * L / 255`` for LRGB), so PTM coefficients are written times
:data:`PTM_UNITS` and divided by it on reading; HSH ``.rti`` files are evaluated in [0, 1]
(``clamp(value, 0, 1) * 255``) and keep our units. No gamma is applied either way.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.io.ptm import read_ptm, write_ptm
from lambertian.io.rti import read_rti, write_rti
from lambertian.relight.model import RelightModel

GREY = np.array([0.2989, 0.5870, 0.1140])

#: PTM polynomials are evaluated in 8-bit display units by RTIViewer.
PTM_UNITS = 255.0


def _rgb(coefficients: np.ndarray) -> np.ndarray:
    """(H, W, C, n) with C = 1 (grey) repeated to 3 channels: the files are colour."""
    c = np.asarray(coefficients)
    return np.repeat(c, 3, axis=2) if c.shape[2] == 1 else c


def ptm_lrgb(coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel PTM coefficients (H, W, 3, 6) -> LRGB: luminance (H, W, 6), colour
    (H, W, 3) uint8 with ``channel ~ luminance * colour / 255``.

    The luminance polynomial is the grey mix of the channels (DiLiGenT's weights); each
    channel's colour is its least-squares multiple of it, and the luminance is scaled so
    that the largest colour of the pixel is 255 (PTMfitter also keeps the colour's
    magnitude in the RGB block).
    """
    a = np.asarray(coefficients, np.float64)
    lum = np.einsum("hwcn,c->hwn", a, GREY)
    den = np.einsum("hwn,hwn->hw", lum, lum)
    col = np.einsum("hwcn,hwn->hwc", a, lum) / np.maximum(den, 1e-20)[..., None]
    col = np.where(den[..., None] > 0, np.maximum(col, 0.0), 0.0)
    k = np.maximum(col.max(axis=-1), 1e-12)
    rgb = np.clip(np.round(255.0 * col / k[..., None]), 0, 255).astype(np.uint8)
    return (lum * k[..., None]).astype(np.float32), rgb


def save_ptm(path: str | os.PathLike[str], model: RelightModel, lrgb: bool = False) -> Path:
    """Write a PTM model as ``.ptm``: ``PTM_FORMAT_LRGB`` when ``lrgb`` (6 + 3 bytes per
    pixel, the form PTMfitter writes), else ``PTM_FORMAT_RGB``; a grey model becomes three
    equal channels."""
    if model.kind != "ptm" or model.coefficients is None:
        raise ValueError("a .ptm file holds a PTM model (kind 'ptm')")
    c = np.where(model.mask[..., None, None], _rgb(model.coefficients), 0.0) * PTM_UNITS
    if lrgb:
        lum, rgb = ptm_lrgb(c)
        return write_ptm(path, lum, rgb)
    return write_ptm(path, c)


def save_rti(path: str | os.PathLike[str], model: RelightModel) -> Path:
    """Write an HSH model (grey models as three equal channels) as an ``.rti`` file."""
    if model.kind not in ("hsh9", "hsh16") or model.coefficients is None:
        raise ValueError("an .rti file holds an HSH model (kind 'hsh9' or 'hsh16')")
    return write_rti(path, np.where(model.mask[..., None, None], _rgb(model.coefficients),
                                    0.0))


def load_ptm(path: str | os.PathLike[str]) -> RelightModel:
    """A ``.ptm`` file as a per-channel PTM model (LRGB expanded to RGB); mask: every pixel."""
    f = read_ptm(path)
    if f.rgb is not None:
        coef = f.coefficients[:, :, None, :] * (f.rgb.astype(np.float32) / 255.0)[..., None]
    else:
        coef = f.coefficients
    h, w = coef.shape[:2]
    coef = coef / PTM_UNITS
    return RelightModel("ptm", np.ones((h, w), bool), coefficients=coef.astype(np.float32),
                        info={"file": str(path), "format": f.format})


def load_rti(path: str | os.PathLike[str]) -> RelightModel:
    """An HSH ``.rti`` file as a model of kind ``hsh9``/``hsh16`` (``hsh4`` for 4 terms)."""
    f = read_rti(path)
    h, w, _, terms = f.coefficients.shape
    return RelightModel(f"hsh{terms}", np.ones((h, w), bool), coefficients=f.coefficients,
                        info={"file": str(path)})
