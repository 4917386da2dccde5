"""Cropped Extended Yale B as a light-estimation data set, and the known-geometry baseline.

Split by subject, never mixed: subjects 01-22 (there is no 14) train, 23-28 validate.
Every image of a subject is used (the near-black ones too: a dark face *is* evidence of
a light behind it), labelled by the light direction in its file name
(:func:`lambertian.core.frames.yaleb_light`, project frame).

Baseline (known geometry): photometric stereo on each training subject (robust PS on its
images that are not near-black), the per-pixel mean of those normal maps as a generic
face, then :func:`lambertian.lights.single_image.estimate_light` on each validation image
with that normal map.

References: Georghiades, Belhumeur, Kriegman, PAMI 2001; Lee, Ho, Kriegman, PAMI 2005.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from lambertian.core.errors import InputError
from lambertian.learn.light_data import normalize_image

TRAIN_SUBJECTS = tuple(i for i in range(1, 23) if i != 14)
VAL_SUBJECTS = tuple(range(23, 29))
# Network input size (rows, cols): the 192 x 168 crop reduced 4x by area averaging.
FACE_SIZE = (48, 42)


def subject_dir(root: str | os.PathLike[str], subject: int) -> Path:
    """``root/yaleBNN`` for subject number NN."""
    return Path(root) / f"yaleB{subject:02d}"


def prepare_image(image: np.ndarray, size: tuple[int, int] = FACE_SIZE
                  ) -> tuple[torch.Tensor, float]:
    """(H, W) or (H, W, C) linear image -> (1, 1, rows, cols) normalised network input and
    the normalisation scale (area resize; colour reduced to grey, DiLiGenT weights)."""
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3:
        w = np.asarray([0.2989, 0.5870, 0.1140], np.float32)
        img = img[..., 0] if img.shape[-1] == 1 else img[..., :3] @ w
    small = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    x, scale = normalize_image(torch.from_numpy(small)[None, None])
    return x, float(scale[0])


@dataclass
class FaceSet:
    """Images of several subjects, ready for the regressors.

    images : (N, 1, rows, cols) float32 normalised; directions : (N, 3) float32 unit;
    subjects : (N,) int; names : file names; near_black : (N,) bool (the reader's flag).
    """

    images: torch.Tensor
    directions: torch.Tensor
    subjects: np.ndarray
    names: list[str]
    near_black: np.ndarray


def load_faces(root: str | os.PathLike[str], subjects: tuple[int, ...],
               size: tuple[int, int] = FACE_SIZE) -> FaceSet:
    """Read the Yale B subjects ``subjects`` under ``root`` into a :class:`FaceSet`.

    Raises InputError when a subject folder is missing or unreadable.
    """
    from lambertian.io import read_yaleb

    imgs, dirs, subj, names, dark = [], [], [], [], []
    for s in subjects:
        cap = read_yaleb(subject_dir(root, s))
        for k in range(cap.num_images):
            imgs.append(prepare_image(cap.images[k, ..., 0], size)[0])
        dirs.append(cap.lights)
        subj += [s] * cap.num_images
        names += cap.files
        nb = set(cap.meta["near_black"])
        dark += [f in nb for f in cap.files]
    return FaceSet(torch.cat(imgs), torch.from_numpy(np.concatenate(dirs)).float(),
                   np.asarray(subj), names, np.asarray(dark))


def subject_normals(folder: str | os.PathLike[str],
                    cache_dir: str | os.PathLike[str] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Robust photometric stereo on every not-near-black image of one subject.

    Returns (H, W, 3) unit normals (project frame) and (H, W) albedo. With ``cache_dir``
    the result is kept in ``cache_dir/<subject>.npz`` and read back on later calls.
    """
    from lambertian.io import read_yaleb
    from lambertian.ps.robust import robust

    cached = None if cache_dir is None else Path(cache_dir) / f"{Path(folder).name}.npz"
    if cached is not None and cached.is_file():
        z = np.load(cached)
        return z["normals"], z["albedo"]

    cap = read_yaleb(folder)
    keep = [i for i, f in enumerate(cap.files) if f not in set(cap.meta["near_black"])]
    if len(keep) < 3:
        raise InputError(folder, "fewer than 3 usable images for photometric stereo")
    res = robust(cap.images[keep], cap.lights[keep], source=str(folder))
    normals, albedo = res.normals.astype(np.float64), res.albedo[..., 0].astype(np.float64)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, normals=normals, albedo=albedo)
    return normals, albedo


def mean_face_normals(root: str | os.PathLike[str],
                      subjects: tuple[int, ...] = TRAIN_SUBJECTS,
                      cache: str | os.PathLike[str] | None = None) -> np.ndarray:
    """(H, W, 3) unit mean of the subjects' photometric-stereo normal maps (the cropped
    faces are aligned, so a pixel-wise mean is a generic face).

    ``cache``: an .npy file written on first use and read afterwards.
    """
    if cache is not None and Path(cache).is_file():
        return np.load(cache)
    acc = sum(subject_normals(subject_dir(root, s))[0] for s in subjects)
    n = acc / np.linalg.norm(acc, axis=-1, keepdims=True).clip(1e-9)
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, n)
    return n


def known_geometry_directions(root: str | os.PathLike[str], subjects: tuple[int, ...],
                              normals: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                            np.ndarray]:
    """The baseline on every image of ``subjects``: (N, 3) estimated and (N, 3) true
    directions, and (N,) bool ``failed`` where the estimator reported the light
    unidentifiable (there the estimate is the frontal (0, 0, 1), counted in the errors)."""
    from lambertian.io import read_yaleb
    from lambertian.lights.single_image import estimate_light

    est, true, failed = [], [], []
    for s in subjects:
        cap = read_yaleb(subject_dir(root, s))
        for k in range(cap.num_images):
            try:
                d = estimate_light(cap.images[k, ..., 0], normals, source=cap.files[k]).direction
                bad = False
            except InputError:
                d, bad = np.array([0.0, 0.0, 1.0]), True
            est.append(d)
            failed.append(bad)
        true.append(cap.lights)
    return np.asarray(est), np.concatenate(true), np.asarray(failed)


def error_summary(errors_deg: np.ndarray) -> dict[str, float]:
    """mean, median and percentage under 10 degrees of (N,) angular errors."""
    e = np.asarray(errors_deg, dtype=np.float64)
    return {"mean": float(e.mean()), "median": float(np.median(e)),
            "under_10": float(100.0 * np.mean(e < 10.0)), "count": int(e.size)}
