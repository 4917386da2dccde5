"""OpenEXR files: float32 images, exact round trip (1 channel ``Y`` or 3 channels ``RGB``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError


def write_exr(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write a float32 EXR (lossless ZIP compression), creating parent folders.

    Parameters
    ----------
    path : the file to write.
    image : (H, W), (H, W, 1) -> channel ``Y``; (H, W, 3) -> channels ``R, G, B``.

    Returns the path written.
    """
    import OpenEXR

    p = Path(path)
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise InputError(p, f"EXR images must be H x W, H x W x 1 or H x W x 3, got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    p.parent.mkdir(parents=True, exist_ok=True)
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    channels = {"Y": a} if a.ndim == 2 else {"RGB": a}
    with OpenEXR.File(header, channels) as f:
        f.write(str(p))
    return p


def read_exr(path: str | os.PathLike[str], allow_nan: bool = False) -> np.ndarray:
    """Read an EXR as float32: (H, W, 3) when it has R, G, B channels, else (H, W) for a
    single channel. Half-float channels are widened to float32.

    ``allow_nan`` accepts NaN (our depth maps mark pixels outside the mask with it);
    images read as light measurements keep the default, which refuses it.

    Raises InputError for a missing or unreadable file, a channel layout that is neither
    RGB nor single-channel, or NaN/inf values.
    """
    import OpenEXR

    p = Path(path)
    if not p.is_file():
        raise InputError(p, "EXR file not found")
    try:
        with OpenEXR.File(str(p), separate_channels=True) as f:
            ch = {k: np.asarray(v.pixels) for k, v in f.channels().items()}
    except Exception as exc:
        raise InputError(p, f"cannot read the EXR file: {exc}") from exc
    if all(k in ch for k in "RGB"):
        img = np.stack([ch["R"], ch["G"], ch["B"]], axis=-1)
    elif len(ch) == 1:
        img = next(iter(ch.values()))
    else:
        raise InputError(p, f"EXR channels {sorted(ch)} are neither R, G, B nor a single one")
    img = np.ascontiguousarray(img, dtype=np.float32)
    if not (np.isfinite(img) | (allow_nan & np.isnan(img))).all():
        raise InputError(p, "EXR image holds NaN or infinite values")
    return img
