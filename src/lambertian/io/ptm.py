"""Polynomial texture map files (``.ptm``, PTM 1.2), as RTIViewer and PTMviewer read them.

Layout (HP Labs' PTM format 1.2, and the open reader/writer of the ``rti-builder`` tools):

    PTM_1.2\\n
    PTM_FORMAT_LRGB | PTM_FORMAT_RGB\\n
    <width>\\n<height>\\n
    <6 scales, floats>\\n
    <6 biases, integers>\\n
    <binary coefficients>

Coefficient ``i`` of a pixel is ``(byte - bias_i) * scale_i``; the order is
``a0..a5`` of ``L(lu, lv) = a0 lu^2 + a1 lv^2 + a2 lu lv + a3 lu + a4 lv + a5``, with
``(lu, lv)`` the light's projection on the image plane, ``lv`` toward the image's top
(:func:`lambertian.relight.basis.ptm_basis`). Rows are stored bottom row first.

- ``PTM_FORMAT_LRGB``: 6 bytes per pixel (luminance coefficients) for every pixel, then 3
  bytes (R, G, B) per pixel; the colour is ``L(lu, lv) * RGB / 255``.
- ``PTM_FORMAT_RGB``: three blocks, red, green, blue, each of 6 bytes per pixel.

Only the uncompressed formats are written and read (not the JPEG ones). This module moves
numbers, not units: RTIViewer evaluates the polynomial in 8-bit units (0-255), which
:mod:`lambertian.relight.files` takes care of.

Reference: T. Malzbender, D. Gelb, H. Wolters, B. Zuckerman, "Enhancement of Shape
Perception by Surface Reflectance Transformation", HP Labs HPL-2000-38R1; "PTM File Format
1.2", HP Labs (2001).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io.rti_quantise import term_ranges, to_bytes

VERSION = "PTM_1.2"
FORMATS = ("PTM_FORMAT_LRGB", "PTM_FORMAT_RGB")


@dataclass
class PTMFile:
    """The content of a ``.ptm`` file, decoded.

    format : ``PTM_FORMAT_LRGB`` or ``PTM_FORMAT_RGB``.
    coefficients : LRGB: (H, W, 6) float32 luminance coefficients; RGB: (H, W, 3, 6).
        Row 0 is the image's top row (the file's last).
    rgb : LRGB: (H, W, 3) uint8 colour; RGB: None.
    scale : (6,) float64; bias : (6,) int64 (as in the header).
    """

    format: str
    coefficients: np.ndarray
    rgb: np.ndarray | None
    scale: np.ndarray
    bias: np.ndarray


def quantise_ptm(coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., 6) coefficients -> (uint8 bytes, scale (6,), integer bias (6,)).

    One scale and bias per term over the whole image (and over the channels of an RGB
    PTM), so that ``(byte - bias) * scale`` spans each term's range in 256 steps.
    """
    lo, span = term_ranges(coefficients)
    scale = span / 255.0
    bias = np.round(-lo / scale).astype(np.int64)
    q = to_bytes(np.asarray(coefficients, np.float64) / scale + bias)
    return q, scale, bias


def write_ptm(path: str | os.PathLike[str], coefficients: np.ndarray,
              rgb: np.ndarray | None = None) -> Path:
    """Write a ``.ptm`` file.

    Parameters
    ----------
    path : output file (written whole; an existing file is replaced).
    coefficients : (H, W, 3, 6) per-channel coefficients (``PTM_FORMAT_RGB``), or
        (H, W, 6) luminance coefficients with ``rgb`` (``PTM_FORMAT_LRGB``). Row 0 is
        the image's top row.
    rgb : (H, W, 3) uint8 colour for LRGB.

    Returns
    -------
    The path written.
    """
    c = np.asarray(coefficients)
    if c.ndim == 3 and c.shape[-1] == 6 and rgb is not None:
        fmt = "PTM_FORMAT_LRGB"
        col = np.asarray(rgb)
        if col.shape != c.shape[:2] + (3,) or col.dtype != np.uint8:
            raise ValueError(f"LRGB colour must be uint8 {c.shape[:2] + (3,)}, got "
                             f"{col.dtype} {col.shape}")
    elif c.ndim == 4 and c.shape[2:] == (3, 6) and rgb is None:
        fmt = "PTM_FORMAT_RGB"
    else:
        raise ValueError("coefficients must be (H, W, 3, 6) for RGB or (H, W, 6) with rgb "
                         f"for LRGB, got {c.shape}")
    h, w = c.shape[:2]
    q, scale, bias = quantise_ptm(c)
    head = (f"{VERSION}\n{fmt}\n{w}\n{h}\n" + " ".join(f"{s:.9g}" for s in scale) + "\n"
            + " ".join(str(int(b)) for b in bias) + "\n")
    q = q[::-1]  # bottom row first
    if fmt == "PTM_FORMAT_LRGB":
        body = q.tobytes() + np.ascontiguousarray(col[::-1]).tobytes()
    else:
        body = b"".join(np.ascontiguousarray(q[:, :, ch, :]).tobytes() for ch in range(3))
    p = Path(path)
    p.write_bytes(head.encode("ascii") + body)
    return p


