"""Photometric-stereo captures rendered by Mitsuba 3: an independent renderer's images of
a mesh under K directional lights, with its exact normals, for judging the solvers on
light transport this project's own generators only approximate.

Mitsuba's ``path`` integrator with ``max_depth`` 3 renders direct light (attached and
cast shadows) and one bounce of interreflection, with Mitsuba's own BSDFs (rough
dielectrics and conductors with measured complex indices, the Disney principled model),
none of which the per-pixel training generator (:mod:`lambertian.synth.pixel_observations`)
shares code with. The camera is orthographic, looking down the project frame's -z (x
right, y up, z toward the camera), so the world frame is the project frame; the ground
truth is Mitsuba's own shading normal (the ``aov`` integrator's ``sh_normal``).

Requires the optional dependency ``mitsuba`` (``pip install lambertian[mitsuba]``).

Reference: W. Jakob, S. Speierer, N. Roussel, D. Vicini, "Dr.Jit: A Just-In-Time
Compiler for Differentiable Rendering", SIGGRAPH 2022 (Mitsuba 3); B. Walter et al.,
"Microfacet models for refraction through rough surfaces", EGSR 2007 (the GGX lobes);
B. Burley, "Physically-based shading at Disney", SIGGRAPH 2012 (``principled``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_erosion

from lambertian.core.frames import project_light_to_mitsuba_direction
from lambertian.render.mesh import Mesh
from lambertian.synth.mitsuba_scene import mitsuba_mesh
from lambertian.synth.mitsuba_setup import load_mitsuba

_COLOUR = {"type": "rgb", "value": [0.65, 0.45, 0.30]}
# Mitsuba BSDFs by name: one of each kind of surface the issue names (matte, glossy and
# rough dielectrics, metals, a metallic paint); colours and roughness set a priori.
MATERIALS: dict[str, dict] = {
    "diffuse": {"type": "diffuse", "reflectance": _COLOUR},
    "plastic, GGX 0.05": {"type": "roughplastic", "distribution": "ggx", "alpha": 0.05,
                          "int_ior": 1.5, "diffuse_reflectance": _COLOUR},
    "plastic, GGX 0.3": {"type": "roughplastic", "distribution": "ggx", "alpha": 0.3,
                         "int_ior": 1.5, "diffuse_reflectance": _COLOUR},
    "aluminium, GGX 0.2": {"type": "roughconductor", "material": "Al",
                           "distribution": "ggx", "alpha": 0.2},
    "gold, GGX 0.4": {"type": "roughconductor", "material": "Au", "distribution": "ggx",
                      "alpha": 0.4},
    "metallic paint": {"type": "principled", "base_color": _COLOUR, "metallic": 0.7,
                       "roughness": 0.45, "clearcoat": 0.6, "clearcoat_gloss": 0.8},
}


@dataclass
class MitsubaCapture:
    """images (K, H, W, 3) float32 linear RGB (one per light, intensity 1); lights (K, 3)
    unit directions toward the lights, project frame; normals (H, W, 3) unit ground
    truth (zero outside the mask); mask (H, W) bool pixels whose whole footprint is on
    the object."""

    images: np.ndarray
    lights: np.ndarray
    normals: np.ndarray
    mask: np.ndarray


def _sensor(mi, size: int, extent: float, spp: int, seed: int) -> dict:
    look = mi.ScalarTransform4f().look_at(origin=[0.0, 0.0, 10.0], target=[0.0, 0.0, 0.0],
                                          up=[0.0, 1.0, 0.0])
    return {"type": "orthographic",
            "to_world": look @ mi.ScalarTransform4f().scale([extent, extent, 1.0]),
            "film": {"type": "hdrfilm", "width": size, "height": size, "pixel_format": "rgb",
                     "rfilter": {"type": "box"}},
            "sampler": {"type": "independent", "sample_count": int(spp), "seed": int(seed)}}


def render_ps_capture(mesh: Mesh, bsdf: dict, lights: np.ndarray, size: int = 128,
                      spp: int = 32, max_depth: int = 3, extent: float = 1.15,
                      seed: int = 0) -> MitsubaCapture:
    """Render ``mesh`` (project frame, within ``extent`` of the origin in x and y) with the
    Mitsuba BSDF dictionary ``bsdf`` under each of the (K, 3) ``lights`` (directional,
    irradiance pi: a white diffuse surface facing the light shows 1).

    ``spp`` samples per pixel (image k's sampler is seeded ``seed + k``), ``max_depth``
    the path length (2: direct light only; 3: one bounce of interreflection).
    """
    mi = load_mitsuba("Mitsuba photometric-stereo captures")
    L = np.asarray(lights, np.float64).reshape(-1, 3)
    L = L / np.linalg.norm(L, axis=1, keepdims=True)
    shape = mitsuba_mesh(mesh, smooth=True, bsdf=bsdf)
    aov = mi.load_dict({"type": "scene", "integrator": {"type": "aov", "aovs": "n:sh_normal"},
                        "sensor": _sensor(mi, size, extent, spp, seed), "mesh": shape})
    n = np.asarray(mi.render(aov), np.float64)[..., :3]
    length = np.linalg.norm(n, axis=-1)
    # a pixel on the silhouette averages object and background: keep whole-object pixels
    mask = binary_erosion(length > 0.5, iterations=1) & (length > 0.99)
    normals = np.where(mask[..., None], n / np.maximum(length, 1e-12)[..., None], 0.0)
    images = np.zeros((len(L), size, size, 3), np.float32)
    for k, light in enumerate(L):
        travel = np.asarray(project_light_to_mitsuba_direction(light), np.float64)
        scene = mi.load_dict({
            "type": "scene",
            "integrator": {"type": "path", "max_depth": int(max_depth), "hide_emitters": True},
            "sensor": _sensor(mi, size, extent, spp, seed + k), "mesh": shape,
            "light": {"type": "directional", "direction": travel.tolist(),
                      "irradiance": {"type": "rgb", "value": math.pi}}})
        images[k] = np.asarray(mi.render(scene), np.float32)[..., :3]
    return MitsubaCapture(images, L, normals.astype(np.float32), mask)


def expose(images: np.ndarray, mask: np.ndarray, level: float = 0.5, bits: int = 16,
           percentile: float = 99.0) -> np.ndarray:
    """A camera's record of linear ``images`` (K, H, W, C): scaled so the ``percentile``
    of the object's values is ``level`` of full scale, clipped (saturated highlights) and
    quantised to ``bits``, returned as float32 in [0, 1]."""
    top = float(np.percentile(images[:, mask], percentile))
    full = 2 ** bits - 1
    scaled = np.clip(images * (level / max(top, 1e-12)), 0.0, 1.0)
    return (np.round(scaled * full) / full).astype(np.float32)
