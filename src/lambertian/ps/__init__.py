"""Calibrated photometric stereo: images under known lights -> normals and albedo.

Solvers are plain functions ``solver(images, lights, mask=None, **settings) -> PSResult``;
:data:`METHODS` names them and :func:`get_solver` returns one: this is the one registry
of photometric-stereo methods (the command line, the application layer and the
benchmarks take their choices from it). The solvers load torch, so they are imported
on first use: ``from lambertian.ps import METHODS`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from lambertian.core.lazy import lazy_exports
from lambertian.ps.result import PSResult

# The default of ``lambertian ps``, ``lambertian batch ps`` and lambertian.photometric_stereo:
# robust's and the network's normals summed, or the network alone where robust detects broad
# specular reflectance (experiments/ps_auto.py).
DEFAULT_METHOD = "auto"
# The solver after lights were estimated rather than calibrated (``lambertian lights --ps``):
# chosen on DiLiGenT ball / bear / reading with the uncalibrated estimator's lights (auto, the
# sum of robust and the network there, has the lowest mean; benchmarks/bench_ps_net.py).
ESTIMATED_LIGHTS_METHOD = "auto"
# method name -> (module, function) of its solver
_SOLVERS = {
    "ls": ("lambertian.ps.least_squares", "least_squares"),
    "robust": ("lambertian.ps.robust", "robust"),
    # the maximum-likelihood lit set per pixel (every set tried for up to 8 lights)
    "shadow_aware": ("lambertian.ps.shadow_aware", "shadow_aware"),
    # the learned per-pixel set network (trained on generated pixels of many reflectances)
    "net": ("lambertian.ps.net", "net"),
    # robust + net (normals summed), or net alone where robust's own check finds broad,
    # non-sparse specular reflectance
    "auto": ("lambertian.ps.auto", "auto"),
}
METHODS = tuple(_SOLVERS)


def get_solver(name: str) -> Callable[..., PSResult]:
    """The solver behind a method name (one of :data:`METHODS`)."""
    if name not in _SOLVERS:
        raise ValueError(f"unknown photometric-stereo method {name!r}; choose from {METHODS}")
    module, function = _SOLVERS[name]
    return getattr(importlib.import_module(module), function)


# the solvers by their own names (lambertian.ps.least_squares ...), loaded on first use
lazy_exports(__name__, {function: module for module, function in _SOLVERS.values()})
__all__ = ["DEFAULT_METHOD", "ESTIMATED_LIGHTS_METHOD", "METHODS", "PSResult", "get_solver",
           *(function for _, function in _SOLVERS.values())]
