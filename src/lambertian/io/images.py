"""Reading one image or mask: linear float32 in [0, 1] by bit depth, never downcast.

OpenCV (``cv2.IMREAD_UNCHANGED``) decodes PNG, TIFF, PGM/PPM and JPEG and keeps 16-bit
samples (the EXIF orientation it ignores is applied here); RAW camera files go through
``rawpy`` and 8-bit sRGB files are linearised on request (:mod:`lambertian.io.camera_files`).
OpenCV has no TGA decoder, so TGA goes through Pillow (TGA holds at most 8 bits per
sample); OpenEXR files go through the OpenEXR package. Because some decoders silently return
8 bits for 16-bit files (Pillow and imageio do so for 16-bit RGB PNG), the bit depth
the file *declares* in its header is read here and compared with what was decoded.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from lambertian.core.errors import InputError, as_path
from lambertian.io.camera_files import (
    RAW_SUFFIXES,
    Encoding,
    apply_orientation,
    exif_orientation,
    linearise,
    read_raw,
)

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".tga", ".pgm", ".ppm", ".pbm", ".exr",
                  ".jpg", ".jpeg", *RAW_SUFFIXES)

PathLike = str | os.PathLike[str]

# OpenCV logs a failed decode to the process's stderr on its own ("[ERROR:0@...] imread_
# ... can't read data"), beside the one-line error this module raises for it; its log is
# silenced so that a bad file gives exactly one line.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


# ----------------------------------------------------------------------- declared depth

def _png_depth(head: bytes) -> int | None:
    # Signature (8 bytes), then the IHDR chunk: length, b"IHDR", width, height, bit depth.
    if len(head) >= 25 and head[12:16] == b"IHDR":
        return int(head[24])
    return None


def png_layout(path: PathLike) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, channels after dropping alpha) that a PNG's header
    declares, or None for other files: lets a stack be checked before it is decoded."""
    with open(path, "rb") as f:
        head = f.read(26)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 26 or head[12:16] != b"IHDR":
        return None
    width, height = (int.from_bytes(head[i:i + 4], "big") for i in (16, 20))
    # colour type: 0 grey, 2 RGB, 3 palette (decoded as RGB), 4 grey + alpha, 6 RGBA
    channels = {0: 1, 2: 3, 3: 3, 4: 1, 6: 3}.get(head[25])
    if channels is None:
        return None
    return width, height, int(head[24]), channels


def _tiff_depth(path: Path) -> tuple[int, int] | None:
    """(BitsPerSample, SampleFormat) of the first IFD, or None when unreadable."""
    with open(path, "rb") as f:
        data = f.read(1 << 20)
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None:
        return None
    magic = int(np.frombuffer(data[2:4], dtype=order + "u2")[0])
    if magic != 42:  # BigTIFF (43) is rare for images here; let the decoder decide
        return None
    u2, u4 = np.dtype(order + "u2"), np.dtype(order + "u4")
    ifd = int(np.frombuffer(data[4:8], u4)[0])
    if ifd + 2 > len(data):
        return None
    n = int(np.frombuffer(data[ifd:ifd + 2], u2)[0])
    bits, fmt = None, 1
    for i in range(n):
        e = ifd + 2 + 12 * i
        if e + 12 > len(data):
            break
        tag, typ = (int(v) for v in np.frombuffer(data[e:e + 4], u2))
        count = int(np.frombuffer(data[e + 4:e + 8], u4)[0])
        if tag not in (258, 339) or typ != 3:  # SHORT values only for these tags
            continue
        if count <= 2:
            value = int(np.frombuffer(data[e + 8:e + 10], u2)[0])
        else:  # more than 4 bytes of values: the field holds an offset to them
            off = int(np.frombuffer(data[e + 8:e + 12], u4)[0])
            value = int(np.frombuffer(data[off:off + 2], u2)[0]) if off + 2 <= len(data) else 0
        if tag == 258:
            bits = value
        else:
            fmt = value
    return None if bits is None else (bits, fmt)


def _pnm_maxval(head: bytes) -> int | None:
    # P2/P3/P5/P6: magic, width, height, maxval as whitespace-separated tokens; '#' comments.
    if head[:1] != b"P" or head[1:2] not in b"2356":
        return None
    tokens: list[bytes] = []
    for line in head.split(b"\n"):
        line = line.split(b"#", 1)[0]
        tokens += line.split()
        if len(tokens) >= 4:
            break
    try:
        maxval = int(tokens[3])
    except (IndexError, ValueError):
        return None
    return maxval if 0 < maxval < 65536 else None


def _pnm_depth(head: bytes) -> int | None:
    maxval = _pnm_maxval(head)
    return None if maxval is None else (16 if maxval > 255 else 8)


def _full_scale(head: bytes, decoded: int) -> float:
    """The sample value of full scale of an 8- or 16-bit file whose first bytes are
    ``head``: a PGM/PPM declares its own (``maxval``, e.g. 1023 for 10-bit data, which
    OpenCV returns unscaled in 16 bits); every other integer format uses its whole range."""
    maxval = _pnm_maxval(head)
    if maxval is not None:
        return float(maxval)
    return 255.0 if decoded == 8 else 65535.0


