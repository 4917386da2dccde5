"""Light directions from a mirror (chrome) calibration sphere.

The highlight of a distant light on a mirror sphere sits where the sphere's normal
bisects the viewing direction and the light direction, so the light is the view vector
reflected about that normal: ``l = 2 (n . v) n - v``. Orthographic camera by default,
project frame (x right, y up, z toward the camera), ``v = (0, 0, 1)``. Given the camera's
intrinsics the model is perspective: the sphere is the cone of rays tangent to it (fitted
to the mask's edge), the highlight's ray meets the sphere at the point whose normal is
used, and ``v`` is that ray reversed, which differs from the optical axis by up to the
half field of view.

References
----------
R. J. Woodham, "Gradient and curvature from the photometric-stereo method, including
local confidence estimation", JOSA A 11(11), 1994 (calibration by a specular sphere);
the procedure is also the UW CSE455 photometric-stereo assignment's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.frames import opencv_to_project
from lambertian.core.light import LightSet
from lambertian.core.sphere import fit_circle, fit_sphere_cone, pixel_rays

# A highlight is the connected blob of pixels at least this fraction of the peak.
BLOB_FRACTION = 0.5
# The peak must stand this many times above the sphere's median brightness ...
MIN_CONTRAST = 4.0
# ... and above this share of the brightest value seen on the sphere in the whole set
# (so a dim reflection of the room is not taken for the light).
MIN_PEAK_SHARE = 0.2
# A second separate blob whose own peak reaches this share of the highlight's is a rival
# (a second lamp, a window): which one is the light cannot be told, so the image is
# refused rather than the first found taken. Every psm chrome image has one blob only.
RIVAL_PEAK_SHARE = 0.8


def highlight_centre(image: np.ndarray, mask: np.ndarray, *, source: str = "image",
                     peak_floor: float = 0.0) -> tuple[float, float]:
    """Sub-pixel (row, column) of the specular highlight on a sphere.

    The highlight is the connected blob of pixels at least half as bright as the
    brightest masked pixel; its centre is the brightness-weighted centroid (weights
    ``I - threshold``), which stays central when the blob is saturated.

    Parameters
    ----------
    image : (H, W) or (H, W, C) linear image (C channels are averaged).
    mask : (H, W) bool, the sphere's pixels.
    source : name used in the error message (the image's file).
    peak_floor : the peak must exceed this value too (see :data:`MIN_PEAK_SHARE`).

    Raises
    ------
    InputError : no highlight stands out of the sphere in this image, or several do
        (see :data:`RIVAL_PEAK_SHARE`).
    """
    g = np.asarray(image, dtype=np.float64)
    if g.ndim == 3:
        g = g.mean(axis=-1)
    m = np.asarray(mask, bool)
    on = np.where(m, g, 0.0)
    peak = float(on.max())
    median = float(np.median(g[m]))
    if not np.isfinite(peak) or peak <= 0 or peak < MIN_CONTRAST * max(median, 1e-6) \
            or peak < peak_floor:
        raise InputError(source, f"no detectable highlight on the chrome sphere (peak {peak:.3g},"
                                 f" sphere median {median:.3g})")
    thr = BLOB_FRACTION * peak
    count, labels = cv2.connectedComponents((on >= thr).astype(np.uint8), connectivity=8)
    pr, pc = np.unravel_index(int(on.argmax()), on.shape)
    blob = labels == labels[pr, pc]
    if count > 2:  # background + the highlight + others: are any as bright?
        peaks = np.zeros(count)
        np.maximum.at(peaks, labels.ravel(), on.ravel())
        rivals = [j for j in range(1, count)
                  if j != labels[pr, pc] and peaks[j] >= RIVAL_PEAK_SHARE * peak]
        if rivals:
            where = [np.argwhere(labels == j).mean(axis=0).round().astype(int).tolist()
                     for j in (labels[pr, pc], *rivals)]
            raise InputError(source, f"{len(where)} separate highlights of similar brightness "
                                     f"on the chrome sphere (rows, columns {where}): a second "
                                     "light or a bright reflection; which is the light "
                                     "cannot be told")
    w = np.where(blob, on - thr, 0.0)
    if w.sum() <= 0:  # a flat saturated blob: every pixel counts the same
        w = blob.astype(np.float64)
    rows, cols = np.mgrid[0:g.shape[0], 0:g.shape[1]]
    return float((w * rows).sum() / w.sum()), float((w * cols).sum() / w.sum())


def reflect_view(normal: np.ndarray, view: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Mirror the view vector about unit normals: ``l = 2 (n . v) n - v``, (..., 3)."""
    n = np.asarray(normal, dtype=np.float64)
    v = np.asarray(view, dtype=np.float64)
    v = v / np.linalg.norm(v)
    return 2.0 * (n @ v)[..., None] * n - v


def perspective_reflection(row: float, col: float, K: np.ndarray, centre_ray: np.ndarray,
                           sin_alpha: float) -> np.ndarray:
    """Light direction (project frame) of a highlight at pixel (row, col) on a mirror
    sphere seen by a pinhole camera ``K``; the sphere is the cone of :func:`fit_sphere_cone`
    (centre at distance 1 along ``centre_ray``, radius ``sin_alpha``)."""
    d = pixel_rays(np.array(row), np.array(col), K)
    b = float(d @ centre_ray)
    # The centroid of a highlight at the very rim can fall just outside the silhouette:
    # take the tangent point there.
    t = b - np.sqrt(max(b * b - 1.0 + sin_alpha ** 2, 0.0))
    n = t * d - centre_ray
    n /= np.linalg.norm(n)
    return opencv_to_project(reflect_view(n, -d))


def fit_sphere_mask(mask: np.ndarray, *, camera: np.ndarray | None = None,
                    source: str = "mask"
                    ) -> tuple[float, float, float] | tuple[np.ndarray, float]:
    """The sphere of a chrome sphere's mask, every problem named by ``source``.

    Parameters
    ----------
    mask : (H, W) bool, the sphere's pixels.
    camera : optional (3, 3) intrinsics (OpenCV, pixels): the perspective model's cone
        (:func:`lambertian.core.sphere.fit_sphere_cone`) instead of the orthographic
        circle (:func:`lambertian.core.sphere.fit_circle`).
    source : the mask's name for messages: its file when one was given
        (``calibrate --sphere-mask``), not the folder of images.

    Returns
    -------
    (row, column, radius) of the circle, or (centre ray, sin of the half-angle) of the
    cone with ``camera``.

    Raises
    ------
    InputError
        naming ``source`` when the mask is empty, has fewer than
        :data:`lambertian.core.sphere.MIN_SPHERE_PIXELS` pixels, touches the border
        (orthographic), or is not the image of a sphere.
    """
    m = np.asarray(mask).astype(bool)
    if camera is not None:
        return fit_sphere_cone(m, camera, source)
    return fit_circle(m, source)


def chrome_sphere_lights(images: np.ndarray, mask: np.ndarray, *,
                         circle: tuple[float, float, float] | None = None,
                         camera: np.ndarray | None = None,
                         names: Sequence[str] | None = None, skip_missing: bool = False,
                         source: str = "chrome", mask_source: str | None = None) -> LightSet:
    """Light directions from images of a mirror sphere (orthographic, or perspective when
    ``camera`` is given).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images of the sphere.
    mask : (H, W) bool, the sphere's disc (checked to be a disc).
    circle : optional (row, column, radius) of the sphere, else fitted to ``mask``
        (orthographic model only).
    camera : optional (3, 3) intrinsics (OpenCV convention, pixels): perspective model,
        the sphere's cone fitted to ``mask``'s edge.
    names : K names for error messages (the image files).
    skip_missing : an image with no highlight (or several rival ones) gets a NaN row
        instead of an error.
    source : name of the folder of images for error messages (``names`` are relative to it).
    mask_source : name of the mask for its error messages (default ``source``: the
        folder's own mask); the mask file when it was given apart from the images.

    Returns
    -------
    LightSet with ``directions`` (K, 3) unit light vectors, project frame (NaN rows when
    skipped), unit intensities (a mirror gives no intensity), ``names``, and ``notes``
    {"highlights": (K, 2) rows/cols, "missing": [...]} and "circle": (row, col, radius)
    (orthographic) or "cone": (centre ray, sin of the half-angle) (perspective).
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim == 4:
        imgs = imgs.mean(axis=-1)
    if imgs.ndim != 3:
        raise InputError(source, f"images must be K x H x W [x C], got shape {imgs.shape}")
    m = np.asarray(mask, bool)
    msrc = source if mask_source is None else mask_source
    if m.shape != imgs.shape[1:]:
        raise InputError(msrc, f"mask is {m.shape[1]}x{m.shape[0]}, images are "
                               f"{imgs.shape[2]}x{imgs.shape[1]}")
    if camera is not None:
        cone = fit_sphere_mask(m, camera=camera, source=msrc)
    else:
        cone = None
        cy, cx, r = fit_sphere_mask(m, source=msrc) if circle is None else circle
    given_names = names
    names = list(names) if names is not None else [f"image {k}" for k in range(len(imgs))]
    floor = MIN_PEAK_SHARE * float(np.max(np.where(m, imgs, 0.0)))
    out = np.full((len(imgs), 3), np.nan)
    spots = np.full((len(imgs), 2), np.nan)
    missing = []
    for k, img in enumerate(imgs):
        try:
            # an image named in the error by its path (names are relative to ``source``)
            where = os.path.join(source, names[k]) if given_names is not None else names[k]
            row, col = highlight_centre(img, m, source=where, peak_floor=floor)
        except InputError:
            if not skip_missing:
                raise
            missing.append(names[k])
            continue
        spots[k] = row, col
        if cone is not None:
            out[k] = perspective_reflection(row, col, camera, *cone)
            continue
        x, y = (col - cx) / r, -(row - cy) / r
        rho2 = x * x + y * y
        if rho2 >= 1.0:  # the centroid of a blob at the rim can fall just outside
            x, y, rho2 = x / np.sqrt(rho2) * 0.9999, y / np.sqrt(rho2) * 0.9999, 0.9998
        n = np.array([x, y, np.sqrt(1.0 - rho2)])
        out[k] = reflect_view(n)
    info: dict = {"highlights": spots, "missing": missing}
    if cone is None:
        info["circle"] = (cy, cx, r)
    else:
        info["cone"] = cone
    return LightSet(out, names=given_names, notes=info,
                    method="chrome sphere" + (" (perspective)" if cone is not None else ""))
