"""Light estimation: calibration spheres (chrome, matte), one image of known geometry,
spherical-harmonic lighting, uncalibrated photometric stereo."""

from lambertian.lights.chrome_sphere import chrome_sphere_lights, highlight_centre
from lambertian.lights.lambertian_fit import LightFit, fit_directional
from lambertian.lights.matte_sphere import matte_sphere_lights
from lambertian.lights.sh import fit_sh9, render_sh9, sh_basis
from lambertian.lights.single_image import estimate_light
from lambertian.lights.uncalibrated import UncalibratedLights, uncalibrated_lights

__all__ = [
    "LightFit",
    "UncalibratedLights",
    "chrome_sphere_lights",
    "estimate_light",
    "fit_directional",
    "fit_sh9",
    "highlight_centre",
    "matte_sphere_lights",
    "render_sh9",
    "sh_basis",
    "uncalibrated_lights",
]
