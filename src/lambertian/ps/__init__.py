"""Calibrated photometric stereo: images under known lights -> normals and albedo."""

from lambertian.ps.least_squares import least_squares
from lambertian.ps.result import PSResult

__all__ = ["PSResult", "least_squares"]
