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
# Largest image value accepted (the bound on mesh coordinates too): the solvers square
# values in float32, which overflows near 1.8e19.
MAX_VALUE = 1e15


def check_capture_lights(lights: np.ndarray, num_images: int, lights_file: str | None,
                         source: str) -> None:
    """InputError for a capture's own lights that cannot be solved with: unknown (NaN
    rows: a folder without a light file), naming the capture ``source``; or, read from
    ``lights_file``, unable to give normals (coplanar, all behind), naming that file
    (the solver would name the capture). Every path that solves a capture with its own
    lights (``ps``, ``batch ps``, Python) makes these checks."""
    if not np.isfinite(np.asarray(lights, dtype=np.float64)).all():
        raise InputError(source, "the lights of these images are unknown (no lights.txt): "
                                 "calibrate them (lambertian calibrate, then ps --lights) "
                                 "or estimate them (lambertian lights DIR --ps)")
    if lights_file is not None:
        check_lights(lights, num_images, lights_file)


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


def check_image_dtype(img: np.ndarray, source: str = "images") -> None:
    """InputError unless ``img`` holds real numbers: a boolean stack (a mask passed as
    images) would solve as 0/1 radiance, a complex one lose its imaginary part."""
    if img.dtype.kind not in "iuf":
        what = "booleans (a mask?), not radiance" if img.dtype.kind == "b" else str(img.dtype)
        raise InputError(source, f"images must hold real numbers, not {what}")


def check_images(images: np.ndarray, source: str = "images") -> np.ndarray:
    """(K, H, W, C) float32 images, C = 1 (grey) or 3 (RGB); a (K, H, W) stack gains
    C = 1. Anything else is an InputError naming ``source``."""
    img = np.asarray(images)
    if img.ndim == 3:
        img = img[..., None]
    if img.ndim != 4:
        raise InputError(source, f"images must be K x H x W [x C], got shape {img.shape}")
    if 0 in img.shape:
        raise InputError(source, f"images must be K x H x W [x C] with no empty axis, got "
                                 f"shape {img.shape}")
    if img.shape[3] not in (1, 3):
        # the solvers would treat 2 or 4 channels as colours (an alpha as radiance)
        raise InputError(source, f"images must have 1 (grey) or 3 (RGB) channels, got "
                                 f"{img.shape[3]} (shape {img.shape})")
    check_image_dtype(img, source)
    img = img.astype(np.float32, copy=False)
    finite = np.isfinite(img)
    if not finite.all():
        k = int(np.flatnonzero(~finite.reshape(img.shape[0], -1).all(axis=1))[0])
        raise InputError(source, f"image {k} holds NaN or infinite values")
    if not img.any():
        raise InputError(source, f"every one of the {img.shape[0]} images is black: no shading "
                                 "to solve from")
    top = max(float(img.max()), -float(img.min()))  # no |img| copy of a large stack
    # Squares of larger values overflow float32 (mesh coordinates have the same bound).
    if top > MAX_VALUE:
        raise InputError(source, f"values up to {top:.3g}: beyond what float32 arithmetic "
                                 "handles; rescale the images")
    return img


def check_radiance(img: np.ndarray, source: str = "images") -> None:
    """InputError for (K, H, W, C) images that cannot be photographs of shading: values
    that are all non-positive or as negative as the brightest is bright (linear radiance
    is >= 0; a dark-frame subtraction leaves small negative noise, never that: a negated
    or offset stack), or (K > 1) every image the same photo."""
    top, bottom = float(img.max()) + 0.0, float(img.min()) + 0.0  # + 0.0: no "-0"
    if top <= 0 or bottom < -top:
        raise InputError(source, f"values from {bottom:.3g} to {top:.3g}: linear images are "
                                 "not negative (a negated or offset stack?)")
    # image by image: stops at the first that differs (the second, in a real capture)
    if img.shape[0] > 1 and all(np.array_equal(im, img[0]) for im in img[1:]):
        raise InputError(source, f"all {img.shape[0]} images are the same photo: no change of "
                                 "shading to solve from")


def check_mask(mask: np.ndarray | None, shape: tuple[int, int], source: str = "mask") -> np.ndarray:
    """(H, W) bool mask (all True when None), or InputError for a wrong size or no pixels."""
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask)
    if m.dtype.kind not in "biuf":  # astype(bool) reads any non-empty string as True
        raise InputError(source, f"mask must be boolean or numeric, not {m.dtype}")
    if m.dtype.kind == "f" and not np.isfinite(m).all():  # and NaN as True
        raise InputError(source, "mask holds NaN or infinite values")
    m = m.astype(bool)
    if m.shape != tuple(shape):
        size = f"{m.shape[1]}x{m.shape[0]}" if m.ndim == 2 else f"of shape {m.shape}"
        raise InputError(source, f"mask is {size}, images are {shape[1]}x{shape[0]}")
    if not m.any():
        raise InputError(source, "mask is empty: no pixel to solve")
    return m


def check_inputs(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None,
                 source: str = "images") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The checks every solver starts with, in one order: :func:`check_images`, then
    :func:`check_lights` against their count, then :func:`check_mask` against their size,
    then :func:`check_radiance`.
    Returns the (K, H, W, C) float32 images, (K, 3) unit lights and (H, W) bool mask."""
    img = check_images(images, source)
    k, h, w, _ = img.shape
    L, m = check_lights(lights, k, source), check_mask(mask, (h, w), source)
    check_radiance(img, source)
    return img, L, m
