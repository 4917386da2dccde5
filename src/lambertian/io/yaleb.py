"""A subject folder of the Cropped Extended Yale Face Database B.

Georghiades, Belhumeur, Kriegman, "From Few to Many: Illumination Cone Models for Face
Recognition under Variable Lighting and Pose", PAMI 2001; Lee, Ho, Kriegman, "Acquiring
Linear Subspaces for Face Recognition under Variable Lighting", PAMI 2005.

``yaleBNN/`` holds up to 64 8-bit PGM faces (168 x 192), each under one distant point
light whose azimuth A and elevation E (degrees) are in the file name
(``yaleB01_P00A+035E+40.pgm``), an ambient-only image (``yaleB01_P00_Ambient.pgm``) and
a ``.info`` file. What the ``.info`` file lists (checked on this copy): subjects 01-10 list
the ambient image and 22 of the 64 lit images, subjects 11-28 the ambient and all 64;
for some subjects it names images absent from the folder (the original release flagged
them ``.bad``) and subject 16's names pose ``P01`` while its files are ``P00``. It is
therefore *not* a list of the dark images; those are measured from the pixels here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.frames import yaleb_light
from lambertian.io.capture import Capture
from lambertian.io.checks import load_stack
from lambertian.io.images import read_image

NAME_RE = re.compile(r"^(?P<subject>yaleB\d+)_P(?P<pose>\d+)A(?P<a>[+-]\d+)E(?P<e>[+-]\d+)\.pgm$",
                     re.IGNORECASE)
AMBIENT_RE = re.compile(r"_P\d+_Ambient\.pgm$", re.IGNORECASE)

# An image whose mean value is below this fraction of full scale is reported near-black:
# on yaleB01 this picks the lights behind or above the head (|A| >= 120 or E = 90 and
# A = +-110, E = 65), whose faces are lit on a thin rim only.
NEAR_BLACK_MEAN = 0.1


def is_yaleb(folder: Path) -> bool:
    return folder.is_dir() and any(NAME_RE.match(p.name) for p in folder.glob("*.pgm"))


def parse_angles(name: str) -> tuple[float, float]:
    """(azimuth, elevation) in degrees from a Yale B file name."""
    m = NAME_RE.match(Path(name).name)
    if m is None:
        raise InputError(name, "not a Yale B image name (expected ..._P00A+035E+40.pgm)")
    return float(m["a"]), float(m["e"])


def _info_names(folder: Path) -> tuple[Path | None, list[str]]:
    infos = sorted(folder.glob("*.info"))
    if not infos:
        return None, []
    return infos[0], [ln.strip() for ln in infos[0].read_text().splitlines() if ln.strip()]


def read_yaleb(path: str | os.PathLike[str]) -> Capture:
    """Read one Yale B subject folder.

    Parameters
    ----------
    path : the subject folder (``yaleb/yaleB01``).

    Returns
    -------
    Capture with images (K, 192, 168, 1) float32 (8-bit / 255) in file-name order, lights
    from the names through :func:`lambertian.core.frames.yaleb_light` (project frame),
    intensities ones, mask all True (no face mask ships with the set and the crop is
    mostly face; estimators should rely on their own shadow handling). ``meta`` holds:
    ``ambient`` (H, W, 1) image (None, with ``ambient_note``, when the file is not the
    crop's size: some subjects ship it uncropped), ``near_black`` (names with a mean below
    :data:`NEAR_BLACK_MEAN`), ``mean_intensity`` (K,), ``info_listed`` (names in the
    ``.info`` file), ``info_missing`` (listed but absent) and ``angles`` (K, 2) A, E.

    Raises
    ------
    InputError : no lit image, unreadable images, images of different sizes.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(folder, "subject folder not found")
    names = sorted(p.name for p in folder.glob("*.pgm") if NAME_RE.match(p.name))
    if not names:
        raise InputError(folder, "no Yale B image (..._P00A+035E+40.pgm) in the folder")
    files = [folder / n for n in names]
    images, depth = load_stack(files)
    k, h, w, c = images.shape
    angles = np.asarray([parse_angles(n) for n in names])
    lights = yaleb_light(angles[:, 0], angles[:, 1])
    means = images.reshape(k, -1).mean(axis=1)
    meta: dict = {"layout": "yaleb", "angles": angles, "mean_intensity": means,
                  "near_black": [n for n, m in zip(names, means, strict=True)
                                 if m < NEAR_BLACK_MEAN]}
    ambient = [p for p in sorted(folder.glob("*.pgm")) if AMBIENT_RE.search(p.name)]
    if ambient:
        amb, _ = read_image(ambient[0])
        meta["ambient_file"] = ambient[0].name
        if amb.shape == images.shape[1:]:
            meta["ambient"] = amb
        else:  # some subjects ship an uncropped ambient image: not pixel-aligned, left out
            meta["ambient"] = None
            meta["ambient_note"] = (f"ambient image is {amb.shape[1]}x{amb.shape[0]}, not the "
                                    f"{w}x{h} crop of the lit images; left out")
    info, listed = _info_names(folder)
    if info is not None:
        present = {p.name for p in folder.iterdir()}
        meta.update(info_file=info.name, info_listed=listed,
                    info_missing=[n for n in listed if n not in present])
    subject = NAME_RE.match(names[0])["subject"]  # type: ignore[index]
    return Capture(name=subject, root=folder, files=names, images=images,
                   mask=np.ones((h, w), bool), lights=lights, intensities=np.ones((k, c)),
                   bit_depth=depth, meta=meta)
