"""``read_capture``: recognise a capture's layout and read it with the matching reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lambertian.core.errors import InputError
from lambertian.io.capture import Capture
from lambertian.io.checks import check_capture_exposure
from lambertian.io.cmu_face import is_cmu_face, read_cmu_face
from lambertian.io.diligent import is_diligent, read_diligent
from lambertian.io.folder import is_folder_capture, read_folder
from lambertian.io.psm import is_psm, read_psm
from lambertian.io.yaleb import is_yaleb, read_yaleb

# Most specific first: a DiLiGenT folder would also pass looser tests.
LAYOUTS = (
    ("diligent", is_diligent, read_diligent),
    ("cmu_face", is_cmu_face, read_cmu_face),
    ("folder", is_folder_capture, read_folder),
    ("psm", is_psm, read_psm),
    ("yaleb", is_yaleb, read_yaleb),
)

EXPECTED = ("a DiLiGenT folder (light_directions.txt), a UW psm object folder or list file "
            "(<obj>.mask.tga, ../lights.txt), a Yale B subject folder (*_P00A+000E+00.pgm), "
            "the CMU face folder (sources.npy) or a folder of images with lights.txt")


def detect_layout(path: str | os.PathLike[str]) -> str:
    """Name of the layout of ``path`` (one of :data:`LAYOUTS`), or InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "no such file or folder")
    for name, test, _ in LAYOUTS:
        if test(p):
            return name
    if p.is_dir() and (p / "lights.txt").is_file() and any(p.glob("*.txt")) and any(
            (p / q.stem).is_dir() for q in p.glob("*.txt")):
        raise InputError(p, "this is the root of a UW psm set: pass one object, e.g. "
                            f"{p / 'gray'} or {p / 'gray.txt'}")
    raise InputError(p, f"unknown capture layout: expected {EXPECTED}")


def read_capture(path: str | os.PathLike[str], **kwargs: Any) -> Capture:
    """Read any capture the package knows; keyword arguments go to the layout's reader
    (e.g. ``light_norm_is_intensity`` for a generic folder)."""
    layout = detect_layout(path)
    reader = next(r for n, _, r in LAYOUTS if n == layout)
    cap = reader(path, **kwargs)
    if kwargs.get("load_images", True):
        # The exposure checks of every path (the streamed one makes them as it stages).
        check_capture_exposure(cap.images, cap.mask, [Path(cap.root) / f for f in cap.files],
                               cap.bit_depth, path)
    return cap


def read_capture_images(path: str | os.PathLike[str]) -> Capture:
    """A capture whose lights are not needed (uncalibrated or chrome-sphere light
    estimation): any layout :func:`read_capture` knows, or else a plain folder of images
    (optional ``mask.*``, ``filenames.txt``) whose lights are NaN."""
    p = Path(path)
    try:
        layout = detect_layout(p)
    except InputError:
        if not p.is_dir() or (p / "lights.txt").exists():
            raise
        layout = None
    if layout is not None:
        return read_capture(p)
    cap = read_folder(p, require_lights=False)
    check_capture_exposure(cap.images, cap.mask, [p / f for f in cap.files], cap.bit_depth, p)
    return cap


# Layouts whose readers can list a capture without decoding it (used for streaming).
STREAMABLE = ("diligent", "folder")


def capture_files(path: str | os.PathLike[str]) -> tuple[list[Path], Any, Any, Any]:
    """Image files, lights (K, 3), intensities (K, C) and mask (H, W) of a capture,
    decoding only its first image: the input of streaming photometric stereo.

    Only the DiLiGenT layout and generic folders are supported (the layouts large
    captures come in); others raise InputError.
    """
    layout = detect_layout(path)
    if layout not in STREAMABLE:
        raise InputError(path, f"streaming reads DiLiGenT-layout or generic folders, not "
                               f"{layout}; run without --stream")
    reader = next(r for n, _, r in LAYOUTS if n == layout)
    cap = reader(path, load_images=False)
    return [Path(cap.root) / f for f in cap.files], cap.lights, cap.intensities, cap.mask
