"""What every reader checks: an image stack of one size, text tables, light vectors, masks.

Each failure is an :class:`~lambertian.core.errors.InputError` that names the file at
fault (and, for two files that disagree, both of them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io.camera_files import Encoding, check_one_kind
from lambertian.io.images import read_image, read_mask

PathLike = str | os.PathLike[str]


def natural_key(name: str) -> list[object]:
    """Sort key that orders ``img2`` before ``img10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def load_stack(paths: Sequence[PathLike], decode: bool = True,
               encoding: Encoding = "linear") -> tuple[np.ndarray, int]:
    """Read images of one size into a (K, H, W, C) float32 stack (``encoding``: see
    :func:`~lambertian.io.images.read_image`).

    Returns the stack and the common bit depth. Raises InputError for a missing or
    unreadable file, images of different sizes or channel counts (naming both files),
    or files of different bit depths. With ``decode=False`` only the first image is
    decoded (for its size and depth) and the others are checked to exist; the stack is
    then a read-only zero view of the right shape that holds no memory (for streaming
    captures larger than memory, which decode their images one at a time later).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError(None, "no images to read")
    check_one_kind(paths)
    first, depth = read_image(paths[0], encoding)
    if not decode:
        for p in paths[1:]:
            if not p.is_file():
                raise InputError(p, "image file not found")
        return np.broadcast_to(np.zeros((1, 1, 1, 1), np.float32),
                               (len(paths), *first.shape)), depth
    stack = np.empty((len(paths), *first.shape), dtype=np.float32)
    stack[0] = first
    for i, p in enumerate(paths[1:], start=1):
        img, d = read_image(p, encoding)
        if img.shape != first.shape:
            raise InputError(p, f"image is {_size(img)} but {paths[0].name} is {_size(first)}: "
                                "all images must have the same size and channels")
        if d != depth:
            raise InputError(p, f"image is {d}-bit but {paths[0].name} is {depth}-bit")
        stack[i] = img
    return stack, depth


def _size(img: np.ndarray) -> str:
    return f"{img.shape[1]}x{img.shape[0]}x{img.shape[2]}"


def read_table(path: PathLike, columns: int | None = None, *, count_line: bool | None = None,
               what: str = "table") -> np.ndarray:
    """A whitespace-separated numeric text table as float64 (rows, columns).

    ``count_line``: True when the first line holds the row count (the UW psm
    ``lights.txt``), None to detect it (a first line with one integer whose value equals
    the number of rows that follow), False for none. A count that disagrees is an error.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, f"{what} file not found")
    try:
        lines = [ln.split("#", 1)[0].replace(",", " ").split()
                 for ln in p.read_text(errors="strict").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(p, f"cannot read the {what} file: {exc}") from exc
    rows = [ln for ln in lines if ln]
    declared = None
    first_is_count = (rows and len(rows[0]) == 1 and count_line is not False
                      and (columns or 0) != 1 and re.fullmatch(r"\d+", rows[0][0]) is not None)
    if first_is_count and (count_line or int(rows[0][0]) == len(rows) - 1):
        declared = int(rows.pop(0)[0])
    try:
        table = np.asarray([[float(v) for v in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise InputError(p, f"{what} file holds a non-numeric value ({exc})") from exc
    if len({len(r) for r in rows}) > 1:
        raise InputError(p, f"{what} file has rows of different lengths")
    if table.size == 0:
        raise InputError(p, f"{what} file is empty")
    if columns is not None and table.shape[1] != columns:
        raise InputError(p, f"{what} file has {table.shape[1]} columns, expected {columns}")
    if declared is not None and declared != table.shape[0]:
        raise InputError(p, f"first line says {declared} rows but {table.shape[0]} follow")
    if not np.isfinite(table).all():
        r = int(np.flatnonzero(~np.isfinite(table).all(axis=1))[0])
        raise InputError(p, f"{what} file holds NaN or infinite values (row {r + 1})")
    return table


def check_lights(lights: np.ndarray, num_images: int,
                 source: PathLike | None) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) light vectors -> (unit directions float64, norms float64 (K,)).

    Raises InputError (naming ``source``) for a wrong shape, a count that differs from
    the number of images, NaN/inf or zero-length vectors. Non-unit vectors are
    normalised; their norms are returned for callers that read them as intensities.
    """
    L = np.asarray(lights, dtype=np.float64)
    if L.ndim != 2 or L.shape[1] != 3:
        raise InputError(source, f"lights must be K x 3, got shape {L.shape}")
    if L.shape[0] != num_images:
        raise InputError(source, f"{L.shape[0]} lights for {num_images} images")
    if not np.isfinite(L).all():
        r = int(np.flatnonzero(~np.isfinite(L).all(axis=1))[0])
        raise InputError(source, f"light {r + 1} is non-finite (holds NaN or infinite values)")
    norms = np.linalg.norm(L, axis=1)
    if (norms < 1e-12).any():
        r = int(np.flatnonzero(norms < 1e-12)[0])
        raise InputError(source, f"light {r + 1} is a zero-length vector")
    return L / norms[:, None], norms


def check_intensities(intensities: np.ndarray, num_images: int, channels: int,
                      source: PathLike | None) -> np.ndarray:
    """Intensities as (K,), (K, 1) or (K, C) -> (K, C) float64, positive and finite."""
    e = np.asarray(intensities, dtype=np.float64)
    if e.ndim == 1:
        e = e[:, None]
    if e.ndim != 2 or e.shape[0] != num_images or e.shape[1] not in (1, channels):
        raise InputError(source, f"intensities must be {num_images} x 1 or {num_images} x "
                                 f"{channels}, got shape {e.shape}")
    if not np.isfinite(e).all() or (e <= 0).any():
        raise InputError(source, "intensities must be finite and positive")
    return np.ascontiguousarray(np.broadcast_to(e, (num_images, channels)), dtype=np.float64)


def load_mask(path: PathLike, shape: tuple[int, int]) -> np.ndarray:
    """:func:`read_mask` with the images' (H, W) enforced."""
    return read_mask(path, shape)


def check_images_finite(images: np.ndarray, files: Sequence[PathLike]) -> None:
    """InputError naming the first image file that holds NaN or inf."""
    bad = ~np.isfinite(images.reshape(images.shape[0], -1)).all(axis=1)
    if bad.any():
        raise InputError(files[int(np.flatnonzero(bad)[0])], "image holds NaN or infinite values")
