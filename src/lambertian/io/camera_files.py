"""Files from real cameras: sRGB (or gamma) encoded 8-bit images, EXIF orientation, RAW.

- Encoding. Phones and cameras write JPEG as sRGB: the stored value is a curve of the
  radiance, not proportional to it, and photometric stereo needs radiance. A capture's
  ``encoding`` says how to undo it: ``"srgb"`` (the IEC 61966-2-1 curve), a number
  ``gamma`` in (1, 3) (``v ** gamma``), ``"linear"`` (trust the file), or ``"auto"``:
  JPEG files are sRGB (what every camera writes), every other file is trusted as linear
  (the PNG/TIFF/PGM/TGA of measured data sets are). Float and RAW files are always linear.
- Orientation. A camera held upright stores the sensor's rows and an EXIF Orientation
  tag; OpenCV's ``IMREAD_UNCHANGED`` ignores the tag, so it is applied here, and images
  of one capture must share it (else the same pixel is not the same point).
- RAW (DNG, CR2, NEF, ARW) is decoded by LibRaw through ``rawpy``: demosaiced, white
  balanced as shot, in the camera's own colour space with a linear curve and no
  brightening, 16 bits per sample (LibRaw applies the orientation itself).

References: IEC 61966-2-1:1999 (sRGB); JEITA CP-3451 (Exif 2.3, tag 0x0112); LibRaw.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError

RAW_SUFFIXES = (".dng", ".cr2", ".nef", ".arw")
JPEG_SUFFIXES = (".jpg", ".jpeg")
ENCODINGS = ("auto", "srgb", "linear")
# A display gamma outside this range is a typo, not a camera.
GAMMA_RANGE = (1.0, 3.0)

Encoding = str | float


def check_encoding(encoding: Encoding, source: str | os.PathLike[str] = "--gamma") -> Encoding:
    """``encoding`` as given, or InputError: a name of :data:`ENCODINGS` or a gamma in
    (1, 3)."""
    if isinstance(encoding, str):
        if encoding not in ENCODINGS:
            raise InputError(source, f"unknown encoding {encoding!r}; use one of "
                                     f"{', '.join(ENCODINGS)} or a gamma")
        return encoding
    g = float(encoding)
    if not GAMMA_RANGE[0] < g < GAMMA_RANGE[1]:
        raise InputError(source, f"gamma {g:g} is outside ({GAMMA_RANGE[0]:g}, "
                                 f"{GAMMA_RANGE[1]:g}); sRGB is about 2.2")
    return g


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """The inverse sRGB curve (IEC 61966-2-1) on values in [0, 1], float32.

    Examples
    --------
    >>> import numpy as np
    >>> from lambertian.io.camera_files import srgb_to_linear
    >>> [round(float(v), 4) for v in srgb_to_linear(np.array([0.0, 0.04045, 0.5, 1.0]))]
    [0.0, 0.0031, 0.214, 1.0]
    """
    v = np.asarray(v, dtype=np.float32)
    return np.where(v <= 0.04045, v / np.float32(12.92),
                    ((v + np.float32(0.055)) / np.float32(1.055)) ** np.float32(2.4)
                    ).astype(np.float32)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """The forward sRGB curve (IEC 61966-2-1), what a camera applies before writing JPEG,
    on values clipped to [0, 1] (the inverse of :func:`srgb_to_linear`; the dtype is kept).

    Examples
    --------
    >>> import numpy as np
    >>> from lambertian.io.camera_files import linear_to_srgb
    >>> [round(float(v), 4) for v in linear_to_srgb(np.array([0.0, 0.0031308, 0.214, 1.0]))]
    [0.0, 0.0404, 0.5, 1.0]
    """
    v = np.clip(np.asarray(v), 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def linearise(image: np.ndarray, path: str | os.PathLike[str], bit_depth: int,
              encoding: Encoding = "auto") -> np.ndarray:
    """Radiance from a decoded image in [0, 1] (see the module docstring for ``encoding``);
    float (32-bit) and RAW files are returned as they are."""
    encoding = check_encoding(encoding)
    suffix = Path(path).suffix.lower()
    if bit_depth == 32 or suffix in RAW_SUFFIXES or encoding == "linear":
        return image
    if encoding == "auto":
        return srgb_to_linear(image) if suffix in JPEG_SUFFIXES else image
    if encoding == "srgb":
        return srgb_to_linear(image)
    return (image ** np.float32(encoding)).astype(np.float32)


# ---------------------------------------------------------------------------- orientation

def exif_orientation(path: str | os.PathLike[str]) -> int:
    """The EXIF Orientation (1-8) of a JPEG or TIFF file; 1 when it has none."""
    p = Path(path)
    if p.suffix.lower() not in JPEG_SUFFIXES + (".tif", ".tiff"):
        return 1
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # a damaged EXIF block: the decoder says more
            warnings.simplefilter("ignore")
            with Image.open(p) as im:
                o = int(im.getexif().get(0x0112, 1))
    except (OSError, UnidentifiedImageError, ValueError):
        return 1  # the decoder will name what is wrong with the file
    return o if 1 <= o <= 8 else 1


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an (H, W, ...) array as stored into the upright view EXIF ``orientation``
    describes (2: mirrored, 3: 180 degrees, 6: the camera turned 90 degrees clockwise...)."""
    a = image
    if orientation in (5, 6, 7, 8):
        a = np.swapaxes(a, 0, 1)  # transpose: rows become columns
        orientation = {5: 1, 6: 2, 7: 3, 8: 4}[orientation]
    if orientation == 2:
        a = a[:, ::-1]
    elif orientation == 3:
        a = a[::-1, ::-1]
    elif orientation == 4:
        a = a[::-1]
    return np.ascontiguousarray(a)


# ----------------------------------------------------------------------------------- RAW

def read_raw(path: str | os.PathLike[str]) -> np.ndarray:
    """A RAW file as (H, W, 3) float32 in [0, 1], linear, from its 16-bit samples.

    Raises
    ------
    InputError : rawpy is not installed, or LibRaw cannot decode the file.
    """
    try:
        import rawpy
    except ImportError:
        raise InputError(path, "RAW files need rawpy (pip install rawpy)") from None
    try:
        with rawpy.imread(os.fspath(path)) as raw:
            rgb = raw.postprocess(gamma=(1, 1), no_auto_bright=True, output_bps=16,
                                  use_camera_wb=True, output_color=rawpy.ColorSpace.raw)
    except (rawpy.LibRawError, OSError, ValueError) as err:
        raise InputError(path, f"cannot decode the RAW file ({type(err).__name__}: "
                               f"{str(err).splitlines()[0] if str(err) else 'no detail'})"
                         ) from None
    return rgb.astype(np.float32) * np.float32(1.0 / 65535.0)


def check_one_kind(paths: list[Path]) -> None:
    """RAW and non-RAW files cannot be mixed in one capture (different curves and
    colour spaces); EXIF orientations must agree. InputError naming a file otherwise."""
    raw = [p.suffix.lower() in RAW_SUFFIXES for p in paths]
    if any(raw) and not all(raw):
        odd = paths[raw.index(not raw[0])]
        raise InputError(odd, f"mixes RAW and non-RAW images in one capture ({paths[0].name} "
                              "is the other kind): use one kind for every image")
    first = exif_orientation(paths[0])
    for p in paths[1:]:
        o = exif_orientation(p)
        if o != first:
            raise InputError(p, f"EXIF orientation {o} differs from {paths[0].name}'s "
                                f"({first}): the camera was turned during the capture")