def _tokens(data: bytes, pos: int, count: int, source: Path) -> tuple[list[bytes], int]:
    """``count`` whitespace-separated ASCII tokens from ``pos``; returns them and the
    offset just past the line that ends the last one."""
    out: list[bytes] = []
    n = len(data)
    while len(out) < count:
        while pos < n and data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while pos < n and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            raise InputError(source, f"header ends after {len(out)} of {count} numbers")
        out.append(data[start:pos])
    while pos < n and data[pos:pos + 1] in (b" ", b"\t", b"\r"):
        pos += 1
    if pos < n and data[pos:pos + 1] == b"\n":
        pos += 1
    return out, pos


def _line(data: bytes, pos: int) -> tuple[str, int]:
    end = data.find(b"\n", pos)
    end = len(data) if end < 0 else end
    return data[pos:end].decode("ascii", "replace").strip(), end + 1


def read_ptm(path: str | os.PathLike[str]) -> PTMFile:
    """Read an uncompressed PTM 1.2 file (LRGB or RGB).

    Raises
    ------
    InputError : an unknown version or format line, a malformed header, or fewer
        coefficient bytes than the header announces (one line naming the file).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise InputError(p, f"cannot read: {err.strerror or err}") from None
    version, pos = _line(data, 0)
    if version != VERSION:
        raise InputError(p, f"unknown format line {version[:40]!r}: not a {VERSION} file")
    fmt, pos = _line(data, pos)
    if fmt not in FORMATS:
        raise InputError(p, f"unknown format line {fmt[:40]!r}: this reader knows "
                            f"{' and '.join(FORMATS)}")
    toks, pos = _tokens(data, pos, 14, p)
    try:
        w, h = int(toks[0]), int(toks[1])
        scale = np.array([float(t) for t in toks[2:8]])
        bias = np.array([int(float(t)) for t in toks[8:14]], np.int64)
    except ValueError:
        raise InputError(p, "malformed header: width, height, 6 scales and 6 biases "
                            "must be numbers") from None
    if w <= 0 or h <= 0:
        raise InputError(p, f"malformed header: size {w} x {h}")
    per_pixel = 9 if fmt == "PTM_FORMAT_LRGB" else 18
    need = w * h * per_pixel
    have = len(data) - pos
    if have < need:
        raise InputError(p, f"truncated coefficients: {have} bytes for a {w} x {h} {fmt} "
                            f"image, which needs {need}")
    raw = np.frombuffer(data, np.uint8, need, pos)
    if fmt == "PTM_FORMAT_LRGB":
        q = raw[:w * h * 6].reshape(h, w, 6)[::-1]
        rgb = raw[w * h * 6:].reshape(h, w, 3)[::-1].copy()
        coef = ((q.astype(np.float64) - bias) * scale).astype(np.float32)
        return PTMFile(fmt, coef, rgb, scale, bias)
    q = raw.reshape(3, h, w, 6)[:, ::-1].transpose(1, 2, 0, 3)
    coef = ((q.astype(np.float64) - bias) * scale).astype(np.float32)
    return PTMFile(fmt, coef, None, scale, bias)
