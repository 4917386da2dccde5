"""What every reader checks: an image stack of one size and bit depth, text tables, file
lists, light vectors, masks, exposure, normal maps, intrinsics and ``.npy`` files.

This is the one input-validation layer: the in-memory readers, the streamed path
(:mod:`lambertian.scale.stream`), the command line and the Python functions call these
same checks, so a capture refused by one path is refused by every path. Each failure is
an :class:`~lambertian.core.errors.InputError` that names the file at fault (and, for two
files that disagree, both of them).
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError, InputWarning
from lambertian.core.light import vector_length
from lambertian.io.camera_files import Encoding, check_one_kind
from lambertian.io.images import declared_bit_depth, read_image, read_mask, sniff_format
from lambertian.io.intensity import check_intensity_range
from lambertian.io.matrix import check_camera, read_camera  # noqa: F401  (the one K.txt reader)

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
    check_no_duplicates(paths)
    check_stack_headers(paths)
    check_one_kind(paths)
    first, depth = read_image(paths[0], encoding)
    if not decode:
        # The headers alone: the streamed path refuses what the in-memory one refuses
        # before it spends time staging (and checks the decoded depth again then).
        for p in paths[1:]:
            if not p.is_file():
                raise InputError(p, "image file not found")
            declared = _declared_depth(p)
            if declared is not None and declared != depth:
                raise InputError(p, f"image is {declared}-bit ({_kind(p)}) but "
                                    f"{paths[0].name} is {depth}-bit")
        return np.broadcast_to(np.zeros((1, 1, 1, 1), np.float32),
                               (len(paths), *first.shape)), depth
    stack = np.empty((len(paths), *first.shape), dtype=np.float32)
    stack[0] = first
    for i, p in enumerate(paths[1:], start=1):
        img, d = read_image(p, encoding)
        check_same_kind(p, img, d, paths[0], first.shape, depth)
        stack[i] = img
    if depth == 32:  # only float files can hold negative values
        flat = stack.reshape(len(paths), -1)
        check_not_negated(flat.min(axis=1), flat.max(axis=1), paths)
    return stack, depth


def check_not_negated(minima: Sequence[float], maxima: Sequence[float],
                      files: Sequence[PathLike]) -> None:
    """InputError naming the first float image that is negated: no value above zero and
    some below, or values further below zero than the brightest image of the stack goes
    above it (the bound of :func:`lambertian.ps.inputs.check_radiance`, which sees the
    whole stack and can only name the capture; it still does for a stack with nothing
    above zero).

    ``minima`` / ``maxima`` are per image, over every pixel and channel. Linear radiance
    is >= 0; a dark-frame subtraction leaves small negative noise beside positive noise,
    never an image that is all negative. Non-finite values are left to
    :func:`check_images_finite`.
    """
    top = max((float(v) for v in maxima if np.isfinite(v)), default=0.0)
    if top <= 0:  # the whole stack negated: the solvers' check names the capture
        return
    for k, (lo, hi) in enumerate(zip(minima, maxima, strict=True)):
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= 0:
            continue
        if hi <= 0:
            raise InputError(files[k], f"every value is zero or negative (down to "
                                       f"{float(lo):.3g}): linear images are not negative "
                                       "(a negated image?)")
        if lo < -top:
            raise InputError(files[k], f"values down to {float(lo):.3g} while the brightest "
                                       f"image reaches {top:.3g}: linear images are not "
                                       "negative (a negated image?)")


def check_stack_headers(paths: Sequence[PathLike]) -> None:
    """Compare what the images' headers declare (size, channels, bit depth of PNGs; bit
    depth of the others) before anything is decoded, and name the odd one out: the first
    file that differs from what most of the stack declares (so a wrong first image is
    blamed, not the second)."""
    from collections import Counter

    from lambertian.io.images import png_layout

    paths = [Path(p) for p in paths]
    layouts = []
    for p in paths:
        if not p.is_file():
            raise InputError(p, "image file not found" if not p.exists() else "not a file")
        try:
            layouts.append(png_layout(p))
        except OSError as exc:
            raise InputError(p, f"cannot read the image: {exc.strerror or exc}") from None
    known = [(p, lay) for p, lay in zip(paths, layouts, strict=True) if lay is not None]
    if known:
        common = Counter(lay[:2] + lay[3:] for _, lay in known).most_common(1)[0][0]
        for p, lay in known:
            if lay[:2] + lay[3:] != common:
                raise InputError(p, f"image is {lay[0]}x{lay[1]}x{lay[3]} but the other images "
                                    f"are {common[0]}x{common[1]}x{common[2]}: all images must "
                                    "have the same size and channels")
    depths = [(p, _declared_depth(p)) for p in paths]
    depths = [(p, d) for p, d in depths if d is not None]
    if depths:
        common_depth = Counter(d for _, d in depths).most_common(1)[0][0]
        for p, d in depths:
            if d != common_depth:
                raise InputError(p, f"image is {d}-bit ({_kind(p)}) but the other images are "
                                    f"{common_depth}-bit: all images must have one bit depth")


def _declared_depth(p: Path) -> int | None:
    try:
        return declared_bit_depth(p)
    except OSError as exc:
        raise InputError(p, f"cannot read the image: {exc.strerror or exc}") from None


def _kind(p: Path) -> str:
    kind = sniff_format(p)
    if kind is None:
        return "unknown format"
    named = p.suffix.lower().lstrip(".")
    same = {"png": ("png",), "tiff": ("tif", "tiff"), "jpeg": ("jpg", "jpeg"), "exr": ("exr",),
            "pnm": ("pgm", "ppm", "pbm", "pnm")}[kind]
    return f"a {kind.upper()} file" + ("" if named in same else f" named .{named}")


def check_same_kind(path: PathLike, image: np.ndarray, depth: int, first: PathLike,
                    first_shape: tuple[int, ...], first_depth: int) -> None:
    """InputError naming ``path`` when its decoded (H, W, C) size or bit depth differs
    from the stack's first image ``first`` (used by the in-memory and streamed paths)."""
    p = Path(path)
    if tuple(image.shape) != tuple(first_shape):
        h, w, c = first_shape
        raise InputError(p, f"image is {_size(image)} but {Path(first).name} is {w}x{h}x{c}: "
                            "all images must have the same size and channels")
    if depth != first_depth:
        raise InputError(p, f"image is {depth}-bit ({_kind(p)}) but {Path(first).name} is "
                            f"{first_depth}-bit: all images must have one bit depth")


