"""From normals to surfaces: depth by normal integration, and meshes.

Methods: :func:`poisson` (masked least squares, orthographic or perspective),
:func:`bilateral` (discontinuity-preserving, Cao et al. 2022) and
:func:`frankot_chellappa` (FFT, full rectangles). :func:`write_depth_outputs` is what
``lambertian ps --depth`` and ``lambertian integrate`` use to write depth and a mesh.
Loaded on first use (:mod:`lambertian.core.lazy`).
"""

from __future__ import annotations

from lambertian.core.lazy import lazy_exports

lazy_exports(__name__, {
    "DEFAULT_METHOD": "lambertian.integrate.outputs",
    "METHODS": "lambertian.integrate.outputs",
    "DepthResult": "lambertian.integrate.result",
    "aligned_depth_error": "lambertian.integrate.evaluate",
    "bilateral": "lambertian.integrate.bilateral",
    "check_camera": "lambertian.integrate.checks",
    "check_normals": "lambertian.integrate.checks",
    "depth_to_mesh": "lambertian.integrate.mesh",
    "frankot_chellappa": "lambertian.integrate.frankot_chellappa",
    "integrate_normals": "lambertian.integrate.outputs",
    "integrate_to_folder": "lambertian.integrate.outputs",
    "poisson": "lambertian.integrate.poisson",
    "read_camera": "lambertian.integrate.checks",
    "write_depth": "lambertian.integrate.outputs",
    "write_depth_outputs": "lambertian.integrate.outputs",
    "write_ply": "lambertian.integrate.mesh",
})
