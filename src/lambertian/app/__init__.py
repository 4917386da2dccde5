"""The application layer: one function per job a user has, arrays or a Capture in, a
typed result out, no files written (the command line and the benchmarks call these).

- photometric stereo: :func:`photometric_stereo` -> ``PSResult``
- lights from a mirror sphere: :func:`calibrate_lights` -> ``LightSet``
- lights of a capture (sphere or none): :func:`capture_lights` -> ``LightSet``
- the light of one image: :func:`light_of_image` -> ``DirectionalLight``
- mesh fit (light, pose, light again): :func:`fit_mesh_light` -> ``MeshFit``; several
  objects sharing one light: :func:`fit_scene_light` -> ``SceneFit``
- integration: :func:`depth_from_normals` -> ``DepthResult``
- training a light model: :func:`train_light_model` -> ``TrainedLightModel``
- relighting: :func:`relight_capture` -> ``Relighting``; an RTI file (``.ptm``,
  ``.rti``) for the viewer: :func:`relight_file` -> ``Relighting``

Everything here is loaded on first use (PEP 562), so ``import lambertian.app`` does not
import torch.
"""

from __future__ import annotations

from lambertian.core.lazy import lazy_exports

# name -> module of every job and its result type; the package's front door exports these
EXPORTS = {
    "photometric_stereo": "lambertian.app.photometric_stereo",
    "calibrate_lights": "lambertian.app.lights",
    "capture_lights": "lambertian.app.lights",
    "light_of_image": "lambertian.app.light_of_image",
    "fit_mesh_light": "lambertian.app.mesh_fit",
    "MeshFit": "lambertian.app.mesh_fit",
    "fit_scene_light": "lambertian.app.mesh_fit",
    "load_scene": "lambertian.app.mesh_fit",
    "SceneFit": "lambertian.app.mesh_fit",
    "depth_from_normals": "lambertian.app.integrate",
    "train_light_model": "lambertian.app.train_light",
    "TrainedLightModel": "lambertian.app.train_light",
    "relight_capture": "lambertian.app.relight",
    "relight_file": "lambertian.app.relight",
    "Relighting": "lambertian.app.relight",
}
lazy_exports(__name__, EXPORTS)
