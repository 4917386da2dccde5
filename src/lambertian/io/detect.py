"""``read_capture``: recognise a capture's layout and read it with the matching reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.errors import InputError, as_path
from lambertian.io.capture import Capture
from lambertian.io.checks import check_capture_exposure
from lambertian.io.cmu_face import is_cmu_face, read_cmu_face
from lambertian.io.diligent import is_diligent, read_diligent
from lambertian.io.folder import is_folder_capture, is_image_folder, read_folder
from lambertian.io.psm import is_psm, read_psm
from lambertian.io.yaleb import is_yaleb, read_yaleb

# Most specific first: a DiLiGenT folder would also pass looser tests.
LAYOUTS = (
    ("diligent", is_diligent, read_diligent),
    ("cmu_face", is_cmu_face, read_cmu_face),
    ("folder", is_folder_capture, read_folder),
    ("psm", is_psm, read_psm),
    ("yaleb", is_yaleb, read_yaleb),
    # last: any other folder of images is one's own photos, lights unknown
    ("folder", is_image_folder, read_folder),
)

EXPECTED = ("a DiLiGenT folder (light_directions.txt), a UW psm object folder or list file "
            "(<obj>.mask.tga, ../lights.txt), a Yale B subject folder (*_P00A+000E+00.pgm), "
            "the CMU face folder (sources.npy) or a folder of images (lights.txt optional)")


def detect_layout(path: str | os.PathLike[str]) -> str:
    """Name of the layout of ``path`` (one of :data:`LAYOUTS`), or InputError."""
    p = as_path(path, "path")
    if not p.exists():
        raise InputError(p, "no such file or folder")
    lights = p / "lights.txt"
    if p.is_dir() and (lights.is_symlink() or lights.exists()) and not lights.is_file():
        # else the folder passes for one of images with unknown lights, or for none
        raise InputError(lights, "a link to nothing" if not lights.exists() else "not a file")
    for name, test, _ in LAYOUTS:
        if test(p):
            return name
    if p.is_dir() and (p / "lights.txt").is_file() and any(p.glob("*.txt")) and any(
            (p / q.stem).is_dir() for q in p.glob("*.txt")):
        raise InputError(p, "this is the root of a UW psm set: pass one object, e.g. "
                            f"{p / 'gray'} or {p / 'gray.txt'}")
    raise InputError(p, f"unknown capture layout: expected {EXPECTED}")


def read_capture(path: str | os.PathLike[str], *, encoding: str | float = "auto",
                 **kwargs: Any) -> Capture:
    """Read any capture the package knows; keyword arguments go to the layout's reader
    (e.g. ``light_norm_is_intensity`` for a generic folder).

    ``encoding`` is how a generic folder's images encode radiance (``"auto"``: JPEG is
    sRGB, other files linear; ``"srgb"``, ``"linear"`` or a gamma in (1, 3); see
    :mod:`lambertian.io.camera_files`); the published data sets' layouts are linear.
    """
    layout = detect_layout(path)
    reader = next(r for n, _, r in LAYOUTS if n == layout)
    if layout == "folder":
        kwargs["encoding"] = encoding
    cap = reader(path, **kwargs)
    if kwargs.get("load_images", True):
        # The exposure checks of every path (the streamed one makes them as it stages).
        check_capture_exposure(cap.images, cap.mask, [Path(cap.root) / f for f in cap.files],
                               cap.bit_depth, path)
    return cap


# Layouts whose readers can list a capture without decoding it (used for streaming).
STREAMABLE = ("diligent", "folder")


def capture_files(path: str | os.PathLike[str]
                  ) -> tuple[list[Path], Any, Any, Any, str | None, str | None]:
    """Image files, lights (K, 3), intensities (K, C) and mask (H, W) of a capture,
    decoding only its first image: the input of streaming photometric stereo. A generic
    folder without a mask file gets the mask the in-memory reader computes
    (:func:`lambertian.io.mask_from_images.mask_from_images`), from one pass over the
    images that holds one image at a time; the fifth value is then its note (else None).
    The sixth is the light file the lights were read from (None when they are unknown),
    for the solver's checks to name (:func:`lambertian.ps.inputs.check_capture_lights`).

    Only the DiLiGenT layout and generic folders are supported (the layouts large
    captures come in); others raise InputError.
    """
    layout, cap = _listed(path)
    if cap is None:
        raise InputError(path, f"streaming reads DiLiGenT-layout or generic folders, not "
                               f"{layout}; run without --stream")
    files = [Path(cap.root) / f for f in cap.files]
    mask, note = cap.mask, None
    if cap.meta.get("mask_from_images"):
        from lambertian.io.images import read_image
        from lambertian.io.mask_from_images import mask_from_peak

        peak = None
        for f in files:  # as the folder reader decodes them: JPEG sRGB, others linear
            grey = read_image(f, "auto")[0].mean(axis=-1)
            peak = grey if peak is None else np.maximum(peak, grey)
        mask, note = mask_from_peak(peak)
    return files, cap.lights, cap.intensities, mask, note, cap.meta.get("lights_file")


def capture_shape(path: str | os.PathLike[str]) -> tuple[int, int, int, int] | None:
    """(K, H, W, C) of a DiLiGenT-layout or generic-folder capture, decoding only its first
    image (what deciding whether it fits in memory needs); None for other layouts (the
    published sets they hold are small)."""
    cap = _listed(path)[1]
    if cap is None:
        return None
    k, h, w, c = cap.images.shape
    return int(k), int(h), int(w), int(c)


def _listed(path: str | os.PathLike[str]) -> tuple[str, Capture | None]:
    """The layout, and for a streamable one the capture read with only its first image
    decoded (``images`` a zero view of the stack's shape); None for other layouts."""
    layout = detect_layout(path)
    if layout not in STREAMABLE:
        return layout, None
    reader = next(r for n, _, r in LAYOUTS if n == layout)
    return layout, reader(path, load_images=False)
