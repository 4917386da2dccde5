"""Synthetic chrome-sphere captures rendered by Mitsuba 3 (the exact case of chrome
calibration: lights known by construction), orthographic or perspective.

Scene (Mitsuba's world axes = the project frame, see :mod:`lambertian.core.frames`): a unit
sphere at the origin made of a rough conductor (GGX, ``alpha`` about 0.01), an
orthographic camera on +z looking at the origin with +y up, and per image one small
spherical area emitter far away toward the light vector ``l`` (a distant light of finite
angular size, like a real lamp).

Requires the optional dependency ``mitsuba`` (``pip install lambertian[mitsuba]``).

Reference: W. Jakob et al., Mitsuba 3 renderer, 2022; B. Walter et al., "Microfacet models
for refraction through rough surfaces", EGSR 2007 (the GGX conductor).
"""

from __future__ import annotations

import numpy as np

from lambertian.core.frames import project_to_opencv
from lambertian.core.sphere import pixel_rays
from lambertian.synth.mitsuba_setup import load_mitsuba

DISTANCE = 1000.0  # emitter distance, in sphere radii: effectively at infinity


def _mitsuba():
    return load_mitsuba("the Mitsuba generator")


def _render(mi, sensor: dict, lights: np.ndarray, centre: np.ndarray, alpha: float,
            emitter_deg: float) -> np.ndarray:
    """(K, H, W) float32 luminance of a unit chrome sphere at ``centre``, one image per
    light; each emitter sits ``DISTANCE`` radii from the sphere toward its light."""
    L = np.asarray(lights, np.float64).reshape(-1, 3)
    L = L / np.linalg.norm(L, axis=1, keepdims=True)
    radius_e = DISTANCE * np.tan(np.deg2rad(emitter_deg) / 2)
    seed = sensor["sampler"]["seed"]
    images = []
    for k, l in enumerate(L):
        sensor["sampler"]["seed"] = seed + k
        scene = mi.load_dict({
            "type": "scene",
            "integrator": {"type": "path", "max_depth": 3},
            "sensor": sensor,
            "sphere": {"type": "sphere", "center": centre.tolist(), "radius": 1.0,
                       "bsdf": {"type": "roughconductor", "material": "Ag",
                                "distribution": "ggx", "alpha": alpha}},
            "lamp": {"type": "sphere", "center": (centre + DISTANCE * l).tolist(),
                     "radius": radius_e,
                     "emitter": {"type": "area", "radiance": {"type": "rgb",
                                                               "value": [1e3, 1e3, 1e3]}}},
        })
        img = np.asarray(mi.render(scene), dtype=np.float32)
        images.append(img.mean(axis=-1))
    return np.stack(images)


def _film(width: int, height: int, spp: int, seed: int) -> dict:
    return {"film": {"type": "hdrfilm", "width": width, "height": height,
                     "pixel_format": "rgb", "rfilter": {"type": "box"}},
            "sampler": {"type": "independent", "sample_count": spp, "seed": seed}}


def render_mirror_sphere(lights: np.ndarray, *, size: int = 256, alpha: float = 0.01,
                         emitter_deg: float = 0.5, spp: int = 64, margin: float = 1.1,
                         seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Render one image of a chrome sphere per light (orthographic camera).

    Parameters
    ----------
    lights : (K, 3) light vectors toward the lights, project frame (normalised here).
    size : image width and height in pixels.
    alpha : GGX roughness of the conductor.
    emitter_deg : angular diameter of each spherical emitter, degrees.
    spp : samples per pixel; seed : the sampler's seed (image k uses ``seed + k``).
    margin : half-width of the orthographic view in sphere radii.

    Returns
    -------
    images : (K, size, size) float32 linear luminance (HDR, not clipped).
    mask : (size, size) bool, the sphere's disc.
    circle : (row, column, radius) of the disc in pixels.
    """
    mi = _mitsuba()
    T = mi.ScalarTransform4f
    sensor = {"type": "orthographic",
              "to_world": T().look_at(origin=[0, 0, 10], target=[0, 0, 0], up=[0, 1, 0])
              @ T().scale([margin, margin, 1.0]),
              **_film(size, size, spp, seed)}
    images = _render(mi, sensor, lights, np.zeros(3), alpha, emitter_deg)
    c = (size - 1) / 2.0
    r = size / (2.0 * margin)
    rows, cols = np.mgrid[0:size, 0:size]
    mask = (rows - c) ** 2 + (cols - c) ** 2 < r * r
    return images, mask, (c, c, r)


def render_mirror_sphere_perspective(
        lights: np.ndarray, *, size: tuple[int, int] = (256, 192), fov_deg: float = 40.0,
        distance: float = 6.0, centre_xy: tuple[float, float] = (0.9, 0.4),
        alpha: float = 0.01, emitter_deg: float = 0.5, spp: int = 64, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render a chrome sphere seen by a pinhole camera, off the optical axis, so that
    an orthographic calibration is visibly wrong and a perspective one is exact.

    The camera sits at ``(0, 0, distance)`` looking at the origin (+y up); the unit sphere
    is centred at ``(centre_xy, 0)``. ``fov_deg`` is the horizontal field of view.

    Returns
    -------
    images : (K, H, W) float32 linear luminance; ``size`` is (width, height).
    mask : (H, W) bool, pixels whose centre ray meets the sphere.
    K : (3, 3) intrinsics, OpenCV convention (pixel centres at integer coordinates).
    """
    mi = _mitsuba()
    T = mi.ScalarTransform4f
    width, height = size
    sensor = {"type": "perspective", "fov": fov_deg, "fov_axis": "x",
              "to_world": T().look_at(origin=[0, 0, distance], target=[0, 0, 0], up=[0, 1, 0]),
              **_film(width, height, spp, seed)}
    centre = np.array([centre_xy[0], centre_xy[1], 0.0])
    images = _render(mi, sensor, lights, centre, alpha, emitter_deg)
    f = (width / 2) / np.tan(np.deg2rad(fov_deg) / 2)
    K = np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
    # The mask by ray casting in the camera's (OpenCV) frame, whose axes are the project
    # frame's flipped (camera at (0, 0, distance) looking down -z, +y up): a pixel is on
    # the sphere when its centre ray meets it.
    rows, cols = np.mgrid[0:height, 0:width]
    d = pixel_rays(rows, cols, K)
    c = np.asarray(project_to_opencv(centre - np.array([0.0, 0.0, distance])))
    b = d @ c
    mask = b * b - c @ c + 1.0 > 0
    return images, mask, K
