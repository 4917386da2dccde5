"""Writing results and captures: 16-bit normal and albedo PNGs, and the DiLiGenT layout.

Normal maps are stored as the conventional colour code ``(n + 1) / 2`` (project frame:
x right, y up, z toward the camera) in 16-bit RGB, with 0 in all three channels meaning
"no normal" (no unit vector maps there).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.frames import normal_to_rgb, rgb_to_normal
from lambertian.io.checks import check_lights
from lambertian.io.images import read_image

PathLike = str | os.PathLike[str]

# Albedo maps are scaled so that this percentile of the masked values maps to full scale:
# a handful of specular or mis-fitted pixels then cannot darken the whole map.
ALBEDO_PERCENTILE = 99.5


def _imwrite(path: Path, img: np.ndarray) -> None:
    """Write an (H, W) or (H, W, 3) RGB integer image with OpenCV (which wants BGR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = img[..., ::-1] if img.ndim == 3 else img
    # Encoded in memory, then written: OpenCV's own path handling crashes the process on a
    # file name that is not valid UTF-8.
    try:
        ok, data = cv2.imencode(path.suffix, np.ascontiguousarray(out))
    except cv2.error:
        ok = False
    if not ok:
        raise InputError(path, "cannot write the image (unsupported extension)")
    try:
        data.tofile(path)
    except OSError as exc:
        raise InputError(path, f"cannot write the image: {exc.strerror or exc}") from exc


def _quantise(x: np.ndarray, bits: int, source: PathLike) -> np.ndarray:
    """[0, 1] floats to uint8/uint16 by rounding; values outside [0, 1] are an error
    (clipping would silently change the data)."""
    a = np.asarray(x, dtype=np.float64)
    if not np.isfinite(a).all():
        raise InputError(source, "values hold NaN or infinite numbers")
    lo, hi = float(a.min(initial=0.0)), float(a.max(initial=0.0))
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise InputError(source, f"values span [{lo:.4g}, {hi:.4g}]; a {bits}-bit image holds "
                                 "[0, 1]: scale them first")
    top = (1 << bits) - 1
    return np.rint(np.clip(a, 0.0, 1.0) * top).astype(np.uint16 if bits == 16 else np.uint8)


def normals_to_png16(normals: np.ndarray, mask: np.ndarray | None = None,
                     source: PathLike = "normals") -> np.ndarray:
    """(H, W, 3) normals -> (H, W, 3) uint16 RGB code ``(n + 1) / 2``, zeros outside the
    mask (default: the pixels with a non-zero normal) and at zero vectors inside it (a
    pixel whose normal is unknown). Works on any band of rows, so a large map can be
    encoded piece by piece."""
    n = np.asarray(normals, dtype=np.float64)
    if n.ndim != 3 or n.shape[2] != 3:
        raise InputError(source, f"normals must be H x W x 3, got {n.shape}")
    if not np.isfinite(n).all():
        raise InputError(source, "normals hold NaN or infinite values")
    norm = np.linalg.norm(n, axis=2, keepdims=True)
    m = (norm[..., 0] > 0) if mask is None else np.asarray(mask, bool)
    if m.shape != n.shape[:2]:
        raise InputError(source, f"mask is {m.shape}, normals are {n.shape[:2]}")
    # A zero vector inside the mask is a normal the solver could not find (a pixel black
    # in every image: a dead pixel, a crevice never lit). It is written as "no normal",
    # the code outside the mask, rather than failing the whole map: whether such pixels
    # are acceptable is for the caller to judge (ps.outputs does), not the encoder.
    unit = np.divide(n, norm, out=np.zeros_like(n), where=norm > 0)
    code = _quantise(normal_to_rgb(unit), 16, source)
    code[~m | (norm[..., 0] == 0)] = 0
    return code


def write_png16(path: PathLike, image: np.ndarray) -> Path:
    """Write an (H, W) grey or (H, W, 3) RGB uint16 (or uint8) array as PNG, as is."""
    p = Path(path)
    a = np.asarray(image)
    if a.dtype not in (np.uint8, np.uint16) or a.ndim not in (2, 3) or (
            a.ndim == 3 and a.shape[2] != 3):
        raise InputError(p, f"expected an H x W [x 3] uint16 array, got {a.dtype} {a.shape}")
    _imwrite(p, a)
    return p


def write_normal_png(path: PathLike, normals: np.ndarray, mask: np.ndarray | None = None
                     ) -> Path:
    """Write a normal map as a 16-bit RGB PNG of ``(n + 1) / 2``, zeros outside the mask.

    Parameters
    ----------
    path : the PNG file (parent folders are created).
    normals : (H, W, 3) normals, project frame (normalised here; zero vectors, unknown
        normals, are written as 0, "no normal", also inside the mask).
    mask : optional (H, W) bool; defaults to the pixels with a non-zero normal.
    """
    return write_png16(path, normals_to_png16(normals, mask, path))


def read_normal_png(path: PathLike) -> np.ndarray:
    """Read a normal map written by :func:`write_normal_png`.

    Returns (H, W, 3) float64 unit normals (project frame), zeros where the file holds
    (0, 0, 0). Each component is within 1/65535 of what was written, before the
    renormalisation.
    """
    img, depth = read_image(path)
    if img.shape[2] != 3:
        raise InputError(path, f"a normal map has 3 channels, this file has {img.shape[2]}")
    if depth == 8:
        raise InputError(path, "normal map is 8-bit; expected the 16-bit maps this package "
                               "writes")
    raw = img.astype(np.float64)
    valid = raw.any(axis=2)
    n = rgb_to_normal(raw)
    norm = np.linalg.norm(n, axis=2, keepdims=True)
    # A normal map's codes decode to unit vectors (16-bit rounding moves the length by
    # < 1e-4); an ordinary photo's colours decode to vectors of any length.
    off = valid & (np.abs(norm[..., 0] - 1.0) > 0.01)
    if off.any():
        raise InputError(path, f"not a normal map: {int(off.sum())} of {int(valid.sum())} "
                               "pixels do not decode to unit vectors ((n + 1) / 2 colour code)")
    out = np.divide(n, norm, out=np.zeros_like(n), where=norm > 0)
    out[~valid] = 0.0
    return out


def _albedo_array(albedo: np.ndarray, source: PathLike) -> np.ndarray:
    a = np.asarray(albedo)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise InputError(source, f"albedo must be H x W, H x W x 1 or H x W x 3, got {a.shape}")
    return a


def albedo_scale(albedo: np.ndarray, mask: np.ndarray | None = None,
                 source: PathLike = "albedo") -> float:
    """The value :func:`write_albedo_png` maps to full scale: the
    :data:`ALBEDO_PERCENTILE` percentile of the masked values (1 for an all-black map)."""
    a = _albedo_array(albedo, source)
    m = np.ones(a.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    if m.shape != a.shape[:2]:
        raise InputError(source, f"mask is {m.shape}, albedo is {a.shape[:2]}")
    return albedo_scale_of_values(a[m], source)  # a[m] is a copy: free to reorder


def albedo_scale_of_values(values: np.ndarray, source: PathLike = "albedo") -> float:
    """:func:`albedo_scale` of the masked albedo values already gathered (any shape, in
    the mask's row-major order), for maps encoded band by band. ``values`` is reordered
    in place (the percentile partitions it rather than a copy)."""
    vals = np.asarray(values)
    if not np.isfinite(vals).all():
        raise InputError(source, "albedo holds NaN or infinite values")
    scale = (float(np.percentile(vals, ALBEDO_PERCENTILE, overwrite_input=True))
             if vals.size else 0.0)
    return scale if scale > 0 else 1.0  # an all-black map: nothing to normalise


def albedo_to_png16(albedo: np.ndarray, mask: np.ndarray | None, scale: float,
                    source: PathLike = "albedo") -> np.ndarray:
    """(H, W[, C]) albedo -> uint16 code ``albedo / scale`` (saturating), zeros outside
    the mask. Works on any band of rows, so a large map can be encoded piece by piece."""
    a = _albedo_array(albedo, source).astype(np.float64)
    if not np.isfinite(a).all():
        raise InputError(source, "albedo holds NaN or infinite values")
    if not np.isfinite(scale) or scale <= 0:
        raise InputError(source, f"scale must be positive, got {scale}")
    m = np.ones(a.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    if m.shape != a.shape[:2]:
        raise InputError(source, f"mask is {m.shape}, albedo is {a.shape[:2]}")
    code = _quantise(np.clip(a / scale, 0.0, 1.0), 16, source)
    code[~m] = 0
    return code


def write_albedo_png(path: PathLike, albedo: np.ndarray, mask: np.ndarray | None = None,
                     scale: float | None = None) -> float:
    """Write an albedo map as a 16-bit PNG (grey or RGB), zeros outside the mask.

    Parameters
    ----------
    path : the PNG file.
    albedo : (H, W) or (H, W, C) with C = 1 or 3, non-negative.
    mask : optional (H, W) bool (default: every pixel).
    scale : the albedo value written as full scale; by default :func:`albedo_scale`
        (values above it saturate).

    Returns
    -------
    The scale used (pixel value = albedo / scale).
    """
    p = Path(path)
    if scale is None:
        scale = albedo_scale(albedo, mask, p)
    write_png16(p, albedo_to_png16(albedo, mask, scale, p))
    return float(scale)


def write_diligent(folder: PathLike, images: np.ndarray, lights: np.ndarray,
                   intensities: np.ndarray | None = None, mask: np.ndarray | None = None,
                   normals: np.ndarray | None = None, depth: np.ndarray | None = None,
                   K: np.ndarray | None = None, bit_depth: int = 16,
                   names: Sequence[str] | None = None, overwrite: bool = False) -> Path:
    """Write a capture in the DiLiGenT layout, exactly what :func:`read_diligent` reads.

    Parameters
    ----------
    folder : output folder (created with its parents).
    images : (K, H, W) or (K, H, W, C), C = 1 or 3, linear values in [0, 1]; quantised to
        ``bit_depth`` bits (8 or 16) by rounding.
    lights : (K, 3) light vectors, project frame (written normalised, full precision).
    intensities : (K,) or (K, C) per-image intensities (ones when None).
    mask : (H, W) bool (all True when None), written as an 8-bit 0/255 ``mask.png``.
    normals : optional (H, W, 3) -> ``Normal_gt.mat`` (key ``Normal_gt``, float64).
    depth : optional (H, W) -> ``depth_gt.npy`` (float32).
    K : optional (3, 3) intrinsics -> ``K.txt``.
    names : image file names (default ``001.png`` ...); each must end in ``.png``.
    overwrite : replace files already in ``folder``; without it, any existing file of the
        layout is an error (never write over a user's input).

    Returns the folder.
    """
    out = Path(folder)
    img = np.asarray(images)
    if img.ndim == 3:
        img = img[..., None]
    if img.ndim != 4 or img.shape[3] not in (1, 3):
        raise InputError(out, f"images must be K x H x W [x 1|3], got {img.shape}")
    k, h, w, c = img.shape
    if bit_depth not in (8, 16):
        raise InputError(out, f"bit_depth must be 8 or 16, got {bit_depth}")
    L, _ = check_lights(lights, k, "lights")
    e = np.ones((k, c)) if intensities is None else np.asarray(intensities, np.float64)
    if e.ndim == 1:
        e = e[:, None]
    if e.shape[0] != k or e.shape[1] not in (1, c) or not (np.isfinite(e).all() and
                                                          (e > 0).all()):
        raise InputError("intensities", f"expected {k} x {c} positive values, got {e.shape}")
    e = np.broadcast_to(e, (k, c))
    m = np.ones((h, w), bool) if mask is None else np.asarray(mask, bool)
    if m.shape != (h, w):
        raise InputError("mask", f"mask is {m.shape[1]}x{m.shape[0]}, images are {w}x{h}")
    if not m.any():
        raise InputError("mask", "mask is empty: no pixel is set")
    if names is None:
        digits = max(3, len(str(k)))
        names = [f"{i + 1:0{digits}d}.png" for i in range(k)]
    names = list(names)
    if len(names) != k or len(set(names)) != k or any(
            not n.lower().endswith(".png") or "/" in n or "\\" in n for n in names):
        raise InputError("names", f"need {k} distinct plain .png file names")

    targets = [*names, "filenames.txt", "light_directions.txt", "light_intensities.txt",
               "mask.png", "Normal_gt.mat", "depth_gt.npy", "K.txt"]
    existing = [t for t in targets if (out / t).exists()]
    if existing and not overwrite:
        raise InputError(out / existing[0], "already exists; pass overwrite=True to replace "
                                            "the files of this folder")
    codes = [_quantise(img[i] if c == 3 else img[i, ..., 0], bit_depth, out / names[i])
             for i in range(k)]  # check every image before writing anything
    out.mkdir(parents=True, exist_ok=True)
    for name, code in zip(names, codes, strict=True):
        _imwrite(out / name, code)
    (out / "filenames.txt").write_text("".join(f"{n}\n" for n in names))
    # %.17g writes every float64 exactly, so the lights read back bit for bit.
    np.savetxt(out / "light_directions.txt", L, fmt="%.17g")
    np.savetxt(out / "light_intensities.txt", e, fmt="%.17g")
    _imwrite(out / "mask.png", m.astype(np.uint8) * 255)
    if normals is not None:
        import scipy.io

        n = np.asarray(normals, np.float64)
        if n.shape != (h, w, 3):
            raise InputError("normals", f"normals are {n.shape}, images are {h}x{w}")
        scipy.io.savemat(str(out / "Normal_gt.mat"), {"Normal_gt": n})
    if depth is not None:
        d = np.asarray(depth, np.float32)
        if d.shape != (h, w):
            raise InputError("depth", f"depth is {d.shape}, images are {h}x{w}")
        np.save(out / "depth_gt.npy", d)
    if K is not None:
        np.savetxt(out / "K.txt", np.asarray(K, np.float64).reshape(3, 3), fmt="%.17g")
    return out
