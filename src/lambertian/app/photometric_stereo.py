"""Photometric stereo: images of one object under known lights -> normals and albedo.

The solver comes from the one registry, :data:`lambertian.ps.METHODS` (the default is
:data:`lambertian.ps.DEFAULT_METHOD`, which ``lambertian ps`` and ``lambertian batch ps``
share).

Reference: R. J. Woodham, "Photometric method for determining surface orientation from
multiple images", Optical Engineering 19(1), 1980.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import LightSet
from lambertian.io.capture import Capture
from lambertian.ps.result import PSResult


def photometric_stereo(images: Capture | np.ndarray, lights: np.ndarray | LightSet | None = None,
                       mask: np.ndarray | None = None, *, method: str | None = None,
                       progress: bool = False, source: str | None = None) -> PSResult:
    """Normals and albedo of a capture, or of an image stack under given lights.

    Parameters
    ----------
    images : a :class:`lambertian.io.Capture` (its lights, intensities and mask are used
        unless given here) or (K, H, W[, C]) linear images.
    lights : (K, 3) light vectors (project frame: x right, y up, z toward the camera,
        toward the light; their lengths are the intensities) or a
        :class:`~lambertian.core.light.LightSet` (images are divided by its intensities
        and images whose light is unknown are left out).
    mask : (H, W) bool pixels to solve (default: the capture's, or all).
    method : a name from :data:`lambertian.ps.METHODS` (default
        :data:`lambertian.ps.DEFAULT_METHOD`).
    progress : print a progress bar.
    source : name for error messages (default: the capture's folder).

    Returns
    -------
    lambertian.ps.PSResult with ``normals`` (H, W, 3) project frame, ``albedo``
    (H, W, C), ``mask``; ``info["normal_error"]`` (mean/median/... degrees) when the
    capture has ground-truth normals.

    Examples
    --------
    >>> import lambertian
    >>> from lambertian.core.metrics import normal_error_stats
    >>> from lambertian.synth.capture import make_capture
    >>> scene = make_capture(size=32, num_lights=12, seed=0)  # a generated capture
    >>> images = scene.images / scene.intensities[:, None, None, :]
    >>> res = lambertian.photometric_stereo(images, scene.lights, scene.mask)
    >>> res.normals.shape
    (32, 32, 3)
    >>> bool(normal_error_stats(res.normals, scene.normals, scene.mask)["mean"] < 5.0)
    True
    """
    from lambertian.ps import DEFAULT_METHOD, get_solver

    method = method or DEFAULT_METHOD
    capture = images if isinstance(images, Capture) else None
    if capture is not None:
        source = source or str(capture.root)
        imgs = capture.normalized_images() if not isinstance(lights, LightSet) \
            else np.asarray(capture.images)
        if lights is None:
            from lambertian.ps.inputs import check_capture_lights

            check_capture_lights(capture.lights, capture.num_images,
                                 capture.meta.get("lights_file"), source)
        lights = capture.lights if lights is None else lights
        mask = capture.mask if mask is None else mask
    else:
        imgs = np.asarray(images)
    source = source or "images"
    if imgs.ndim < 3:  # None, a scalar, a path string: named here, not len()'s TypeError
        raise InputError(source, f"images must be K x H x W [x C] (or a Capture), got "
                                 f"{type(images).__name__} of shape {imgs.shape}")
    from lambertian.ps.inputs import check_image_dtype

    check_image_dtype(imgs, source)  # here: dividing by a LightSet's intensities hides it
    if lights is None:
        raise InputError(source, "no lights: give them, or estimate them first "
                                 "(lambertian.capture_lights)")
    if isinstance(lights, LightSet):
        if len(lights.known) != len(imgs):  # else a boolean-index error, naming nothing
            raise InputError(source, f"{len(lights.known)} lights for {len(imgs)} images")
        from lambertian.io.intensity import check_intensity_range

        # the images are divided by them: finite, positive, within range
        check_intensity_range(lights.intensities[lights.known], source)
        keep = lights.known
        if keep.sum() < 3:
            raise InputError(source, f"only {int(keep.sum())} known lights; 3 are needed")
        scale = lights.intensities[keep].reshape((-1,) + (1,) * (imgs.ndim - 1))
        imgs = imgs[keep] / scale
        lights = lights.directions[keep]
    try:
        solver = get_solver(method)
    except ValueError as err:
        raise InputError("--method", str(err)) from None
    res = solver(imgs, lights, mask, source=source, progress=progress)
    gt = getattr(capture, "normals", None)
    if gt is not None:
        from lambertian.core.metrics import normal_error_stats

        res.info["normal_error"] = normal_error_stats(res.normals, gt, capture.mask)
    return res
