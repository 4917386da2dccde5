"""Hemispherical-harmonics RTI files (``.rti``), as RTIBuilder writes and RTIViewer reads them.

Layout (RTIViewer's loader for ``.rti``; the HSH fitter of RTIBuilder writes the same):

    #HSH1.2\\n                       (comment lines start with '#')
    3\\n                             (file type: 3 = hemispherical harmonics)
    <width> <height> <bands>\\n      (bands = 3 colour channels)
    <terms> <basis type> <element size>\\n   (terms 4, 9 or 16; element size 1 byte)
    <terms float32 scales><terms float32 biases>   (little endian)
    then for each row, for each pixel, for each band: <terms bytes>

Term ``k`` of a pixel and band is ``byte / 255 * scale_k + bias_k``; the basis is
:func:`lambertian.relight.basis.hsh_basis` (``theta = acos(lz)``, ``phi = atan2(ly, lx)``,
``ly`` toward the image's top). Rows are stored top row first, as RTIViewer draws them.

Reference: P. Gautron, J. Krivanek, S. Pattanaik, K. Bouatouch, "A Novel Hemispherical
Basis for Accurate and Efficient Rendering", EGSR 2004; Cultural Heritage Imaging,
RTIBuilder and RTIViewer (ISTI-CNR Visual Computing Lab).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io.rti_quantise import term_ranges, to_bytes

HSH_FILE_TYPE = 3
HSH_BASIS_TYPE = 2
TERMS = (4, 9, 16)


@dataclass
class RTIFile:
    """The content of an HSH ``.rti`` file, decoded.

    coefficients : (H, W, bands, terms) float32, row 0 the image's top row.
    scale, bias : (terms,) float32 as in the file.
    """

    coefficients: np.ndarray
    scale: np.ndarray
    bias: np.ndarray


def quantise_rti(coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(..., terms) -> (uint8 bytes, float32 scale, float32 bias) with
    ``byte / 255 * scale + bias`` spanning each term's range over the image."""
    lo, span = term_ranges(coefficients)
    scale = span.astype(np.float32)
    bias = lo.astype(np.float32)
    q = to_bytes((np.asarray(coefficients, np.float64) - bias) / scale.astype(np.float64)
                 * 255.0)
    return q, scale, bias


def write_rti(path: str | os.PathLike[str], coefficients: np.ndarray) -> Path:
    """Write an HSH ``.rti`` file.

    Parameters
    ----------
    path : output file (written whole; an existing file is replaced).
    coefficients : (H, W, 3, terms) with terms 4, 9 or 16; row 0 the image's top row.
    """
    c = np.asarray(coefficients)
    if c.ndim != 4 or c.shape[2] != 3 or c.shape[3] not in TERMS:
        raise ValueError(f"coefficients must be (H, W, 3, 4|9|16), got {c.shape}")
    h, w, bands, terms = c.shape
    q, scale, bias = quantise_rti(c)
    head = f"#HSH1.2\n{HSH_FILE_TYPE}\n{w} {h} {bands}\n{terms} {HSH_BASIS_TYPE} 1\n"
    p = Path(path)
    p.write_bytes(head.encode("ascii") + scale.astype("<f4").tobytes()
                  + bias.astype("<f4").tobytes() + np.ascontiguousarray(q).tobytes())
    return p


def read_rti(path: str | os.PathLike[str]) -> RTIFile:
    """Read an HSH ``.rti`` file with one-byte coefficients.

    Raises
    ------
    InputError : an unknown file type (only 3, HSH, is known), a malformed header, or
        fewer coefficient bytes than the header announces (one line naming the file).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise InputError(p, f"cannot read: {err.strerror or err}") from None
    pos = 0
    while data[pos:pos + 1] == b"#":
        end = data.find(b"\n", pos)
        if end < 0:
            raise InputError(p, "header ends inside a comment line")
        pos = end + 1
    lines = []
    for _ in range(3):
        end = data.find(b"\n", pos)
        if end < 0:
            raise InputError(p, "header ends early: need the type, size and terms lines")
        lines.append(data[pos:end].decode("ascii", "replace").split())
        pos = end + 1
    try:
        file_type = int(lines[0][0])
        w, h, bands = (int(v) for v in lines[1][:3])
        terms, _basis, element = (int(v) for v in lines[2][:3])
    except (ValueError, IndexError):
        raise InputError(p, "malformed header: type, 'width height bands' and 'terms basis "
                            "element-size' lines must be integers") from None
    if file_type != HSH_FILE_TYPE:
        raise InputError(p, f"unknown format line {' '.join(lines[0])[:40]!r}: this reader "
                            f"knows file type {HSH_FILE_TYPE} (hemispherical harmonics)")
    if element != 1 or terms not in TERMS or bands < 1 or w <= 0 or h <= 0:
        raise InputError(p, f"unsupported HSH layout: {w} x {h} x {bands} bands, {terms} "
                            f"terms, {element}-byte elements (need 1-byte, 4/9/16 terms)")
    need = 8 * terms + w * h * bands * terms
    have = len(data) - pos
    if have < need:
        raise InputError(p, f"truncated coefficients: {have} bytes for a {w} x {h} "
                            f"{terms}-term file, which needs {need}")
    scale = np.frombuffer(data, "<f4", terms, pos).astype(np.float32)
    bias = np.frombuffer(data, "<f4", terms, pos + 4 * terms).astype(np.float32)
    q = np.frombuffer(data, np.uint8, w * h * bands * terms, pos + 8 * terms)
    q = q.reshape(h, w, bands, terms)
    coef = (q.astype(np.float64) / 255.0 * scale.astype(np.float64)
            + bias.astype(np.float64)).astype(np.float32)
    return RTIFile(coef, scale, bias)
