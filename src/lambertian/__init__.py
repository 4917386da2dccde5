"""lambertian: how was this scene lit, and what surface does the light reveal?

The front door is the application layer, loaded lazily (importing ``lambertian`` does
not import torch; the first call does):

>>> import lambertian
>>> lambertian.DirectionalLight([0, 0, 1], intensity=0.8).to_dict()
{'direction': [0.0, 0.0, 1.0], 'intensity': 0.8, 'ambient': 0.0}

``lambertian.photometric_stereo``, ``capture_lights``, ``calibrate_lights``,
``light_of_image``, ``fit_mesh_light``, ``depth_from_normals`` and
``train_light_model`` are the jobs (see :mod:`lambertian.app`); ``read_capture`` reads a
folder of images, and ``write_light_json`` / ``read_light_json`` the light files.

Layers (data flows down, nothing reaches up)::

    cli / bench / viz          user-facing: parse, one application call, write
    app                        one function per job: arrays or a Capture in, typed results out
    fit  learn                 optimisation
    ps  lights  integrate      estimators: normals/albedo, lights, depth
    render  synth              renderer; synthetic scenes
    io                         readers of real formats; one writer per result type
    core                       shading model, frames, the light types, metrics, errors

Frame everywhere: x right, y up, z toward the camera; light vectors point from the
surface toward the light (see :mod:`lambertian.core.frames`).
"""

from __future__ import annotations

from lambertian.app import EXPORTS as APP_EXPORTS
from lambertian.core.lazy import lazy_exports

__version__ = "0.1.0"

lazy_exports(__name__, {
    **APP_EXPORTS,  # the application layer's jobs, one list (lambertian.app)
    "read_capture": "lambertian.io.detect",
    "read_image": "lambertian.io.images",
    "read_mask": "lambertian.io.images",
    "Capture": "lambertian.io.capture",
    "DirectionalLight": "lambertian.core.light",
    "LightSet": "lambertian.core.light",
    "InputError": "lambertian.core.errors",
    "read_light_json": "lambertian.io.light_json",
    "write_light_json": "lambertian.io.light_json",
})
