"""The DiLiGenT layout (Shi et al., "A Benchmark Dataset and Evaluation for Non-Lambertian
and Uncalibrated Photometric Stereo", CVPR 2016 / TPAMI 2019).

A folder holds ``filenames.txt`` (image order), the 16-bit PNG images,
``light_directions.txt`` (K x 3, already in the project frame: x right, y up, z toward
the camera), ``light_intensities.txt`` (K x 3, R G B), ``mask.png`` and, when known,
``Normal_gt.mat`` (key ``Normal_gt``), ``depth_gt.npy`` with ``K.txt`` (Cao et al.,
"Bilateral Normal Integration", ECCV 2022) and ``crop.txt``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io.capture import Capture
from lambertian.io.checks import (
    check_images_finite,
    check_intensities,
    check_lights,
    load_mask,
    load_npy,
    load_stack,
    read_camera,
    read_file_list,
    read_table,
)
from lambertian.io.folder import mask_file

LIGHTS_FILE = "light_directions.txt"
INTENSITIES_FILE = "light_intensities.txt"


def is_diligent(folder: Path) -> bool:
    return folder.is_dir() and (folder / LIGHTS_FILE).is_file()


def _file_names(folder: Path) -> list[str]:
    listing = folder / "filenames.txt"
    if listing.is_file():
        return read_file_list(listing)
    # Without the listing, the numbered PNGs in numeric order (DiLiGenT's 001.png ...).
    names = sorted((p.name for p in folder.glob("*.png") if p.stem.isdigit()),
                   key=lambda n: int(Path(n).stem))
    if not names:
        raise InputError(folder, "no filenames.txt and no numbered PNG images")
    return names


def read_normals_mat(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """``Normal_gt.mat`` -> (H, W, 3) float64 (as stored; zeros where unknown)."""
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as exc:
        raise InputError(path, f"cannot read the MATLAB file: {exc}") from exc
    if "Normal_gt" not in mat:
        raise InputError(path, "has no Normal_gt variable")
    raw = np.asarray(mat["Normal_gt"])
    if not np.issubdtype(raw.dtype, np.number) or np.iscomplexobj(raw):
        raise InputError(path, f"Normal_gt is not a real numeric array ({raw.dtype})")
    n = raw.astype(np.float64)
    if n.shape != (*shape, 3):
        raise InputError(path, f"normals are {n.shape}, images are {shape[0]}x{shape[1]}")
    if not np.isfinite(n).all():
        raise InputError(path, "normals hold NaN or infinite values")
    if not n.any():
        raise InputError(path, "every ground-truth normal is zero")
    return n


def read_diligent(path: str | os.PathLike[str], load_images: bool = True) -> Capture:
    """Read a capture in the DiLiGenT layout.

    Parameters
    ----------
    path : the object folder (e.g. ``diligent/ball``).
    load_images : False to decode only the first image (see ``checks.load_stack``):
        ``images`` is then a zero view and ``files`` are to be read one at a time.

    Returns
    -------
    Capture with images (K, H, W, 3) float32 = raw 16-bit values / 65535 (not divided by
    the intensities), lights (K, 3) unit in the project frame, intensities (K, 3),
    mask from ``mask.png`` (all True when absent), normals (H, W, 3) from
    ``Normal_gt.mat``, depth (H, W) and K (3, 3) when present; ``meta["crop"]`` is
    ``(x0, y0, width, height)`` in the original 612 x 512 frame when ``crop.txt`` exists.

    Raises
    ------
    InputError : naming the file at fault (missing/unreadable image, sizes that differ,
        light count != image count, zero or non-finite light, bad mask, ...).
    """
    folder = Path(path)
    if not is_diligent(folder):
        raise InputError(folder, f"not a DiLiGenT folder: {LIGHTS_FILE} is missing")
    names = _file_names(folder)
    files = [folder / n for n in names]
    images, depth = load_stack(files, decode=load_images)
    if load_images:
        check_images_finite(images, files)
    k, h, w, c = images.shape

    lights_file = folder / LIGHTS_FILE
    lights, _ = check_lights(read_table(lights_file, 3, what="light", count_line=False), k,
                             lights_file)
    inten_file = folder / INTENSITIES_FILE
    if inten_file.is_file():
        table = read_table(inten_file, what="intensity", count_line=False)
        intensities = check_intensities(table, k, c, inten_file)
    else:
        intensities = np.ones((k, c))

    # mask.png is the layout's; a second mask image beside it is refused, not ignored
    mask_file(folder)
    mf = folder / "mask.png"
    mask = load_mask(mf, (h, w)) if mf.is_file() else np.ones((h, w), bool)
    meta: dict = {"layout": "diligent", "lights_file": str(lights_file)}
    normals = None
    if (folder / "Normal_gt.mat").is_file():
        normals = read_normals_mat(folder / "Normal_gt.mat", (h, w))
    dmap, Kmat = None, None
    if (folder / "depth_gt.npy").is_file():
        dmap = load_npy(folder / "depth_gt.npy", "depth").astype(np.float32)
        if dmap.shape != (h, w):
            raise InputError(folder / "depth_gt.npy",
                             f"depth is {dmap.shape}, images are {h}x{w}")
    if (folder / "K.txt").is_file():
        Kmat = read_camera(folder / "K.txt")
    if (folder / "crop.txt").is_file():
        crop = read_table(folder / "crop.txt", what="crop").ravel()
        meta["crop"] = tuple(int(v) for v in crop)
    return Capture(name=folder.resolve().name, root=folder, files=names, images=images,
                   mask=mask, lights=lights, intensities=intensities, bit_depth=depth,
                   normals=normals, depth=dmap, K=Kmat, meta=meta)
