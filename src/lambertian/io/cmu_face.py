"""The CMU 16-820 photometric-stereo face: ``input_1.tif`` ... ``input_7.tif`` (16-bit RGB
TIFF) and ``sources.npy`` (7 x 3 light vectors in the OpenCV camera frame: x right,
y down, z away from the camera).

The vectors are not unit (norms 0.84 to 1.00). Their norms behave as light intensities:
a rank-3 Lambertian fit of the grey images with the vectors as given leaves a relative
residual of 4.1 %, against 7.1 % with unit vectors (brighter half of the pixels), and
the shortest vector (image 3, norm 0.84) lights the darkest image (mean 0.86 of the
average). So the reader keeps the directions unit and puts the norms in
``intensities``; ``light_norm_is_intensity=False`` discards them instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.frames import opencv_to_project
from lambertian.io.capture import Capture
from lambertian.io.checks import (
    check_images_finite,
    check_lights,
    load_npy,
    load_stack,
    natural_key,
)

SOURCES_FILE = "sources.npy"


def is_cmu_face(folder: Path) -> bool:
    return folder.is_dir() and (folder / SOURCES_FILE).is_file()


def read_cmu_face(path: str | os.PathLike[str],
                  light_norm_is_intensity: bool = True) -> Capture:
    """Read the CMU face folder.

    Parameters
    ----------
    path : the folder holding ``input_N.tif`` and ``sources.npy``.
    light_norm_is_intensity : take each source vector's norm as that image's light intensity
        (the default, see the module notes); False sets intensities to one.

    Returns
    -------
    Capture with images (7, H, W, 3) float32 (16-bit / 65535), lights (7, 3) unit in the
    project frame (``opencv_to_project``: y and z negated, so z > 0 toward the camera),
    intensities (7, 3), mask all True.

    Raises
    ------
    InputError : missing/unreadable files, a count mismatch, zero or non-finite vectors.
    """
    folder = Path(path)
    src = folder / SOURCES_FILE
    if not src.is_file():
        raise InputError(src, "light file not found")
    files = sorted((p for p in folder.iterdir()
                    if p.suffix.lower() in (".tif", ".tiff") and p.is_file()),
                   key=lambda p: natural_key(p.name))
    if not files:
        raise InputError(folder, "no TIFF image in the folder")
    images, depth = load_stack(files)
    check_images_finite(images, files)
    k, h, w, c = images.shape
    raw = load_npy(src, "light array")
    if np.iscomplexobj(raw) or not np.issubdtype(np.asarray(raw).dtype, np.number):
        raise InputError(src, f"light vectors must be real numbers, not {raw.dtype}")
    check_lights(raw, k, src, face_camera=False)  # the shape first: the frame change needs it
    lights, norms = check_lights(opencv_to_project(np.asarray(raw, np.float64)), k, src)
    inten = norms if light_norm_is_intensity else np.ones(k)
    meta = {"layout": "cmu_face", "source_norms": norms,
            "lights_frame": "sources.npy in the OpenCV camera frame, converted"}
    return Capture(name=folder.resolve().name, root=folder, files=[p.name for p in files],
                   images=images, mask=np.ones((h, w), bool), lights=lights,
                   intensities=np.repeat(inten[:, None], c, axis=1), bit_depth=depth,
                   meta=meta)
