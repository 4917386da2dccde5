"""A generic capture folder: images + ``lights.txt``.

::

    lights.txt         K x 3 light vectors, project frame (optionally a first line with K);
                       without it the lights are unknown (NaN), to be estimated or given
    intensities.txt    optional, K or K x C per-image (per-channel) intensities
    mask.png           optional mask (any readable image named ``mask.*``, or the one named
                       ``<object>.mask.*``, ``*_mask.*`` or ``*-mask.*``); without it a
                       mask is computed from the images (:mod:`lambertian.io.mask_from_images`)
    filenames.txt      optional image order; else the images in natural name order

Images are PNG, TIFF, TGA, PGM/PPM, EXR, JPEG or RAW (DNG, CR2, NEF, ARW) files of one
size and one kind; JPEG is read as sRGB unless told otherwise (``encoding``, see
:mod:`lambertian.io.camera_files`), EXIF orientation is applied.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io.camera_files import Encoding, check_encoding
from lambertian.io.capture import Capture
from lambertian.io.checks import (
    check_images_finite,
    check_intensities,
    check_lights,
    load_mask,
    load_stack,
    natural_key,
    read_file_list,
    read_table,
)
from lambertian.io.images import IMAGE_SUFFIXES
from lambertian.io.mask_from_images import mask_from_images

LIGHTS_FILE = "lights.txt"
# Files that sit beside the images but are not captures under a light.
RESERVED_STEMS = ("mask", "normal", "normals", "normal_gt", "albedo", "depth")
# A mask named after its object (UW psm's ``chrome.mask.tga``, ``cat_mask.png``) is a mask
# too, never an image under a light.
MASK_SUFFIXES = (".mask", "_mask", "-mask")


def _reserved(p: Path) -> bool:
    stem = p.stem.lower()
    return stem in RESERVED_STEMS or stem.endswith(MASK_SUFFIXES)


def is_folder_capture(folder: Path) -> bool:
    # At least one image beside lights.txt: the UW psm root also holds a lights.txt.
    return folder.is_dir() and (folder / LIGHTS_FILE).is_file() and (
        (folder / "filenames.txt").is_file()
        or any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()))


def is_image_folder(folder: Path) -> bool:
    """A folder of images with no lights.txt: one's own photos, lights still unknown."""
    return folder.is_dir() and not (folder / LIGHTS_FILE).exists() and any(
        p.suffix.lower() in IMAGE_SUFFIXES and not _reserved(p) for p in folder.iterdir())


def _image_files(folder: Path) -> list[Path]:
    listing = folder / "filenames.txt"
    if listing.is_file():
        return [folder / n for n in read_file_list(listing)]
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
             and not _reserved(p)]
    if not files:
        raise InputError(folder, "no image files (png, tif, tga, pgm, ppm, exr, jpg, raw) found")
    return sorted(files, key=lambda p: natural_key(p.name))


def mask_file(folder: Path) -> Path | None:
    """The folder's mask: the one image named ``mask.*``, ``<object>.mask.*``,
    ``*_mask.*`` or ``*-mask.*`` (None without one).

    Raises InputError naming the folder and two of them when there are more: taking the
    first by name would silently drop the other (a mask.png and a mask.jpg that differ).
    """
    cands = sorted(p for p in folder.iterdir() if p.is_file()
                   and p.suffix.lower() in IMAGE_SUFFIXES
                   and (p.stem.lower() == "mask" or p.stem.lower().endswith(MASK_SUFFIXES)))
    if len(cands) > 1:
        raise InputError(folder, f"two mask files: {cands[0].name} and {cands[1].name}; "
                                 "keep one")
    return cands[0] if cands else None


def read_folder(path: str | os.PathLike[str], light_norm_is_intensity: bool = False,
                load_images: bool = True, encoding: Encoding = "auto") -> Capture:
    """Read a generic folder of images with ``lights.txt``.

    Parameters
    ----------
    path : the folder.
    light_norm_is_intensity : take the norm of each light vector as its intensity
        (multiplying ``intensities.txt`` when both are given); by default non-unit
        vectors are simply normalised.
    load_images : False to decode only the first image (see ``checks.load_stack``):
        ``images`` is then a zero view and ``files`` are to be read one at a time.
    encoding : ``"auto"`` (JPEG is sRGB, other files linear), ``"srgb"``, ``"linear"``
        or a gamma in (1, 3).

    Returns
    -------
    Capture with images (K, H, W, C) float32 linear, scaled by bit depth, lights (K, 3)
    unit in the project frame, intensities (K, C), mask (computed from the images when
    there is no mask file: ``meta["mask_note"]`` says so).

    Raises
    ------
    InputError : naming the file at fault: missing/unreadable images, different sizes,
        a light or intensity count that differs from the image count, zero-length or
        non-finite vectors, NaN/inf pixels, an empty or wrongly sized mask.
    """
    folder = Path(path)
    lf = folder / LIGHTS_FILE
    if not lf.is_file() and not is_image_folder(folder):
        raise InputError(lf, "light file not found")
    if not folder.is_dir():
        raise InputError(folder, "not a folder")
    files = _image_files(folder)
    images, depth = load_stack(files, decode=load_images, encoding=check_encoding(encoding))
    if load_images:
        check_images_finite(images, files)
    k, h, w, c = images.shape
    if lf.is_file():
        lights, norms = check_lights(read_table(lf, 3, what="light"), k, lf)
    else:  # one's own photos: the lights are estimated later, or given
        lights, norms = np.full((k, 3), np.nan), np.ones(k)
    inf = folder / "intensities.txt"
    if inf.is_file():
        table = read_table(inf, what="intensity", count_line=False)
        intensities = check_intensities(table[:, 0] if table.shape[1] == 1 else table,
                                        k, c, inf)
    else:
        intensities = np.ones((k, c))
    if light_norm_is_intensity:
        intensities = intensities * norms[:, None]
    meta = {"layout": "folder", "light_norms": norms, "encoding": encoding,
            "lights_known": lf.is_file()}
    if lf.is_file():
        meta["lights_file"] = str(lf)
    mf = mask_file(folder)
    if mf is not None:
        mask = load_mask(mf, (h, w))
    elif load_images:
        mask, meta["mask_note"] = mask_from_images(images)
    else:  # streaming: the images are not in memory; the streaming reader computes it
        mask = np.ones((h, w), bool)
        meta["mask_from_images"] = True
    return Capture(name=folder.resolve().name, root=folder, files=[p.name for p in files],
                   images=images, mask=mask, lights=lights, intensities=intensities,
                   bit_depth=depth, meta=meta)
