"""Shading model, coordinate frames, the light types, metrics and the input-error type.

Loaded lazily (PEP 562): ``import lambertian.core`` imports neither torch nor NumPy;
the shading functions load torch on first use.
"""

from __future__ import annotations

from lambertian.core.lazy import lazy_exports

lazy_exports(__name__, {
    "InputError": "lambertian.core.errors",
    "DirectionalLight": "lambertian.core.light",
    "LightSet": "lambertian.core.light",
    "albedo_mse": "lambertian.core.metrics",
    "angular_error_deg": "lambertian.core.metrics",
    "light_direction_error_deg": "lambertian.core.metrics",
    "normal_error_stats": "lambertian.core.metrics",
    "scale_invariant_intensity_error": "lambertian.core.metrics",
    "lambertian_shading": "lambertian.core.shading",
    "render_lambertian": "lambertian.core.shading",
})
