"""Random materials of the training generators: one family per sample, drawn from a seeded
``torch.Generator``, shared by the per-pixel generator of learned photometric stereo
(:mod:`lambertian.synth.pixel_observations`) and the object generator of the uncalibrated
light network (:mod:`lambertian.learn.uncalibrated_net`).

Families (:data:`FAMILIES`, probabilities :data:`MATERIAL_PROBS`), the models in
:mod:`lambertian.synth.reflectance`:

- diffuse: Lambert or Oren-Nayar (Oren & Nayar 1994), half of them rough;
- dielectric: that diffuse + a GGX lobe (Walter et al. 2007; Smith masking, Schlick
  Fresnel with F0 0.02-0.08, times a strength factor for coatings; Cook & Torrance 1982);
- metal: GGX with F0 0.5-1 and almost no diffuse;
- paint: diffuse + a broad GGX lobe + a sharp clear coat (metallic paints).

The draws (:func:`random_materials`) are separate from the shading
(:func:`material_radiance`), so one material can shade a pixel or a whole object (its
parameters broadcast: give ``rho`` an albedo map for a textured object).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from lambertian.synth.reflectance import ggx_specular, interface_transmission, oren_nayar

FAMILIES = ("diffuse", "dielectric", "metal", "paint")
# Material families and their probabilities: diffuse, dielectric, metal, two-lobe paint,
# blend of two (blends are the caller's: two materials mixed per sample).
MATERIAL_PROBS = (0.15, 0.35, 0.15, 0.2, 0.15)
# GGX alpha ranges (drawn log-uniformly).
ALPHA = (0.02, 0.8)
ALPHA_SHARP = (0.01, 0.1)
ALPHA_BROAD = (0.15, 0.7)


def uniform(shape, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    """Uniform draws in [lo, hi) of the given shape."""
    return lo + (hi - lo) * torch.rand(shape, generator=g)


def log_uniform(shape, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    """Draws in [lo, hi) uniform in the logarithm (scale parameters)."""
    return torch.exp(uniform(shape, math.log(lo), math.log(hi), g))


@dataclass(frozen=True)
class Materials:
    """B random materials: ``kind`` (B,) an index into :data:`FAMILIES`; every other field
    (B, 1) (or anything that broadcasts with the shaded result's trailing shape)."""

    kind: torch.Tensor
    rho: torch.Tensor
    sigma: torch.Tensor
    alpha: torch.Tensor
    f0_dielectric: torch.Tensor
    f0_metal: torch.Tensor
    metal_diffuse: torch.Tensor
    alpha_broad: torch.Tensor
    f0_broad: torch.Tensor
    alpha_sharp: torch.Tensor
    f0_sharp: torch.Tensor

    def reshaped(self, *trailing: int) -> Materials:
        """The parameters viewed as (B, *trailing) (e.g. (B, 1, 1) for (B, K, P) shading)."""
        fields = {k: getattr(self, k).reshape(-1, *trailing)
                  for k in self.__dataclass_fields__ if k != "kind"}
        return replace(self, **fields)


def random_materials(b: int, g: torch.Generator, family: str | None = None) -> Materials:
    """B materials of the families of the module docstring (blends excluded); ``family``
    forces one of :data:`FAMILIES`. Diffuse albedo 0.05-1."""
    kind = torch.multinomial(torch.tensor(MATERIAL_PROBS[:4]), b, replacement=True,
                             generator=g)
    if family is not None:
        kind = torch.full((b,), FAMILIES.index(family))
    rho = uniform((b, 1), 0.05, 1.0, g)
    sigma = torch.where(torch.rand(b, 1, generator=g) < 0.5, uniform((b, 1), 0.0, 0.6, g),
                        torch.zeros(b, 1))
    alpha = log_uniform((b, 1), *ALPHA, g)
    f0_diel = uniform((b, 1), 0.02, 0.08, g) * log_uniform((b, 1), 0.3, 3.0, g)
    f0_metal = uniform((b, 1), 0.5, 1.0, g)
    metal_diffuse = 0.1 * torch.rand(b, 1, generator=g)
    alpha_broad = log_uniform((b, 1), *ALPHA_BROAD, g)
    f0_broad = uniform((b, 1), 0.05, 0.5, g)
    alpha_sharp = log_uniform((b, 1), *ALPHA_SHARP, g)
    f0_sharp = uniform((b, 1), 0.02, 0.06, g)
    return Materials(kind, rho, sigma, alpha, f0_diel, f0_metal, metal_diffuse,
                     alpha_broad, f0_broad, alpha_sharp, f0_sharp)


def material_radiance(n: torch.Tensor, l: torch.Tensor, m: Materials,
                      fresnel_diffuse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Radiance times pi (:mod:`lambertian.synth.reflectance`'s unit) of the materials
    ``m`` for normals ``n`` and unit lights ``l`` that broadcast to the result (e.g.
    n (B, 1, 3) with l (B, K, 3) -> (B, K)), and each material's diffuse albedo.

    fresnel_diffuse : the diffuse term of the dielectrics and paints (under a smooth
    interface: the dielectric's own, the paint's clear coat) carries the interface's
    Fresnel transmittance of the incoming light (Wolff 1994,
    :func:`lambertian.synth.reflectance.interface_transmission`); bare diffuse surfaces
    and metals are unchanged."""
    diffuse = oren_nayar(n, l, m.sigma, m.rho)
    under_diel = under_coat = diffuse
    if fresnel_diffuse:
        under_diel = diffuse * interface_transmission(n, l, m.f0_dielectric)
        under_coat = diffuse * interface_transmission(n, l, m.f0_sharp)
    dielectric = under_diel + ggx_specular(n, l, m.alpha, m.f0_dielectric)
    metal = ggx_specular(n, l, m.alpha, m.f0_metal) + m.metal_diffuse * diffuse
    paint = (under_coat + ggx_specular(n, l, m.alpha_broad, m.f0_broad)
             + ggx_specular(n, l, m.alpha_sharp, m.f0_sharp))
    b = torch.arange(m.kind.shape[0])
    choices = torch.stack([diffuse, dielectric, metal, paint], 0)
    albedo = torch.stack(torch.broadcast_tensors(
        m.rho, m.rho, m.metal_diffuse * m.rho, m.rho), 0)
    return choices[m.kind, b], albedo[m.kind, b]
