"""Fresnel reflectance of a smooth dielectric interface, and the transmittance of the
light that enters it (the factor Wolff's diffuse model puts on Lambert's cosine).

References: M. Born, E. Wolf, "Principles of Optics" (the exact Fresnel equations);
L. Wolff, "Diffuse-reflectance model for smooth dielectric surfaces", JOSA A 1994.
"""

from __future__ import annotations

import torch


def fresnel_dielectric(cos_i: torch.Tensor, eta: torch.Tensor | float) -> torch.Tensor:
    """Exact Fresnel reflectance of unpolarised light from air onto a dielectric of
    refractive index ``eta`` at incidence cosine ``cos_i`` (clamped to [0, 1])."""
    c = cos_i.clamp(0.0, 1.0)
    eta = torch.as_tensor(eta, dtype=c.dtype)
    cos_t = torch.sqrt((1.0 - (1.0 - c * c) / (eta * eta)).clamp_min(0.0))
    rs = (c - eta * cos_t) / (c + eta * cos_t).clamp_min(1e-12)
    rp = (eta * c - cos_t) / (eta * c + cos_t).clamp_min(1e-12)
    return 0.5 * (rs * rs + rp * rp)


def interface_transmittance(cos_i: torch.Tensor, f0: torch.Tensor | float) -> torch.Tensor:
    """The Fresnel transmittance ``1 - F(cos_i)`` of light entering a smooth interface,
    over its value at normal incidence (1 facing the light, 0 at grazing incidence), for
    the interface whose normal-incidence reflectance is ``f0`` (refractive index
    ``(1 + sqrt f0) / (1 - sqrt f0)``)."""
    f0 = torch.as_tensor(f0, dtype=cos_i.dtype).clamp(1e-4, 0.5)
    eta = (1.0 + f0.sqrt()) / (1.0 - f0.sqrt())
    return (1.0 - fresnel_dielectric(cos_i, eta)) / (1.0 - f0)
