"""The application layer: one function per job a user has, arrays or a Capture in, a
typed result out, no files written (the command line and the benchmarks call these).

- photometric stereo: :func:`photometric_stereo` -> ``PSResult``
- lights from a mirror sphere: :func:`calibrate_lights` -> ``LightSet``
- lights of a capture (sphere or none): :func:`capture_lights` -> ``LightSet``
- the light of one image: :func:`light_of_image` -> ``DirectionalLight``
- mesh fit (light, pose, light again): :func:`fit_mesh_light` -> ``MeshFit``
- integration: :func:`depth_from_normals` -> ``DepthResult``
- training a light model: :func:`train_light_model` -> ``TrainedLightModel``

Everything here is loaded on first use (PEP 562), so ``import lambertian.app`` does not
import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module of the application layer that defines it
EXPORTS = {
    "photometric_stereo": "photometric_stereo",
    "calibrate_lights": "lights",
    "capture_lights": "lights",
    "light_of_image": "light_of_image",
    "fit_mesh_light": "mesh_fit",
    "MeshFit": "mesh_fit",
    "depth_from_normals": "integrate",
    "train_light_model": "train_light",
    "TrainedLightModel": "train_light",
}

__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> Any:
    if name in EXPORTS:
        return getattr(importlib.import_module(f"lambertian.app.{EXPORTS[name]}"), name)
    raise AttributeError(f"module 'lambertian.app' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
