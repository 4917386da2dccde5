"""Checks and reshaping shared by the photometric-stereo solvers.

Bad input raises :class:`~lambertian.core.errors.InputError` naming ``source`` (the
capture folder or argument) and the problem, never a silent wrong answer.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.grey import GREY_WEIGHTS, to_grey  # noqa: F401  (re-exported)

# Smallest singular value of the unit-normalised light matrix, relative to the largest,
# below which the lights are treated as coplanar (rank < 3).
COPLANAR_RCOND = 1e-3



def check_lights(lights: np.ndarray, num_images: int, source: str = "lights",
                 normalise: bool = True) -> np.ndarray:
    """(K, 3) float64 light directions (unit unless ``normalise=False``), or InputError.

    The shape, count, finiteness and length checks are the readers' own
    (:func:`lambertian.io.checks.check_lights`, one place for them); added here: fewer
    than 3 independent directions (coplanar or degenerate sets) are an error because
    normals are then not identifiable.
    """
    from lambertian.io.checks import check_lights as check_light_vectors
    from lambertian.io.checks import check_lights_face_camera

    unit, _ = check_light_vectors(lights, num_images, source, face_camera=False)
    s = np.linalg.svd(unit, compute_uv=False)
    if unit.shape[0] < 3 or s[-1] < COPLANAR_RCOND * s[0]:
        raise InputError(source, "lights are coplanar or degenerate: fewer than 3 independent "
                                 "directions, normals are not identifiable")
    check_lights_face_camera(unit, source)  # after: coplanar is the more basic diagnosis
    return unit if normalise else np.asarray(lights, dtype=np.float64)


def check_images(images: np.ndarray, source: str = "images") -> np.ndarray:
    """(K, H, W, C) float32 images (a (K, H, W) stack gains C = 1), or InputError."""
    img = np.asarray(images)
    if img.ndim == 3:
        img = img[..., None]
    if img.ndim != 4:
        raise InputError(source, f"images must be K x H x W [x C], got shape {img.shape}")
    img = img.astype(np.float32, copy=False)
    finite = np.isfinite(img)
    if not finite.all():
        k = int(np.flatnonzero(~finite.reshape(img.shape[0], -1).all(axis=1))[0])
        raise InputError(source, f"image {k} holds NaN or infinite values")
    if img.size and not img.any():
        raise InputError(source, f"every one of the {img.shape[0]} images is black: no shading "
                                 "to solve from")
    return img


def check_mask(mask: np.ndarray | None, shape: tuple[int, int], source: str = "mask") -> np.ndarray:
    """(H, W) bool mask (all True when None), or InputError for a wrong size or no pixels."""
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask).astype(bool)
    if m.shape != tuple(shape):
        raise InputError(source, f"mask is {m.shape[1]}x{m.shape[0]}, images are "
                                 f"{shape[1]}x{shape[0]}")
    if not m.any():
        raise InputError(source, "mask is empty: no pixel to solve")
    return m


def check_inputs(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None,
                 source: str = "images") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The checks every solver starts with, in one order: :func:`check_images`, then
    :func:`check_lights` against their count, then :func:`check_mask` against their size.
    Returns the (K, H, W, C) float32 images, (K, 3) unit lights and (H, W) bool mask."""
    img = check_images(images, source)
    k, h, w, _ = img.shape
    return img, check_lights(lights, k, source), check_mask(mask, (h, w), source)
