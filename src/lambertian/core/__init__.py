"""Shading model, coordinate frames, metrics and the input-error type."""

from lambertian.core.errors import InputError
from lambertian.core.metrics import (
    albedo_mse,
    angular_error_deg,
    light_direction_error_deg,
    normal_error_stats,
    scale_invariant_intensity_error,
)
from lambertian.core.shading import lambertian_shading, render_lambertian

__all__ = [
    "InputError",
    "albedo_mse",
    "angular_error_deg",
    "lambertian_shading",
    "light_direction_error_deg",
    "normal_error_stats",
    "render_lambertian",
    "scale_invariant_intensity_error",
]
