"""Reflectance models for synthetic observations: diffuse and microfacet lobes.

Every function returns the radiance seen along the view direction ``v`` from a surface of
normal ``n`` lit by a unit distant light ``l``, *times pi* (so that a white Lambertian
surface facing the light gives 1, as in :mod:`lambertian.core.shading`), with the
foreshortening ``max(0, n . l)`` already folded in. Orthographic camera: ``v = (0, 0, 1)``
in the project frame (x right, y up, z toward the camera; light vectors point toward the
light). Shapes broadcast: ``n`` (..., 3) against ``l`` (..., K, 3) is the usual use.

References
----------
- M. Oren, S. Nayar, "Generalization of Lambert's reflectance model", SIGGRAPH 1994
  (the qualitative model, rough diffuse surfaces: brighter toward back-lighting).
- R. Cook, K. Torrance, "A reflectance model for computer graphics", ACM TOG 1982 (the
  microfacet specular term D F G / (4 (n.l) (n.v))).
- B. Walter, S. Marschner, H. Li, K. Torrance, "Microfacet models for refraction through
  rough surfaces", EGSR 2007 (the GGX distribution and its Smith masking term).
- C. Schlick, "An inexpensive BRDF model for physically-based rendering", Eurographics
  1994 (the Fresnel approximation; F0 about 0.04 for dielectrics, 0.5-1 for metals).
- L. Wolff, "Diffuse-reflectance model for smooth dielectric surfaces", JOSA A 1994, and
  L. Wolff, S. Nayar, M. Oren, "Improved diffuse reflection models for computer vision",
  IJCV 1998 (light scattered under a smooth interface leaves through it: the diffuse
  term carries the Fresnel transmittance of the incoming light, darker than Lambert's
  cosine toward grazing incidence).
"""

from __future__ import annotations

import math

import torch

from lambertian.core.fresnel import interface_transmittance

VIEW = (0.0, 0.0, 1.0)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1)


def lambert(n: torch.Tensor, l: torch.Tensor, albedo: torch.Tensor | float = 1.0
            ) -> torch.Tensor:
    """``albedo * max(0, n . l)``: n (..., 1, 3) or (..., 3) broadcast with l (..., K, 3);
    albedo broadcasts with the (..., K) result."""
    return albedo * _dot(n, l).clamp_min(0.0)


def oren_nayar(n: torch.Tensor, l: torch.Tensor, sigma: torch.Tensor | float,
               albedo: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Oren-Nayar (qualitative model) diffuse radiance times pi.

    sigma : surface roughness, the standard deviation of the facet slopes in radians
    (0 is Lambert; 0.5 is very rough, e.g. clay or plaster).
    """
    v = torch.tensor(VIEW, dtype=n.dtype)
    cos_i = _dot(n, l).clamp(-1.0, 1.0)
    cos_r = _dot(n, v).clamp(1e-4, 1.0).expand_as(cos_i)
    s2 = torch.as_tensor(sigma, dtype=n.dtype) ** 2
    A = 1.0 - 0.5 * s2 / (s2 + 0.33)
    B = 0.45 * s2 / (s2 + 0.09)
    # cos of the azimuth difference: the projections of l and v on the tangent plane
    lp = l - cos_i.unsqueeze(-1) * n
    vp = v - cos_r.unsqueeze(-1) * n
    cos_phi = _dot(lp, vp) / (lp.norm(dim=-1) * vp.norm(dim=-1)).clamp_min(1e-8)
    theta_i = torch.acos(cos_i.clamp(0.0, 1.0))
    theta_r = torch.acos(cos_r)
    alpha = torch.maximum(theta_i, theta_r)
    beta = torch.minimum(theta_i, theta_r)
    factor = A + B * cos_phi.clamp_min(0.0) * torch.sin(alpha) * torch.tan(beta)
    return albedo * factor * cos_i.clamp_min(0.0)


def interface_transmission(n: torch.Tensor, l: torch.Tensor, f0: torch.Tensor | float
                           ) -> torch.Tensor:
    """Wolff's light-dependent factor of the diffuse term under a smooth interface: the
    Fresnel transmittance of the incoming light ``1 - F(n . l)`` over its value at normal
    incidence (the albedo keeps its meaning), for the interface whose normal-incidence
    reflectance is ``f0`` (refractive index ``(1 + sqrt f0) / (1 - sqrt f0)``). The
    view's transmittance is one factor per pixel, which the albedo absorbs."""
    return interface_transmittance(_dot(n, l), f0)


def ggx_specular(n: torch.Tensor, l: torch.Tensor, roughness: torch.Tensor | float,
                 f0: torch.Tensor | float) -> torch.Tensor:
    """Cook-Torrance specular radiance times pi with the GGX distribution, Smith's
    separable GGX masking-shadowing and Schlick's Fresnel.

    roughness : GGX alpha (the squared "perceptual" roughness; 0.01 is a mirror-like
    lacquer, 0.5 a broad metallic-paint lobe). f0 : reflectance at normal incidence.
    """
    v = torch.tensor(VIEW, dtype=n.dtype)
    a2 = torch.as_tensor(roughness, dtype=n.dtype) ** 2
    nl = _dot(n, l)
    nv = _dot(n, v).clamp_min(1e-4).expand_as(nl)
    h = torch.nn.functional.normalize(l + v, dim=-1)
    nh = _dot(n, h).clamp_min(0.0)
    vh = _dot(v, h).clamp_min(0.0)
    D = a2 / (math.pi * (nh * nh * (a2 - 1.0) + 1.0) ** 2)
    nlc = nl.clamp_min(1e-6)

    def g1(c: torch.Tensor) -> torch.Tensor:
        return 2.0 * c / (c + torch.sqrt(a2 + (1.0 - a2) * c * c))

    F = f0 + (1.0 - f0) * (1.0 - vh) ** 5
    # f_s cos(theta_l) = D F G / (4 n.v), times pi for the package's radiance unit
    spec = math.pi * D * F * g1(nlc) * g1(nv) / (4.0 * nv)
    return torch.where(nl > 0, spec, torch.zeros_like(spec))
