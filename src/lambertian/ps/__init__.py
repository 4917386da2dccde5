"""Calibrated photometric stereo: images under known lights -> normals and albedo.

Solvers are plain functions ``solver(images, lights, mask=None, **settings) -> PSResult``;
:data:`METHODS` maps the command line's method names to them.
"""

from __future__ import annotations

from collections.abc import Callable

from lambertian.ps.least_squares import least_squares
from lambertian.ps.net import net
from lambertian.ps.result import PSResult
from lambertian.ps.robust import robust

DEFAULT_METHOD = "robust"
_SOLVERS: dict[str, Callable[..., PSResult]] = {
    "ls": least_squares, "robust": robust, "net": net}
METHODS = tuple(_SOLVERS)


def get_solver(name: str) -> Callable[..., PSResult]:
    """The solver behind a method name (one of :data:`METHODS`)."""
    try:
        return _SOLVERS[name]
    except KeyError:
        raise ValueError(f"unknown photometric-stereo method {name!r}; "
                         f"choose from {METHODS}") from None


__all__ = ["DEFAULT_METHOD", "METHODS", "PSResult", "get_solver", "least_squares", "net",
           "robust"]
