"""Cropped Extended Yale B as a light-estimation data set, and the known-geometry baseline.

Split by subject, never mixed: subjects 01-22 (there is no 14) train, 23-28 validate.
Every image of a subject is used (the near-black ones too: a dark face *is* evidence of
a light behind it), labelled by the light direction in its file name
(:func:`lambertian.core.frames.yaleb_light`, project frame).

Baseline (known geometry): photometric stereo on each training subject (robust PS on its
images that are not near-black), the per-pixel mean of those normal maps (and of their
median-normalised albedo maps) as a generic face, then
:func:`lambertian.lights.single_image.estimate_light` on each validation image divided by
that mean albedo, with no ambient term, over the pixels where the training subjects'
normals agree (:func:`mean_face`). Each of these three choices is measured in
``benchmarks/light_faces_baseline.py``: the estimator's defaults (uniform albedo, an
ambient term, every pixel) give 40.4 degrees mean on subjects 23-28, because (1) the
rig has no ambient light (the ambient images average 0.005 against 0.28 for the lit
ones), and a free ambient term absorbs the shading of grazing lights, so 82 of 384
images come out unidentifiable; (2) a face is not uniformly white: eyes, brows,
nostrils, lips and stubble are dark, and read as shading they pull the light upward
(+0.28 mean error in l_y). The frames agree: the training subjects' normals come from
the same file-name lights, and a subject's own normals show the same pattern.

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
from lambertian.core.grey import to_grey
from lambertian.learn.light_data import normalize_image

TRAIN_SUBJECTS = tuple(i for i in range(1, 23) if i != 14)
VAL_SUBJECTS = tuple(range(23, 29))
# Network input size (rows, cols) of the shipped face model: the 192 x 168 crop reduced
# 3x by area averaging (48 x 42 lost accuracy, 96 x 84 gained none:
# experiments/light_faces_recipes.py).
FACE_SIZE = (64, 56)


def subject_dir(root: str | os.PathLike[str], subject: int) -> Path:
    """``root/yaleBNN`` for subject number NN."""
    return Path(root) / f"yaleB{subject:02d}"


def prepare_image(image: np.ndarray, size: tuple[int, int] = FACE_SIZE
                  ) -> tuple[torch.Tensor, float]:
    """(H, W) or (H, W, C) linear image -> (1, 1, rows, cols) normalised network input and
    the normalisation scale (area resize; colour reduced to grey, DiLiGenT weights)."""
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3:
        img = to_grey(img)
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


def relit_faces(normals: list[np.ndarray], albedos: list[np.ndarray], n: int,
                size: tuple[int, int] = FACE_SIZE, seed: int = 0, min_z: float = -0.6,
                depth: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` training faces re-rendered under new lights: (n, 1, rows, cols) normalised
    images and (n, 3) unit directions (project frame).

    Each render takes the normals of one training subject and the albedo of another (or
    the same), so the network sees more identities and lights between the rig's 64:
    ``albedo * (ambient + max(0, n . l))`` with the light uniform on the cap
    ``l_z >= min_z`` (the rig reaches -0.6) and a small random ambient. No cast shadows
    nor highlights: the real images, mixed in during training, carry those.

    depth : with ``depth > 0`` each face's relief is scaled by ``lam = exp(u)``, ``u``
    uniform in ``[-depth, depth]`` (``z -> lam z``, so ``n ~ (lam n_x, lam n_y, n_z)``):
    the bas-relief member of the generalized bas-relief family (Belhumeur, Kriegman,
    Yuille, IJCV 1999), under which a flatter face lit more obliquely looks like a deeper
    one lit more frontally. Subjects flatter than the training faces (Yale B 27) otherwise
    have their light elevations pulled toward the horizon.

    normals, albedos : per subject (H, W, 3) unit normals and (H, W) albedo, e.g. from
    :func:`subject_normals` on the *training* subjects only.
    """
    from lambertian.learn.light_data import sample_directions

    small_n = [torch.from_numpy(cv2.resize(m.astype(np.float32), (size[1], size[0]),
                                           interpolation=cv2.INTER_AREA)) for m in normals]
    small_n = [m / m.norm(dim=-1, keepdim=True).clamp_min(1e-6) for m in small_n]
    small_a = [torch.from_numpy(cv2.resize((a / max(float(np.median(a)), 1e-6)).astype(
        np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA)) for a in albedos]
    g = torch.Generator().manual_seed(int(seed))
    lights = sample_directions(n, g, min_z=min_z)
    i = torch.randint(0, len(small_n), (n,), generator=g)
    j = torch.where(torch.rand(n, generator=g) < 0.5, i,
                    torch.randint(0, len(small_a), (n,), generator=g))
    amb = 0.05 * torch.rand(n, generator=g)
    nn_, aa = torch.stack(small_n)[i], torch.stack(small_a)[j]
    if depth > 0:
        lam = torch.exp(depth * (2 * torch.rand(n, generator=g) - 1))
        nn_ = torch.cat([nn_[..., :2] * lam[:, None, None, None], nn_[..., 2:]], dim=-1)
        nn_ = nn_ / nn_.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    shade = (nn_ * lights[:, None, None, :]).sum(-1).clamp_min(0) + amb[:, None, None]
    img = (aa.clamp_min(0) * shade)[:, None]
    return normalize_image(img)[0], lights.float()


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


@dataclass
class MeanFace:
    """The generic face of the known-geometry baseline, at the crop's resolution.

    normals : (H, W, 3) unit mean normals; albedo : (H, W) mean of the median-normalised
    albedo maps; agreement : (H, W) length of the mean of the unit normals (1 where all
    subjects agree; low on hair, background and the eyes); mask : (H, W) bool pixels with
    ``agreement > MASK_AGREEMENT`` and ``albedo > MASK_ALBEDO``.
    """

    normals: np.ndarray
    albedo: np.ndarray
    agreement: np.ndarray
    mask: np.ndarray


MASK_AGREEMENT = 0.95
MASK_ALBEDO = 0.3


def mean_face(root: str | os.PathLike[str], subjects: tuple[int, ...] = TRAIN_SUBJECTS,
              cache_dir: str | os.PathLike[str] | None = None) -> MeanFace:
    """:class:`MeanFace` of ``subjects`` (photometric stereo of each, see
    :func:`subject_normals`; ``cache_dir`` keeps those results)."""
    normals, albedos = [], []
    for s in subjects:
        n, a = subject_normals(subject_dir(root, s), cache_dir)
        normals.append(n)
        albedos.append(a / max(float(np.median(a)), 1e-6))
    acc = np.sum(normals, axis=0)
    length = np.linalg.norm(acc, axis=-1)
    agreement = length / len(normals)
    albedo = np.mean(albedos, axis=0)
    return MeanFace(acc / length[..., None].clip(1e-9), albedo, agreement,
                    (agreement > MASK_AGREEMENT) & (albedo > MASK_ALBEDO))


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
                              normals: np.ndarray, albedo: np.ndarray | None = None,
                              mask: np.ndarray | None = None, ambient: bool = False
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The baseline on every image of ``subjects``: (N, 3) estimated and (N, 3) true
    directions, and (N,) bool ``failed`` where the estimator reported the light
    unidentifiable (there the estimate is the frontal (0, 0, 1), counted in the errors).

    normals : (H, W, 3) generic face normals; albedo : optional (H, W) generic albedo the
    image is divided by (else uniform); mask : optional (H, W) bool pixels to use;
    ambient : fit an ambient term (Yale B has none: see the module docstring).
    """
    from lambertian.io import read_yaleb
    from lambertian.lights.single_image import estimate_light

    div = 1.0 if albedo is None else np.maximum(albedo, 0.05)
    est, true, failed = [], [], []
    for s in subjects:
        cap = read_yaleb(subject_dir(root, s))
        for k in range(cap.num_images):
            try:
                d = estimate_light(cap.images[k, ..., 0] / div, normals, mask, ambient=ambient,
                                   source=cap.files[k]).direction
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


def uncertainty_summary(kappa: np.ndarray, errors_deg: np.ndarray) -> dict[str, float]:
    """How far (N,) vMF concentrations can be trusted on (N,) angular errors (degrees):
    ``spearman``, the rank correlation of the stated uncertainty with the error;
    ``nll``, the mean vMF negative log-likelihood of the errors; ``stated`` and ``actual``
    mean errors (degrees, the stated one from
    :func:`~lambertian.learn.light_models.kappa_to_degrees`); ``inside_90``, the
    percentage of errors inside the stated 90% cone (``1 - cos t = ln 10 / kappa``, the
    vMF's tail ``exp(-kappa (1 - cos t))``)."""
    from scipy.stats import spearmanr

    from lambertian.learn.light_models import error_nll, kappa_to_degrees

    k = torch.as_tensor(np.asarray(kappa, dtype=np.float64))
    e = np.asarray(errors_deg, dtype=np.float64)
    cos = torch.cos(torch.deg2rad(torch.from_numpy(e)))
    stated = kappa_to_degrees(k).numpy()
    return {"spearman": float(spearmanr(stated, e)[0]),
            "nll": float(error_nll(k, e).mean()),
            "stated": float(stated.mean()), "actual": float(e.mean()),
            "inside_90": float(100 * np.mean((1 - cos).numpy() < np.log(10) / k.numpy()))}


def format_uncertainty(name: str, u: dict[str, float]) -> str:
    """One line of :func:`uncertainty_summary`."""
    return (f"{name}: spearman(uncertainty, error) {u['spearman']:.3f}, vMF NLL "
            f"{u['nll']:.3f}, mean uncertainty {u['stated']:.2f} vs error {u['actual']:.2f} "
            f"deg, {u['inside_90']:.1f}% inside the 90% cone")
