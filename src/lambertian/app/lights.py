"""Lights of a capture: from a calibration sphere, or from the images alone.

:func:`calibrate_lights` reads the lights off a mirror (chrome) sphere photographed under
the same lights; :func:`capture_lights` chooses for a capture: the chrome sphere when one
is given, the capture itself when it is a matte sphere (its normals are analytic), else
uncalibrated photometric stereo (the lights from the images alone, with what stays
ambiguous said in the result's notes). Every answer is a
:class:`~lambertian.core.light.LightSet` in the project frame.

References: R. J. Woodham, JOSA A 11(11), 1994 (chrome sphere); Q. Zheng, R. Chellappa,
PAMI 13(7), 1991 (matte sphere); H. Hayakawa, JOSA A 11(11), 1994 and P. N. Belhumeur,
D. J. Kriegman, A. L. Yuille, IJCV 35(1), 1999 (uncalibrated: factorisation, GBR).
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import LightSet
from lambertian.io.capture import Capture, require_capture


def calibrate_lights(sphere: Capture, *, camera: np.ndarray | None = None,
                     skip_missing: bool = False, mask: np.ndarray | None = None,
                     mask_source: str | None = None) -> LightSet:
    """Light directions from a capture of a mirror sphere.

    Parameters
    ----------
    sphere : the chrome sphere's capture, one image per light (its mask is the sphere's
        disc unless ``mask`` is given).
    camera : optional (3, 3) intrinsics (OpenCV, pixels): perspective sphere model
        (default orthographic).
    skip_missing : an image without a highlight gets an unknown (NaN) light instead of
        an error.
    mask : (H, W) bool the sphere's disc, when the ball shares the photos with the object.
    mask_source : the mask's name in error messages (its file).

    Returns
    -------
    LightSet (unit intensities: a mirror tells no intensity), names = the sphere's files.
    """
    from lambertian.lights.chrome_sphere import chrome_sphere_lights

    require_capture(sphere, "sphere")
    return chrome_sphere_lights(sphere.images, sphere.mask if mask is None else mask,
                                names=sphere.files, camera=camera, skip_missing=skip_missing,
                                source=str(sphere.root), mask_source=mask_source)


def is_matte_sphere(capture: Capture) -> bool:
    """Whether the capture is a matte sphere whose normals are analytic (e.g. psm/gray)."""
    return str(capture.meta.get("normals_source", "")).startswith("analytic sphere")


def capture_lights(capture: Capture, *, chrome: Capture | None = None,
                   camera: np.ndarray | None = None, skip_missing: bool = False,
                   seed: int = 0) -> LightSet:
    """Each image's light of a capture, by the best means available.

    Parameters
    ----------
    capture : the images (any layout :func:`lambertian.io.read_capture` knows).
    chrome : a mirror sphere under the same lights (same count and order).
    camera : (3, 3) intrinsics of the chrome images (perspective sphere model).
    skip_missing : a chrome image without a highlight leaves its light unknown.
    seed : seed of the uncalibrated estimation's random choices.

    Returns
    -------
    LightSet named by the capture's files; ``method`` says which estimator ran. Without a
    sphere it is an :class:`~lambertian.lights.uncalibrated.UncalibratedLights` (also
    normals, albedo, and ``resolved``: whether the lights are known beyond a GBR).

    Examples
    --------
    >>> import numpy as np, lambertian
    >>> from lambertian.core.metrics import angular_error_deg
    >>> from lambertian.core.sphere import sphere_normals
    >>> from lambertian.io import Capture
    >>> n, disc = sphere_normals((64, 64), (31.5, 31.5), 28.0)  # a matte sphere
    >>> L = np.array([[0, 0, 1], [0.5, 0, 0.87], [0, 0.5, 0.87], [-0.5, -0.3, 0.81]])
    >>> L /= np.linalg.norm(L, axis=1, keepdims=True)
    >>> images = np.clip(n @ L.T, 0, None).transpose(2, 0, 1)[..., None]  # (4, 64, 64, 1)
    >>> cap = Capture("sphere", ".", list("abcd"), images, disc, np.full((4, 3), np.nan),
    ...               np.ones((4, 1)), 16, meta={"normals_source": "analytic sphere"})
    >>> lights = lambertian.capture_lights(cap)
    >>> lights.method, bool(angular_error_deg(lights.directions, L).max() < 1.0)
    ('matte sphere', True)
    """
    require_capture(capture)
    if chrome is not None:
        require_capture(chrome, "chrome")
        if chrome.num_images != capture.num_images:
            raise InputError(chrome.root, f"{chrome.num_images} chrome images for "
                                          f"{capture.num_images} capture images")
        lights = calibrate_lights(chrome, camera=camera, skip_missing=skip_missing)
        lights.names = list(capture.files)
        return lights
    if camera is not None:
        raise InputError("--camera", "the camera is used by the chrome-sphere calibration "
                                     "only (give a chrome sphere)")
    if is_matte_sphere(capture):
        from lambertian.lights.matte_sphere import matte_sphere_lights

        lights = matte_sphere_lights(capture.images, capture.mask, ambient=False,
                                     names=capture.files, source=str(capture.root))
        # the sphere's albedo is one unknown scale: report intensities of mean 1
        lights.intensities = lights.intensities / lights.intensities.mean()
        return lights
    from lambertian.lights.uncalibrated import uncalibrated_lights

    lights = uncalibrated_lights(capture.images, capture.mask, seed=seed,
                                 source=str(capture.root))
    lights.names = list(capture.files)
    return lights
