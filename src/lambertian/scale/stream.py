"""Photometric stereo on captures larger than memory, one band of rows at a time.

The images are decoded one at a time (PNG and most formats cannot be read in parts),
divided by their light intensities exactly as :meth:`Capture.normalized_images` does,
and staged in a raw float32 file laid out (K, H, W, C); the solver then reads one band
of rows of every image at a time and the outputs are written band by band. Peak memory
is one decoded image plus one band, whatever the capture's size, and the numbers are the
in-memory path's: the solvers are per pixel and see the same float32 values.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from lambertian.core.errors import InputError, InputWarning
from lambertian.io import read_image
from lambertian.io.checks import (
    check_exposure,
    check_images_finite,
    check_no_duplicates,
    check_not_negated,
    check_same_kind,
    check_stack_headers,
    exposure_stats,
    image_digest,
)
from lambertian.io.png_stream import PngBandWriter
from lambertian.io.writers import albedo_scale_of_values, albedo_to_png16, normals_to_png16
from lambertian.ps import get_solver
from lambertian.ps.auto import decide
from lambertian.ps.inputs import check_lights
from lambertian.ps.net import net_image_check
from lambertian.ps.robust import image_check_sample, robust_image_check
from lambertian.scale.npy_bands import NpyBandWriter, read_npy_rows

STREAMABLE_METHODS = ("ls", "robust", "net", "auto")
DEFAULT_BAND_BYTES = 32 << 20  # image data per band; the solver needs about 2x this


def band_rows(num_images: int, width: int, channels: int, band_bytes: int) -> int:
    """Rows per band so that one band of every image fits in ``band_bytes``."""
    return max(1, int(band_bytes // (num_images * width * channels * 4)))


def _stage(files: Sequence[Path], intensities: np.ndarray, staging: Path, progress: bool,
           mask: np.ndarray | None, source: str, sample_of=None
           ) -> tuple[int, int, int, int, np.ndarray, np.ndarray | None]:
    """Decode every image once into the (K, H, W, C) float32 staging file.

    Checks the mask against the first image (all pixels when None) and, when
    ``sample_of(mask)`` gives pixel indices, keeps those pixels' values as they pass.
    Returns H, W, C, the bit depth, the mask and the (K, P, C) sample (or None).
    """
    first_shape = None
    depth = 0
    sample = pix = None
    minima: list[float] = []
    maxima: list[float] = []
    digests: list[bytes] = []
    lows: list[float] = []  # over every pixel: the reader's check of negated float images
    highs: list[float] = []
    with open(staging, "wb") as f:
        for k, path in enumerate(tqdm(files, desc="staging images", unit="img",
                                      disable=not progress, leave=False)):
            # as read_capture reads a folder by default: JPEG is sRGB, other files linear
            img, d = read_image(path, "auto")
            if first_shape is None:
                first_shape, depth = img.shape, d
                h, w, c = img.shape
                if intensities.shape[1] not in (1, c):
                    raise InputError(path, f"{intensities.shape[1]} intensity channels for a "
                                           f"{c}-channel image")
                mask = np.ones((h, w), bool) if mask is None else np.asarray(mask, bool)
                if mask.shape != (h, w):
                    raise InputError(source, f"mask is {mask.shape[1]}x{mask.shape[0]}, "
                                             f"images are {w}x{h}")
                if not mask.any():
                    raise InputError(source, "mask is empty: no pixel to solve")
                if sample_of is not None:
                    pix = sample_of(mask)
                    sample = np.empty((len(files), pix.size, c), np.float32)
            else:  # the in-memory reader's checks: one size, one bit depth
                check_same_kind(path, img, d, files[0], first_shape, depth)
            check_images_finite(img[None], [path])
            if d == 32:
                lows.append(float(img.min()))
                highs.append(float(img.max()))
            lo, hi = exposure_stats(img, mask)
            minima.append(lo)
            maxima.append(hi)
            digests.append(image_digest(img))
            # The same float32 operation as Capture.normalized_images, in place.
            img *= (1.0 / intensities[k]).astype(np.float32)
            if sample is not None:
                sample[k] = img.reshape(-1, img.shape[2])[pix]
            f.write(img.data)
            del img
    if depth == 32:
        check_not_negated(lows, highs, files)
    check_exposure(minima, maxima, files, depth, source, digests)
    h, w, c = first_shape
    return h, w, c, depth, mask, sample


def _read_band(staging: Path, k: int, h: int, w: int, c: int, r0: int, r1: int) -> np.ndarray:
    out = np.empty((k, r1 - r0, w, c), np.float32)
    with open(staging, "rb") as f:
        for i in range(k):
            f.seek(((i * h + r0) * w * c) * 4)
            out[i] = np.fromfile(f, np.float32, (r1 - r0) * w * c).reshape(r1 - r0, w, c)
    return out


def stream_ps(files: Sequence[str | os.PathLike[str]], lights: np.ndarray,
              intensities: np.ndarray, mask: np.ndarray | None, out: str | os.PathLike[str],
              *, method: str = "ls", band_bytes: int = DEFAULT_BAND_BYTES,
              workdir: str | os.PathLike[str] | None = None, progress: bool = False,
              source: str = "capture") -> dict[str, Any]:
    """Solve a capture band by band and write OUT/normals.npy, albedo.npy, normal.png and
    albedo.png (the same files and values as ``lambertian ps``).

    Parameters
    ----------
    files : the K image files, in light order.
    lights : (K, 3) light directions, project frame.
    intensities : (K, C) or (K, 1) light intensities (images are divided by them).
    mask : (H, W) bool object pixels, or None for all.
    out : output folder (created).
    method : ``ls``, ``robust``, ``net`` or ``auto``. Each solves each pixel on its own,
        except the check of whole images against each other (robust, net) and robust's
        broad-specular decision (robust, auto), which run on their pixel sample as the
        images are staged and are then handed to every band, so the answer is the
        in-memory one.
    band_bytes : image data held per band (sets the peak memory).
    workdir : where the staging file goes (default: a temporary folder inside ``out``).

    Returns
    -------
    dict with shape, bands, seconds and the albedo PNG scale.
    """
    t0 = time.perf_counter()
    if method not in STREAMABLE_METHODS:
        raise InputError(source, f"method {method!r} cannot be streamed; use one of "
                                 f"{STREAMABLE_METHODS}")
    files = [Path(p) for p in files]
    # What the in-memory reader checks before decoding, for callers that pass files.
    check_no_duplicates(files)
    check_stack_headers(files)
    L = check_lights(lights, len(files), source)
    e = np.asarray(intensities, dtype=np.float64).reshape(len(files), -1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=workdir or out))
    try:
        staging = tmp / "images.f32"
        sample_of = None
        if method in ("robust", "net", "auto"):  # their global image check, same pixels
            def sample_of(m: np.ndarray) -> np.ndarray:
                return image_check_sample(np.flatnonzero(m.ravel()))
        h, w, c, depth, mask, sample = _stage(files, e, staging, progress, mask, source,
                                              sample_of)
        kwargs = {}
        solved_by = method
        if method == "auto":  # decided once, on the sample, as the in-memory auto does
            solved_by, kwargs["kept_images"] = decide(sample, L)
        elif method != "ls":
            kwargs["kept_images"] = (robust_image_check(sample, L) if method == "robust"
                                     else net_image_check(sample, L))
        del sample
        solver = get_solver(method)
        rows = band_rows(len(files), w, c, band_bytes)
        unknown = 0
        bands = range(0, h, rows)
        with NpyBandWriter(out / "normals.npy", (h, w, 3)) as nw, \
                NpyBandWriter(out / "albedo.npy", (h, w, c)) as aw:
            for r0 in tqdm(bands, desc=f"solving ({method})", unit="band",
                           disable=not progress, leave=False):
                r1 = min(h, r0 + rows)
                m = mask[r0:r1]
                if not m.any():
                    continue  # the writers' files are zero-filled already
                band = _read_band(staging, len(files), h, w, c, r0, r1)
                res = solver(band, L, m, source=source, **kwargs)
                nw.write(r0, res.normals)
                aw.write(r0, res.albedo)
                # pixels black in every image: no normal (as ps.outputs says in memory)
                unknown += int((m & ~res.normals.any(axis=-1) & ~band.any(axis=(0, 3))).sum())
                del band, res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    scale = _write_pngs(out, mask, h, rows)
    if unknown:
        warnings.warn(InputWarning(source, f"{unknown} mask pixel(s) black in every image: "
                                           "their normals are unknown (zero in normals.npy, "
                                           "none in normal.png)"), stacklevel=2)
    return {"size": [w, h], "channels": c, "bit_depth": depth, "images": len(files),
            "bands": len(bands), "rows_per_band": rows, "method": method,
            "solver": solved_by,
            "pixels": int(mask.sum()), "albedo_png_scale": scale, "unknown_pixels": unknown,
            "seconds": time.perf_counter() - t0}


def _write_pngs(out: Path, mask: np.ndarray, h: int, rows: int) -> float:
    """normal.png and albedo.png encoded band by band from the written .npy files, by the
    in-memory writers' own encoders, and streamed into the PNGs; returns the albedo
    scale."""
    def encode(npy: str, png: str, channels: int, fn) -> None:
        writer = PngBandWriter(out / png, h, mask.shape[1], channels)
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            writer.write(fn(read_npy_rows(out / npy, r0, r1), mask[r0:r1]))
        writer.close()

    encode("normals.npy", "normal.png", 3, normals_to_png16)
    # The masked albedo values in row-major order, as write_albedo_png takes them.
    channels = read_npy_rows(out / "albedo.npy", 0, 1).shape[2]
    values = np.empty((int(mask.sum()), channels), np.float32)
    at = 0
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        band = read_npy_rows(out / "albedo.npy", r0, r1)[mask[r0:r1]]
        values[at:at + len(band)] = band
        at += len(band)
    scale = albedo_scale_of_values(values)
    del values
    encode("albedo.npy", "albedo.png", channels, lambda a, m: albedo_to_png16(a, m, scale))
    return scale