def _head(path: Path) -> bytes:
    """The first bytes of a file, where every format this reader knows keeps its header."""
    with open(path, "rb") as f:
        return f.read(512)


def declared_bit_depth(path: PathLike, head: bytes | None = None) -> int | None:
    """Bits per sample that the file's header declares (PNG, TIFF, PGM/PPM, TGA, JPEG,
    EXR), or None when the header is not recognised. Float files report 32. ``head``:
    the file's first 512 bytes, when the caller has read them already."""
    p = Path(path)
    if head is None:
        head = _head(p)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_depth(head)
    if head[:2] in (b"II", b"MM"):
        t = _tiff_depth(p)
        if t is None:
            return None
        return 32 if t[1] == 3 else t[0]
    if head[:1] == b"P" and head[1:2] in b"2356":
        return _pnm_depth(head)
    if head[:4] == b"\x76\x2f\x31\x01":
        return 32
    if head[:2] == b"\xff\xd8":
        return 8
    if p.suffix.lower() == ".tga" and len(head) >= 18 and sniff_format(p) is None:
        # Byte 16 is bits per pixel: 8 (grey), 15/16 (5 bits per channel), 24, 32 (8 bits).
        return 8 if head[16] in (8, 15, 16, 24, 32) else None
    return None


def sniff_format(path: PathLike) -> str | None:
    """The image format the file's first bytes declare ("png", "tiff", "pnm", "exr",
    "jpeg"), or None (TGA has no signature; unknown data). The content decides how a
    file is decoded and which bit depth it has, never its name: a JPEG renamed ``.png``
    is still an 8-bit JPEG."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:1] == b"P" and head[1:2] in b"123456" and len(head) > 2:
        return "pnm"
    if head[:4] == b"\x76\x2f\x31\x01":
        return "exr"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None


# ----------------------------------------------------------------------------- decoding

def _decode_tga(path: Path) -> np.ndarray:
    # OpenCV cannot decode TGA; Pillow can, and applies the header's row order.
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode else "RGB")
        return np.array(im)  # already RGB order


def _decode_exr(path: Path) -> np.ndarray:
    from lambertian.io.exr import read_exr

    arr = read_exr(path)
    return arr[..., None] if arr.ndim == 2 else arr


# Every PNG ends with its IEND chunk and every JPEG with its EOI marker. A file cut short
# (an interrupted copy, the commonest damaged image) lacks it: libpng then prints a line of
# its own before failing, and libjpeg decodes the missing rows as flat grey with only a
# warning, a silently wrong image. The end is looked for in the last bytes of the file
# (data may follow it: a JPEG's appended preview ends with its own EOI).
_END_MARKERS = {"png": b"IEND", "jpeg": b"\xff\xd9"}
_END_SEARCH = 65536


def check_complete(path: PathLike, kind: str | None = None) -> None:
    """Raise :class:`InputError` when a PNG or JPEG file ends before its end marker."""
    kind = kind or sniff_format(path)
    marker = _END_MARKERS.get(kind or "")
    if marker is None:
        return
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _END_SEARCH))
        tail = f.read()
    if marker not in tail:
        raise InputError(path, f"{kind.upper()} file cut short or damaged: it ends before "
                               f"its {'IEND chunk' if kind == 'png' else 'end-of-image marker'}")


# What libjpeg and libpng print on stderr when the data inside a complete-looking file is
# damaged: libjpeg still returns an image (the damaged rows flat grey or smeared), so its
# message is the only sign. Benign notes (e.g. libpng's "known incorrect sRGB profile")
# match none of these.
_DAMAGE_MESSAGES = ("corrupt jpeg data", "premature end", "libpng error", "bogus", "crc error")
_STDERR_LOCK = threading.Lock()


@contextmanager
def _decoder_messages():
    """Collect what C decoders print on the process's stderr (file descriptor 2) inside the
    block into the yielded list, so that it neither reaches the user as a stray line nor
    goes unread; nothing is collected where descriptor 2 cannot be duplicated."""
    out: list[str] = []
    with _STDERR_LOCK:  # one redirection at a time: threads reading images must not nest
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            yield out
            return
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield out
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                out.append(tmp.read().decode("utf-8", "replace"))


def _decode(path: Path) -> tuple[np.ndarray, bool]:
    """Raw decoded array and whether it is already in RGB order. The decoder follows the
    content (:func:`sniff_format`); only a file with no signature is taken for TGA by
    its name."""
    kind = sniff_format(path)
    check_complete(path, kind)
    if kind == "exr":
        return _decode_exr(path), True
    if kind is None and path.suffix.lower() == ".tga":
        return _decode_tga(path), True
    # From the bytes, not cv2.imread(path): OpenCV's path handling crashes the process on
    # a file name that is not valid UTF-8.
    data = np.fromfile(path, np.uint8)
    with _decoder_messages() as said:
        arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    message = " ".join(" ".join(said).split())
    if any(m in message.lower() for m in _DAMAGE_MESSAGES):
        raise InputError(path, f"damaged image data: the decoder says \"{message[:160]}\"")
    if arr is None:
        raise InputError(path, "cannot decode the image (corrupt or unsupported format)")
    return arr, False


def read_image(path: PathLike, encoding: Encoding = "linear") -> tuple[np.ndarray, int]:
    """One image as linear float32 scaled to [0, 1] by its bit depth, upright (EXIF).

    Parameters
    ----------
    path : an image file (PNG, TIFF, TGA, PGM/PPM, JPEG, EXR, or RAW: DNG, CR2, NEF, ARW).
    encoding : how integer samples encode radiance: ``"linear"`` (trust the file, the
        default), ``"srgb"``, a gamma in (1, 3), or ``"auto"`` (JPEG is sRGB, others
        linear); see :mod:`lambertian.io.camera_files`.

    Returns
    -------
    image : (H, W, C) float32, C = 1 (grey) or 3 (RGB order); uint8 / 255, uint16 / 65535
        (a PGM/PPM / its declared maxval), float files as stored. An alpha channel is
        dropped (it is not radiance).
    bit_depth : 8, 16, or 32 for float files.

    Raises
    ------
    InputError : missing or undecodable file, a 16-bit file decoded as 8-bit (refused
        rather than downcast), an unsupported sample type, or NaN/inf in a float file.
    """
    p = as_path(path, "path")
    if not p.is_file():
        raise InputError(p, "image file not found" if not p.exists() else "not a file")
    if p.suffix.lower() in RAW_SUFFIXES:
        return read_raw(p), 16
    try:
        head = _head(p)
        declared = declared_bit_depth(p, head)
        arr, rgb = _decode(p)
    except InputError:
        raise
    except Exception as exc:  # decoder errors carry no file name: add it, keep one line
        raise InputError(p, f"cannot read the image: {type(exc).__name__}: {exc}") from exc
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise InputError(p, f"unsupported image layout {arr.shape}")
    if arr.dtype == np.uint8:
        decoded, scale = 8, 1.0 / _full_scale(head, 8)
    elif arr.dtype == np.uint16:
        decoded, scale = 16, 1.0 / _full_scale(head, 16)
    elif arr.dtype in (np.float32, np.float16, np.float64):
        decoded, scale = 32, 1.0
    else:
        raise InputError(p, f"unsupported sample type {arr.dtype}")
    if declared is not None and declared > decoded:
        raise InputError(p, f"file declares {declared}-bit samples but was decoded as "
                            f"{decoded}-bit, refusing to downcast")
    c = arr.shape[2]
    if c in (2, 4):  # drop alpha
        arr = arr[..., : c - 1]
    if arr.shape[2] == 3 and not rgb:
        arr = arr[..., ::-1]  # OpenCV decodes BGR
    img = np.ascontiguousarray(arr, dtype=np.float32)
    if scale != 1.0:
        img *= np.float32(scale)
    elif not np.isfinite(img).all():
        raise InputError(p, "image holds NaN or infinite values")
    img = apply_orientation(img, exif_orientation(p))
    return linearise(img, p, decoded, encoding), decoded


def read_mask(path: PathLike, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A mask image as (H, W) bool: a pixel is in the mask when any channel is at least
    half of full scale (masks are stored as 0 / max, some with soft edges); a mask whose
    only values are 0 and 1 (the raw 0 / 1 masks many tools write) marks every nonzero
    pixel.

    Parameters
    ----------
    path : the mask file (any format :func:`read_image` reads).
    shape : optional (H, W) the mask must have (the images' size).

    Raises
    ------
    InputError : unreadable file, a size that differs from ``shape``, a ``shape`` that is
        not (H, W), or no pixel set.
    """
    if shape is not None:
        # not (H, W): the size message below would index past it (IndexError)
        dims = np.asarray(shape if isinstance(shape, (tuple, list)) else None)
        if dims.shape != (2,) or dims.dtype.kind not in "iu":
            raise InputError("shape", f"must be (H, W), two integers; got {shape!r}")
        shape = (int(dims[0]), int(dims[1]))
    img, depth = read_image(path)
    top = img.max(axis=2)
    one = 1.0 / ((1 << depth) - 1) if depth in (8, 16) else 1.0
    # A 0/1 integer mask: its brightest value is one raw level (0/1 float masks are
    # already at full scale and meet the half-scale rule).
    binary = depth in (8, 16) and 0 < float(top.max()) <= one * 1.5
    m = top > 0 if binary else top >= 0.5
    if shape is not None and m.shape != tuple(shape):
        raise InputError(path, f"mask is {m.shape[1]}x{m.shape[0]} but the images are "
                               f"{shape[1]}x{shape[0]}")
    if not m.any():
        raise InputError(path, "mask is empty: no pixel is at least half of full scale")
    return m
