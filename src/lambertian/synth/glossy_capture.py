"""A harder synthetic capture for choosing uncalibrated recipes: glossy, creased, saturated.

:func:`lambertian.synth.capture.make_capture` is Lambertian and smooth, so a robust step
that only matters on real objects (highlights, normal discontinuities, clipped pixels)
looks like a no-op there. This generator adds, with every choice drawn from the seed:

- a truncated pyramid on the bumpy height field: four planar facets whose ridges and
  base edges are normal discontinuities (creases), as on folded or carved objects;
- a specular lobe (Blinn-Phong, random shininess and strength) on the diffuse render,
  the highlights that break the rank-3 model;
- clipping at 1 (saturated highlights) and optional 8-bit quantisation.

Orthographic camera, project frame (x right, y up, z toward the camera; row r -> y = -r),
as :mod:`lambertian.synth.capture`. Not physically exact (Blinn-Phong is an empirical
lobe); it is selection data, not a renderer.

Reference: J. Blinn, "Models of light reflection for computer synthesized pictures",
SIGGRAPH 1977.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.shading import render_lambertian
from lambertian.synth.capture import (
    SyntheticCapture,
    bump_height,
    cast_shadows,
    disc_normals,
    patchy_albedo,
    upper_hemisphere_lights,
)

VIEW = np.array([0.0, 0.0, 1.0])


def _pyramid(size: int, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Height (pixels) of a truncated square pyramid and its derivatives along columns and
    rows (piecewise constant: the creases are where they jump)."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    r0, c0 = rng.uniform(0.35, 0.65, size=2) * size
    half = rng.uniform(0.12, 0.2) * size  # half width of the base
    top = rng.uniform(0.3, 0.6) * half  # half width of the flat top
    slope = rng.uniform(0.5, 1.2)
    dr, dc = rows - r0, cols - c0
    cheb = np.maximum(np.abs(dr), np.abs(dc))
    h = slope * np.clip(half - cheb, 0.0, half - top)
    on_side = (cheb > top) & (cheb < half)
    along_c = np.abs(dc) >= np.abs(dr)
    dh_dc = np.where(on_side & along_c, -slope * np.sign(dc), 0.0)
    dh_dr = np.where(on_side & ~along_c, -slope * np.sign(dr), 0.0)
    return h, dh_dc, dh_dr


def make_glossy_capture(size: int = 128, num_lights: int = 32, noise: float = 0.005,
                        bits: int | None = None, seed: int = 0) -> SyntheticCapture:
    """Render a glossy, creased capture (see the module docstring).

    Parameters
    ----------
    size : image height and width in pixels; num_lights : number of images K.
    noise : standard deviation of the additive Gaussian noise (images in [0, 1]).
    bits : quantise to this many bits (8 as in UW psm) or keep floats (None).
    seed : every random choice (shape, albedo, lobe, lights, intensities, noise).

    Returns a :class:`SyntheticCapture` (``images`` include the specular lobe, clipped;
    ``normals`` and ``albedo`` are the diffuse ground truth).
    """
    rng = np.random.default_rng(seed)
    hb, dcb, drb = bump_height(size, rng)
    hp, dcp, drp = _pyramid(size, rng)
    h = hb + hp
    n, mask = disc_normals(dcb + dcp, drb + drp)
    albedo = patchy_albedo(size, rng) * mask[..., None]
    lights = upper_hemisphere_lights(num_lights, rng)
    intensities = rng.uniform(0.7, 1.0, size=(num_lights, 3))
    shininess = float(np.exp(rng.uniform(np.log(10.0), np.log(200.0))))
    strength = float(rng.uniform(0.2, 1.0))
    shadow = cast_shadows(h, lights) & mask
    img = render_lambertian(n, albedo, lights, intensities).numpy()
    half_vec = lights + VIEW
    half_vec /= np.linalg.norm(half_vec, axis=1, keepdims=True)
    lit = np.einsum("hwc,kc->khw", n, lights) > 0
    spec = np.clip(np.einsum("hwc,kc->khw", n, half_vec), 0.0, None) ** shininess * lit
    img = img + strength * spec[..., None] * intensities[:, None, None, :]
    img[shadow] = 0.0
    img = img + rng.normal(0.0, noise, size=img.shape) * mask[..., None]
    img = np.clip(img, 0.0, 1.0) * mask[..., None]
    if bits is not None:
        levels = 2 ** bits - 1
        img = np.round(img * levels) / levels
    return SyntheticCapture(img.astype(np.float32), lights, intensities, n, albedo, mask,
                            h, shadow)
