"""The UW CSE455 photometric-stereo layout ("psm", S. Seitz's course images).

::

    psm/lights.txt        first line: count, then one unit light vector per line
    psm/<obj>.txt         count, then psmImages/<obj>/<file> per image, then the mask
    psm/<obj>/<obj>.N.tga 8-bit TGA images and <obj>.mask.tga

The list file's paths point into the original ``psmImages/`` tree; each is resolved by
its base name inside the object folder. ``lights.txt`` is already in the project frame
(x right, y up, z toward the camera): checked on the matte sphere ``gray``, whose
analytic normals (from its circular mask) are recovered by least squares with a mean
error of about 6 degrees with the vectors as given, against about 52 degrees with y
flipped and 91 with z flipped. No conversion is therefore applied.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.sphere import fit_circle, sphere_normals
from lambertian.io.capture import Capture
from lambertian.io.checks import (
    check_lights,
    load_mask,
    load_stack,
    natural_key,
    read_table,
)

# Objects of the set whose mask is a sphere with known (analytic) normals.
MATTE_SPHERES = ("gray",)


def _locate(path: Path) -> tuple[Path, Path | None, str]:
    """(object folder, list file or None, object name) for a folder or a list file."""
    if path.is_file() and path.suffix.lower() == ".txt":
        return path.with_suffix(""), path, path.stem
    name = path.name
    listing = path.parent / f"{name}.txt"
    return path, (listing if listing.is_file() else None), name


def is_psm(path: Path) -> bool:
    folder, _, name = _locate(path)
    return folder.is_dir() and (folder / f"{name}.mask.tga").is_file() or (
        path.is_file() and path.suffix.lower() == ".txt"
        and (path.parent / "lights.txt").is_file() and folder.is_dir())


def _list_files(folder: Path, listing: Path | None, name: str) -> tuple[list[Path], Path]:
    if listing is None:
        # No list file: the object's numbered images in natural order, and its mask.
        imgs = sorted((p for p in folder.glob(f"{name}.*.tga") if p.stem != f"{name}.mask"),
                      key=lambda p: natural_key(p.name))
        if not imgs:
            raise InputError(folder, f"no {name}.txt list and no {name}.N.tga images")
        return imgs, folder / f"{name}.mask.tga"
    lines = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
    if not lines or not lines[0].isdigit():
        raise InputError(listing, "first line must be the image count")
    count, entries = int(lines[0]), lines[1:]
    if len(entries) != count + 1:
        raise InputError(listing, f"says {count} images but lists {len(entries)} entries "
                                  "(expected the images, then the mask)")
    paths = [folder / Path(e.replace("\\", "/")).name for e in entries]
    return paths[:-1], paths[-1]


def read_psm(path: str | os.PathLike[str], lights_file: str | os.PathLike[str] | None = None
             ) -> Capture:
    """Read one object of the UW psm set.

    Parameters
    ----------
    path : the object folder (``psm/gray``) or its list file (``psm/gray.txt``).
    lights_file : the light vectors; defaults to ``lights.txt`` beside the object folder.

    Returns
    -------
    Capture with images (K, H, W, 3) float32 (8-bit / 255), lights (K, 3) unit, project
    frame, intensities ones, mask from ``<obj>.mask.tga``. For the matte sphere ``gray``
    the normals are the analytic sphere normals of the disc fitted to the mask
    (``meta["normals_source"] == "analytic sphere from mask"``).

    Raises
    ------
    InputError : missing list, images or lights, a count mismatch, bad vectors or mask.
    """
    folder, listing, name = _locate(Path(path))
    if not folder.is_dir():
        raise InputError(folder, "object folder not found")
    files, mask_file = _list_files(folder, listing, name)
    images, depth = load_stack(files)
    k, h, w, c = images.shape
    lf = Path(lights_file) if lights_file is not None else folder.parent / "lights.txt"
    if lights_file is None and not lf.is_file():
        # an object folder copied without the set's lights.txt: its lights are unknown
        # (NaN, as a generic folder's), for `calibrate` / `lights` to find; `ps` says so
        lights = np.full((k, 3), np.nan)
    else:
        lights, _ = check_lights(read_table(lf, 3, what="light", count_line=True), k, lf)
    mask = load_mask(mask_file, (h, w)) if mask_file.is_file() else None
    if mask is None:
        raise InputError(mask_file, "mask file not found")
    meta: dict = {"layout": "psm",
                  "lights_frame": "as stored (verified to be the project frame on gray)"}
    if np.isfinite(lights).all():
        meta["lights_file"] = str(lf)
    normals = None
    if name in MATTE_SPHERES:
        cy, cx, r = fit_circle(mask, str(mask_file))
        normals, disc = sphere_normals((h, w), (cy, cx), r)
        # Mask pixels just outside the fitted disc (its ragged rim) get the rim normal,
        # (x, y, 0) normalised, so every mask pixel has a ground-truth normal.
        rim = mask & ~disc
        rows, cols = np.nonzero(rim)
        xy = np.stack([cols - cx, -(rows - cy)], axis=1)
        normals[rim, :2] = xy / np.linalg.norm(xy, axis=1, keepdims=True).clip(1e-12)
        normals[~mask] = 0.0
        meta.update(normals_source="analytic sphere from mask",
                    sphere={"centre_rc": (cy, cx), "radius": r, "rim_pixels": int(rim.sum())})
    if name == "chrome":
        meta["note"] = "mirror sphere for light calibration; the mask is the sphere"
    return Capture(name=name, root=folder, files=[p.name for p in files], images=images,
                   mask=mask, lights=lights, intensities=np.ones((k, c)), bit_depth=depth,
                   normals=normals, meta=meta)
