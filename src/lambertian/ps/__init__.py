"""Calibrated photometric stereo: images under known lights -> normals and albedo.

Solvers are plain functions ``solver(images, lights, mask=None, **settings) -> PSResult``;
:data:`METHODS` maps the command line's method names to them.
"""

from __future__ import annotations

from collections.abc import Callable

from lambertian.ps.least_squares import least_squares
from lambertian.ps.result import PSResult
from lambertian.ps.robust import robust

DEFAULT_METHOD = "robust"
METHODS = ("ls", "robust")


def get_solver(name: str) -> Callable[..., PSResult]:
    """The solver behind a method name (``ls`` or ``robust``)."""
    if name == "ls":
        return least_squares
    if name == "robust":
        return robust
    raise ValueError(f"unknown photometric-stereo method {name!r}; choose from {METHODS}")


__all__ = ["DEFAULT_METHOD", "METHODS", "PSResult", "get_solver", "least_squares", "robust"]
