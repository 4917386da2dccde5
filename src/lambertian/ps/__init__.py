"""Calibrated photometric stereo: images under known lights -> normals and albedo.

Solvers are plain functions ``solver(images, lights, mask=None, **settings) -> PSResult``;
:data:`METHODS` names them and :func:`get_solver` returns one: this is the one registry
of photometric-stereo methods (the command line, the application layer and the
benchmarks take their choices from it). The solvers load torch, so they are imported
on first use: ``from lambertian.ps import METHODS`` stays light.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any

from lambertian.ps.result import PSResult

# The default of ``lambertian ps``, ``lambertian batch ps`` and lambertian.photometric_stereo.
DEFAULT_METHOD = "robust"
# method name -> (module, function) of its solver
_SOLVERS = {
    "ls": ("lambertian.ps.least_squares", "least_squares"),
    "robust": ("lambertian.ps.robust", "robust"),
    # maximum-likelihood lit set per pixel (exact for up to 8 lights); slower
    "shadow_aware": ("lambertian.ps.shadow_aware", "shadow_aware"),
}
METHODS = tuple(_SOLVERS)


def get_solver(name: str) -> Callable[..., PSResult]:
    """The solver behind a method name (one of :data:`METHODS`)."""
    if name not in _SOLVERS:
        raise ValueError(f"unknown photometric-stereo method {name!r}; choose from {METHODS}")
    module, function = _SOLVERS[name]
    return getattr(importlib.import_module(module), function)


def __getattr__(name: str) -> Any:
    # the solvers by their own names (lambertian.ps.least_squares ...), loaded on first use
    for module, function in _SOLVERS.values():
        if name == function:
            solver = getattr(importlib.import_module(module), function)
            globals()[name] = solver
            return solver
    raise AttributeError(f"module 'lambertian.ps' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``lambertian.ps.least_squares`` is the solver function, as when this package
    imported its solvers eagerly: loading the submodule of the same name must not put
    the module object in its place."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in {f for _, f in _SOLVERS.values()}:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = ["DEFAULT_METHOD", "METHODS", "PSResult", "get_solver", "least_squares", "robust",
           "shadow_aware"]