def check_no_duplicates(paths: Sequence[PathLike], listing: PathLike | None = None) -> None:
    """InputError when two entries name the same file (after resolving links): one image
    counted twice would weigh its light twice and hide a missing one."""
    seen: dict[Path, Path] = {}
    for p in paths:
        key = Path(p).resolve()
        if key in seen:
            raise InputError(listing or p, f"{Path(p).name} is listed twice (also as "
                                           f"{seen[key].name}): each image must appear once")
        seen[key] = Path(p)


def read_file_list(listing: PathLike) -> list[str]:
    """Image names of a ``filenames.txt`` (one a line, blank lines ignored), or
    InputError naming the listing: unreadable, empty, a name listed twice, or a name
    that leaves the folder."""
    p = Path(listing)
    try:  # utf-8-sig: a byte-order mark (Windows Notepad) is not part of the first name
        names = [ln.strip() for ln in p.read_text(encoding="utf-8-sig").splitlines()
                 if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(p, f"cannot read the list of images: {exc}") from None
    if not names:
        raise InputError(p, "lists no image")
    for n in names:
        if Path(n).is_absolute() or ".." in Path(n).parts:
            raise InputError(p, f"names {n!r}, outside the capture folder")
    check_no_duplicates([p.parent / n for n in names], p)
    return names


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
    try:  # utf-8-sig: a byte-order mark (Windows Notepad) is not part of the first number
        lines = [ln.split("#", 1)[0].replace(",", " ").split()
                 for ln in p.read_text(encoding="utf-8-sig").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(p, f"cannot read the {what} file: {exc}") from exc
    rows = [ln for ln in lines if ln]
    declared = None
    first_is_count = (rows and len(rows[0]) == 1 and count_line is not False
                      and (columns or 0) != 1 and re.fullmatch(r"\d+", rows[0][0]) is not None)
    if first_is_count and (count_line or int(rows[0][0]) == len(rows) - 1):
        declared = int(rows.pop(0)[0])
    elif first_is_count and len(rows) > 1 and len({len(r) for r in rows[1:]}) == 1 and (
            len(rows[1]) != 1 and (columns is None or len(rows[1]) == columns)):
        # A count line that disagrees with the rows below it (UW psm's lights.txt).
        raise InputError(p, f"first line says {rows[0][0]} rows but {len(rows) - 1} follow")
    if len({len(r) for r in rows}) > 1:
        lengths = [len(r) for r in rows]
        r = next(i for i, n in enumerate(lengths) if n != lengths[0])
        raise InputError(p, f"{what} file has rows of different lengths (row {r + 1} has "
                            f"{lengths[r]} values, row 1 has {lengths[0]})")
    # float() reads "1_0" as 10 (Python's digit grouping): no table tool writes that, so
    # it is a typo, not a number
    odd = next((v for r in rows for v in r if "_" in v), None)
    if odd is not None:
        raise InputError(p, f"{what} file holds a non-numeric value ({odd!r})")
    try:
        table = np.asarray([[float(v) for v in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise InputError(p, f"{what} file holds a non-numeric value ({exc})") from exc
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


def check_lights(lights: np.ndarray, num_images: int, source: PathLike | None, *,
                 face_camera: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) light vectors -> (unit directions float64, norms float64 (K,)).

    Raises InputError (naming ``source``) for a wrong shape, a count that differs from
    the number of images, NaN/inf or zero-length vectors. Non-unit vectors are
    normalised; their norms are returned for callers that read them as intensities.
    ``face_camera=False`` leaves out :func:`check_lights_face_camera` (for a caller that
    makes its own more basic checks first, then that one).
    """
    L = np.asarray(lights, dtype=np.float64)
    if L.ndim != 2 or L.shape[1] != 3:
        raise InputError(source, f"lights must be K x 3, got shape {L.shape}")
    if L.shape[0] != num_images:
        raise InputError(source, f"{L.shape[0]} lights for {num_images} images")
    if not np.isfinite(L).all():
        r = int(np.flatnonzero(~np.isfinite(L).all(axis=1))[0])
        raise InputError(source, f"light {r + 1} is non-finite (holds NaN or infinite values)")
    norms = vector_length(L)[:, 0]  # without overflow for very long vectors
    if (norms < 1e-12).any():
        r = int(np.flatnonzero(norms < 1e-12)[0])
        raise InputError(source, f"light {r + 1} is a zero-length vector")
    if face_camera:
        check_lights_face_camera(L, source)
    return L / norms[:, None], norms


def check_lights_face_camera(lights: np.ndarray, source: PathLike | None) -> None:
    """InputError when no light has z > 0 (project frame: z toward the camera).

    The camera sees only surfaces whose normals have z > 0; lights that all lie behind
    the object leave every visible pixel in attached shadow, or (with a flipped z in the
    light file, the common mistake) produce normals facing away from the camera.
    """
    L = np.asarray(lights, dtype=np.float64)
    if L.ndim == 2 and L.shape[1] == 3 and len(L) and (L[:, 2] <= 0).all():
        raise InputError(source, "every light has z <= 0 (behind the object, away from the "
                                 "camera; the project frame has z toward the camera): is the "
                                 "z axis flipped?")


def check_intensities(intensities: np.ndarray, num_images: int, channels: int,
                      source: PathLike | None) -> np.ndarray:
    """Intensities as (K,), (K, 1) or (K, C) -> (K, C) float64, positive and finite."""
    e = np.asarray(intensities, dtype=np.float64)
    if e.ndim == 1:
        e = e[:, None]
    if e.ndim != 2 or e.shape[0] != num_images or e.shape[1] not in (1, channels):
        raise InputError(source, f"intensities must be {num_images} x 1 or {num_images} x "
                                 f"{channels}, got shape {e.shape}")
    check_intensity_range(e, source)  # finite, positive, within range
    return np.ascontiguousarray(np.broadcast_to(e, (num_images, channels)), dtype=np.float64)


def load_mask(path: PathLike, shape: tuple[int, int]) -> np.ndarray:
    """:func:`read_mask` with the images' (H, W) enforced."""
    return read_mask(path, shape)


def check_images_finite(images: np.ndarray, files: Sequence[PathLike]) -> None:
    """InputError naming the first image file that holds NaN or inf."""
    bad = ~np.isfinite(images.reshape(images.shape[0], -1)).all(axis=1)
    if bad.any():
        raise InputError(files[int(np.flatnonzero(bad)[0])], "image holds NaN or infinite values")


# ------------------------------------------------------------------------------ exposure

def exposure_stats(image: np.ndarray, mask: np.ndarray | None) -> tuple[float, float]:
    """(min, max) of one (H, W, C) image over the mask's pixels and every channel: what
    :func:`check_exposure` needs, gathered image by image by the streamed path."""
    v = image if mask is None else image[np.asarray(mask, bool)]
    if v.size == 0:
        return 0.0, 0.0
    return float(v.min()), float(v.max())


def image_digest(image: np.ndarray) -> bytes:
    """A digest of one decoded image's values, to find the same photo twice in a capture
    (SHA-1: the fastest of hashlib's here, about 2 GB/s; not a security use)."""
    return hashlib.sha1(memoryview(np.ascontiguousarray(image)).cast("B")).digest()


def check_exposure(minima: Sequence[float], maxima: Sequence[float], files: Sequence[PathLike],
                   bit_depth: int, source: PathLike | None,
                   digests: Sequence[bytes] | None = None) -> None:
    """Refuse captures that hold no shading to solve from.

    Parameters
    ----------
    minima, maxima : per image, the min and max over the mask's pixels and channels
        (scaled to [0, 1] by bit depth, as the readers load them).
    files : the K image files (named in the message).
    bit_depth : 8 or 16 (full scale is 1.0); float files (32) have no saturation.
    source : the capture, named when every image is black or every image is the same.
    digests : per image, :func:`image_digest` (no duplicate check when None).

    Raises
    ------
    InputError
        naming the capture when every image is black inside the mask (no light reached
        the camera: a lens cap, a wrong exposure), or naming the first image whose every
        pixel in the mask is saturated (clipped at full scale: its values say nothing
        about the light, and solving would take them as very bright shading), or naming
        the capture when its images are all the same photo (copied under every light:
        solved, it gives every pixel the mean light's direction).

    Warns
    -----
    InputWarning
        naming each image that is black at every pixel of the mask: a failed exposure,
        or (a tight 8-bit crop) a light that leaves the whole crop in shadow. Both are
        valid input for the shadow-aware solvers; least squares takes the zeros as
        shading, so the user is told rather than refused. Also naming each image that is
        the same photo as an earlier one (identical values; two photographs under two
        lights never are): a copying mistake that puts one light's observation wrong.
    """
    if len(maxima) and max(maxima) <= 0.0:
        raise InputError(source, f"every one of the {len(maxima)} images is black inside the "
                                 "mask: no shading to solve from")
    if digests is not None:
        _check_duplicates(digests, maxima, files, source)
    for k, hi in enumerate(maxima):
        if hi <= 0.0:
            warnings.warn(InputWarning(files[k], "every pixel in the mask is black (zero): "
                                       "a failed exposure, or all in shadow; least squares "
                                       "takes the zeros as shading (robust and net do not)"),
                          stacklevel=2)
    if bit_depth in (8, 16):
        for k, lo in enumerate(minima):
            if lo >= 1.0:
                raise InputError(files[k], f"every pixel in the mask is saturated (at the "
                                           f"{bit_depth}-bit maximum): over-exposed, it holds "
                                           "no shading")


def _check_duplicates(digests: Sequence[bytes], maxima: Sequence[float],
                      files: Sequence[PathLike], source: PathLike | None) -> None:
    # black images are alike by nature (warned about on their own)
    lit = [k for k, hi in enumerate(maxima) if hi > 0.0]
    if len(lit) >= 2 and len({digests[k] for k in lit}) == 1:
        raise InputError(source, f"all {len(lit)} images are the same photo (identical "
                                 "values): no shading to solve from")
    first: dict[bytes, int] = {}
    for k in lit:
        j = first.setdefault(digests[k], k)
        if j != k:
            warnings.warn(InputWarning(files[k], f"the same photo as {Path(files[j]).name} "
                                       "(identical values) under another light: a copying "
                                       "mistake?"), stacklevel=3)


def check_capture_exposure(images: np.ndarray, mask: np.ndarray | None,
                           files: Sequence[PathLike], bit_depth: int,
                           source: PathLike | None) -> None:
    """:func:`check_exposure` (with the duplicate check) on an in-memory (K, H, W, C)
    stack."""
    stats = [exposure_stats(img, mask) for img in images]
    check_exposure([s[0] for s in stats], [s[1] for s in stats], files, bit_depth, source,
                   [image_digest(img) for img in images])


# --------------------------------------------------------------------------- normal maps

# Normals whose length is off by more than this are refused rather than renormalised:
# 8-bit PNG quantisation moves the length by < 0.01, a wrong decoding (or a map scaled
# by 255 or 1000) by far more.
UNIT_TOLERANCE = 0.1
# Below this length a normal counts as "no normal here" (the zeros outside a mask).
ZERO_NORM = 1e-6


def _pixel(index: int, width: int) -> str:
    r, c = divmod(int(index), width)
    return f"row {r}, column {c}"


def check_normal_map(normals: np.ndarray, mask: np.ndarray | None = None, *,
                     source: PathLike | None = "normals", mask_source: PathLike | None = "mask",
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate a normal map and its mask (``light --normals``, ``integrate``, Python).

    Parameters
    ----------
    normals : (H, W, 3) floating-point normal map, project frame (x right, y up, z toward
        the camera), zeros where unknown.
    mask : (H, W) pixels to use; None means every pixel whose normal is non-zero.
    source, mask_source : names used in error messages (file paths or argument names).

    Returns
    -------
    normals : (H, W, 3) float64 unit normals, zeros outside the returned mask.
    mask : (H, W) bool.
    notes : what was changed (zero normals dropped from the mask).

    Raises
    ------
    InputError
        a wrong shape; an integer or boolean array (not a normal map: its values are
        codes or flags); a mask of another size; NaN or infinite values inside the mask
        (anywhere, without a mask, since a NaN pixel cannot be told from a wanted one);
        normals that are not unit length within :data:`UNIT_TOLERANCE`; no usable normal.
    """
    n = np.asarray(normals)
    if n.ndim != 3 or n.shape[-1] != 3:
        raise InputError(source, f"a normal map must be H x W x 3, got shape {n.shape}")
    if not np.issubdtype(n.dtype, np.floating):
        raise InputError(source, f"normals must be floating-point unit vectors, got dtype "
                                 f"{n.dtype}")
    n = n.astype(np.float64)
    h, w = n.shape[:2]
    if mask is None:
        bad = ~np.all(np.isfinite(n), axis=-1)
        if bad.any():
            raise InputError(source, f"{int(bad.sum())} normal(s) are NaN or infinite (first "
                                     f"at {_pixel(np.flatnonzero(bad.ravel())[0], w)}); give "
                                     "a mask to leave such pixels out")
        m = ~np.all(n == 0, axis=-1)
    else:
        m = np.asarray(mask)
        if m.ndim == 3:  # an RGB mask image: any non-zero channel
            m = m.any(axis=-1)
        m = m.astype(bool)
        if m.shape != (h, w):
            raise InputError(mask_source, f"mask is {m.shape[1]}x{m.shape[0]} but the normal "
                                          f"map is {w}x{h}")
    if not m.any():
        raise InputError(mask_source if mask is not None else source,
                         "mask is empty: no pixel with a normal")
    inside = n[m]
    finite = np.all(np.isfinite(inside), axis=-1)
    if not finite.all():
        first = np.flatnonzero(m.ravel())[np.flatnonzero(~finite)[0]]
        raise InputError(source, f"{int((~finite).sum())} normal(s) inside the mask are NaN or "
                                 f"infinite (first at {_pixel(first, w)})")
    norm = np.linalg.norm(inside, axis=-1)
    zero = norm < ZERO_NORM
    if zero.all():
        raise InputError(source, "all normals inside the mask are zero")
    bad = ~zero & (np.abs(norm - 1.0) > UNIT_TOLERANCE)
    if bad.any():
        k = np.flatnonzero(bad)[0]
        first = np.flatnonzero(m.ravel())[k]
        raise InputError(source, f"normals are not unit length: {int(bad.sum())} pixel(s) inside "
                                 f"the mask, e.g. length {norm[k]:.3g} at {_pixel(first, w)} "
                                 "(is this a normal map in [-1, 1]?)")
    notes = []
    if zero.any():
        m = m.copy()
        m.ravel()[np.flatnonzero(m.ravel())[zero]] = False
        notes.append(f"{int(zero.sum())} pixel(s) inside the mask have no normal (zero vector) "
                     "and were left out")
    out = np.zeros_like(n)
    out[m] = n[m] / np.linalg.norm(n[m], axis=-1, keepdims=True)
    away = out[m][:, 2] <= 0
    if away.mean() > 0.5:  # a few at the silhouette are noise; most is a wrong frame
        raise InputError(source, f"{int(away.sum())} of {int(m.sum())} normals face away from "
                                 "the camera or are edge-on (z <= 0; the project frame has z "
                                 "toward the camera): is the z axis flipped?")
    return out, m, notes


# ------------------------------------------------------------------------------- arrays

def load_npy(path: PathLike, what: str = "array") -> np.ndarray:
    """A numeric ``.npy`` array, or one InputError naming the file.

    Never loads pickles (an object array could run code), and never suggests it: a file
    that is not a plain numeric NumPy array is simply not a valid file of this kind.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, f"{what} file not found" if not p.exists() else "not a file")
    try:
        with open(p, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise InputError(p, f"cannot read the {what} file: {exc.strerror or exc}") from None
    if magic != b"\x93NUMPY":
        raise InputError(p, f"not a valid {what} file: not a NumPy .npy array")
    try:
        a = np.load(p, allow_pickle=False)
    except ValueError as exc:
        kind = "holds Python objects" if "allow_pickle" in str(exc) else "is corrupt"
        raise InputError(p, f"not a valid {what} file: the .npy {kind}; a plain numeric "
                            "NumPy array is expected") from None
    except (OSError, EOFError) as exc:
        raise InputError(p, f"not a valid {what} file (not a NumPy .npy array: "
                            f"{type(exc).__name__})") from None
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise InputError(p, f"not a valid {what} file: dtype {a.dtype} is not numeric")
    return a


# ---------------------------------------------------------- one image constraining a light

# A single image constrains a light only through its shading: with fewer pixels than an
# 8 x 8 patch, or less contrast than one 8-bit level between its darkest and brightest
# object pixel, any answer (and any stated uncertainty) would be the prior's, not the
# image's. These refuse clear cases only; dim but shaded images still get an answer.
MIN_LIGHT_PIXELS = 64
MIN_SHADING_RANGE = 1.0 / 255.0


def check_shading(image: np.ndarray, mask: np.ndarray | None = None, *,
                  source: PathLike | None = "image") -> None:
    """InputError ("unidentifiable") when one (H, W) or (H, W, C) image is too small or too
    dark / flat to constrain a light (see :data:`MIN_LIGHT_PIXELS`,
    :data:`MIN_SHADING_RANGE`)."""
    img = np.asarray(image, dtype=np.float64)
    grey = img.mean(axis=-1) if img.ndim == 3 else img
    v = grey if mask is None else grey[np.asarray(mask, bool)]
    v = v[np.isfinite(v)]
    if v.size < MIN_LIGHT_PIXELS:
        raise InputError(source, f"only {v.size} pixel(s) to read the light from (at least "
                                 f"{MIN_LIGHT_PIXELS} needed): the light is unidentifiable")
    if float(v.max() - v.min()) < MIN_SHADING_RANGE:
        raise InputError(source, f"no shading: every pixel is {float(v.max()):.3g} within one "
                                 "8-bit level (black, flat or saturated): the light is "
                                 "unidentifiable")
