"""Synthetic chrome-sphere captures rendered by Mitsuba 3 (the exact case of chrome
calibration: lights known by construction).

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

from lambertian.synth.mitsuba_setup import load_mitsuba

DISTANCE = 1000.0  # emitter distance, in sphere radii: effectively at infinity


def _mitsuba():
    return load_mitsuba("the Mitsuba generator")


def render_mirror_sphere(lights: np.ndarray, *, size: int = 256, alpha: float = 0.01,
                         emitter_deg: float = 0.5, spp: int = 64, margin: float = 1.1,
                         seed: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Render one image of a chrome sphere per light.

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
    L = np.asarray(lights, np.float64).reshape(-1, 3)
    L = L / np.linalg.norm(L, axis=1, keepdims=True)
    T = mi.ScalarTransform4f
    radius_e = DISTANCE * np.tan(np.deg2rad(emitter_deg) / 2)
    images = []
    for k, l in enumerate(L):
        scene = mi.load_dict({
            "type": "scene",
            "integrator": {"type": "path", "max_depth": 3},
            "sensor": {
                "type": "orthographic",
                "to_world": T().look_at(origin=[0, 0, 10], target=[0, 0, 0], up=[0, 1, 0])
                @ T().scale([margin, margin, 1.0]),
                "film": {"type": "hdrfilm", "width": size, "height": size,
                         "pixel_format": "rgb", "rfilter": {"type": "box"}},
                "sampler": {"type": "independent", "sample_count": spp, "seed": seed + k},
            },
            "sphere": {"type": "sphere", "center": [0, 0, 0], "radius": 1.0,
                       "bsdf": {"type": "roughconductor", "material": "Ag",
                                "distribution": "ggx", "alpha": alpha}},
            "lamp": {"type": "sphere", "center": (DISTANCE * l).tolist(), "radius": radius_e,
                     "emitter": {"type": "area", "radiance": {"type": "rgb",
                                                               "value": [1e3, 1e3, 1e3]}}},
        })
        img = np.asarray(mi.render(scene), dtype=np.float32)
        images.append(img.mean(axis=-1))
    c = (size - 1) / 2.0
    r = size / (2.0 * margin)
    rows, cols = np.mgrid[0:size, 0:size]
    mask = (rows - c) ** 2 + (cols - c) ** 2 < r * r
    return np.stack(images), mask, (c, c, r)
