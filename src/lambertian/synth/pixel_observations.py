"""Per-pixel training data for learned photometric stereo, generated on the fly.

One sample is one surface point: a normal, a material, K distant lights, and the K
observations a camera would record, after everything a real capture does to them. As in
PX-Net (Logothetis et al., "PX-NET: Simple and efficient pixel-wise training of
photometric stereo networks", ICCV 2021), every sample is rendered independently (no
images, no meshes): the network that learns from them is per pixel, so the only thing
that matters is the joint distribution of (normal, lights, observations), and that can be
made far wider than any rendered object collection.

What a sample draws (each choice from the torch.Generator it is given):

- normal: uniform over the visible hemisphere by solid angle for half the samples, and
  uniform in the polar angle (more grazing normals: object outlines) for the other half;
  polar angle at most :data:`MAX_NORMAL_DEG`.
- lights: K directions uniform by area in a cone around a slightly tilted viewing axis
  (half-angle :data:`CONE_DEG` drawn per sample), as on dome and ring rigs.
- material (:mod:`lambertian.synth.materials`): diffuse (Lambert or Oren-Nayar);
  dielectric (diffuse + a GGX lobe with F0 0.02-0.08 and a strength factor for coatings);
  metal (GGX with F0 0.5-1 and almost no diffuse); a two-lobe paint (diffuse + a broad
  GGX lobe + a sharp clear coat, as metallic paints); or a blend of two of these (a pixel
  that straddles two materials, spatially varying roughness).
- cast shadows: a random horizon in the tangent plane (an occluder over a range of
  azimuths, up to some elevation) removes the direct light there.
- interreflection: an ambient term proportional to the point's mean direct radiance, or
  (``neighbour_ambient``; off by default) to the larger of that and the mean radiance of a
  camera-facing neighbour of the same diffuse albedo: the light a point receives from the
  surfaces around it does not fall with its own tilt, so a steep point in a fold (where
  few lights reach it directly) is lit mostly by its surroundings. On DiLiGenT reading,
  at normals 60-75 degrees from the view, the observations under lights just behind the
  point (``n . l`` in [-0.2, 0]) are 0.105 of the albedo (median), against 0.015 / 0.026
  on ball / bear (``experiments/ps_net_neighbour_ambient.py --stats``); an ambient term
  that follows the point's own radiance reaches at most 0.06-0.09 there, the neighbour's
  0.175 (DiLiGenT's lights, the largest ambient share).
- grooves (``grooves`` of the samples; off by default): the point lies on one wall of a
  V-groove (Nayar, Ikeuchi & Kanade, "Shape from interreflections", IJCV 1991; the
  geometry of Koenderink & van Doorn's "Geometrical modes as a general method to treat
  diffuse interreflections in radiometry", JOSA 1983): the facing wall casts the exact
  shadow of an infinite groove on the point and reflects one bounce of its own diffuse
  light onto it, ``albedo F rho' max(0, n' . l)`` with the form factor ``F`` of that wall.
  This is light-dependent interreflection, brightest under the lights that leave the
  point itself in attached shadow (folds, as in DiLiGenT reading), which a constant
  ambient term does not imitate.
- glossy grooves (``glossy_grooves``; off by default, on in the shipped recipe:
  docs/learned-ps.md, "Specular interreflection in the folds"): the groove's far wall, of
  the point's own material, also reflects each light as a mirror does. Its mirror image
  ``l - 2 (n' . l) n'`` is a virtual light in front of the point, seen where that
  direction meets the far wall, of strength the Schlick Fresnel reflectance of the
  material's specular lobes at ``n' . l`` (none for a bare diffuse surface; the lobe's
  roughness only spreads that energy about the mirror direction), and it shades the point
  with the point's own reflectance, highlight included.
- diffuse under an interface (``fresnel_diffuse``; off by default): the light a
  dielectric or a clear-coated paint scatters below its surface entered through that
  surface, so its diffuse term carries the Fresnel transmittance of the incoming light,
  ``1 - F(n . l)`` (Wolff, JOSA A 1994; Wolff, Nayar & Oren, IJCV 1998): darker than
  Lambert's cosine toward grazing light (0.64 of it at 80 degrees for index 1.5), as
  real plastics, paints and glazes are. Bare matte surfaces and metals keep theirs.
- light calibration (``light_error_deg``; off by default): the observations are rendered
  under lights turned by a few degrees from the ones the sample returns, which stand for
  the calibrated ones. No calibration is exact (a chrome sphere's highlight spans pixels),
  and a light at a finite distance reaches each point of an object from a slightly
  different direction than the one calibrated at its centre.
- capture: per-light source intensities, an exposure that may saturate the brightest
  observations, Gaussian and shot noise, 8- or 16-bit quantisation (or none), then the
  division by calibrated intensities that are slightly wrong (a few %), and sometimes a
  subset of images whose gain is off (damaged images, DiLiGenT bear's first 20).

The observations are returned divided by the calibrated light intensities, as the package's
readers return them (``Capture.normalized_images``). Frame: project frame (x right, y up,
z toward the camera; lights toward the light).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lambertian.synth.materials import (  # noqa: F401 (FAMILIES: the generator's families)
    FAMILIES,
    MATERIAL_PROBS,
    Materials,
    log_uniform,
    material_radiance,
    random_materials,
    uniform,
)

# Largest polar angle of a sampled normal (a normal at 90 degrees is seen edge on).
MAX_NORMAL_DEG = 87.0
# Half-angle of the light cone, drawn per sample (DiLiGenT's lights reach 43 degrees, UW
# psm's about 50; ring lights and domes go wider).
CONE_DEG = (15.0, 75.0)
# Largest tilt of the cone's axis from the viewing axis.
TILT_DEG = 15.0
SHADOW_PROB = 0.4
AMBIENT_PROB = 0.5
AMBIENT_MAX = 0.2
DAMAGED_PROB = 0.1
# Opening angle of a groove, between its walls (degrees, drawn uniformly).
GROOVE_OPENING_DEG = (20.0, 160.0)


@dataclass
class PixelBatch:
    """B samples of K observations.

    obs : (B, K) observations divided by the (calibrated) light intensities, >= 0.
    lights : (B, K, 3) unit light directions, project frame.
    normals : (B, 3) unit normals, project frame.
    """

    obs: torch.Tensor
    lights: torch.Tensor
    normals: torch.Tensor


def _rotate_from_z(v: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """Rotate vectors v (B, K, 3) given about +z onto the frame whose z is ``axis`` (B, 3)
    (Rodrigues' formula for the rotation taking +z to axis)."""
    z = torch.tensor([0.0, 0.0, 1.0])
    c = axis[:, 2].clamp(-1.0, 1.0)
    k = torch.linalg.cross(z.expand_as(axis), axis)
    s = k.norm(dim=-1)
    k = k / s.clamp_min(1e-12).unsqueeze(-1)
    kv = torch.linalg.cross(k.unsqueeze(1).expand_as(v), v)
    kdv = (k.unsqueeze(1) * v).sum(-1, keepdim=True)
    c3, s3 = c[:, None, None], s[:, None, None]
    out = v * c3 + kv * s3 + k.unsqueeze(1) * kdv * (1 - c3)
    return torch.where((s > 1e-9)[:, None, None], out, v)


def random_normals(b: int, g: torch.Generator) -> torch.Tensor:
    """(B, 3) unit normals in the visible hemisphere (module docstring)."""
    cmin = math.cos(math.radians(MAX_NORMAL_DEG))
    z_area = 1.0 - (1.0 - cmin) * torch.rand(b, generator=g)
    z_theta = torch.cos(torch.rand(b, generator=g) * math.radians(MAX_NORMAL_DEG))
    z = torch.where(torch.rand(b, generator=g) < 0.5, z_area, z_theta)
    phi = 2 * math.pi * torch.rand(b, generator=g)
    s = torch.sqrt((1 - z * z).clamp_min(0.0))
    return torch.stack([s * torch.cos(phi), s * torch.sin(phi), z], -1)


def random_lights(b: int, k: int, g: torch.Generator) -> torch.Tensor:
    """(B, K, 3) unit light directions: uniform by area in a per-sample cone."""
    half = torch.deg2rad(uniform(b, *CONE_DEG, g))
    cmin = torch.cos(half)[:, None]
    z = 1.0 - (1.0 - cmin) * torch.rand(b, k, generator=g)
    phi = 2 * math.pi * torch.rand(b, k, generator=g)
    s = torch.sqrt((1 - z * z).clamp_min(0.0))
    local = torch.stack([s * torch.cos(phi), s * torch.sin(phi), z], -1)
    tilt = torch.deg2rad(uniform(b, 0.0, TILT_DEG, g))
    tphi = 2 * math.pi * torch.rand(b, generator=g)
    axis = torch.stack([torch.sin(tilt) * torch.cos(tphi), torch.sin(tilt) * torch.sin(tphi),
                        torch.cos(tilt)], -1)
    return _rotate_from_z(local, axis)


def _material(n: torch.Tensor, l: torch.Tensor, g: torch.Generator,
              family: str | None = None, fresnel_diffuse: bool = False
              ) -> tuple[torch.Tensor, torch.Tensor, Materials]:
    """(B, K) radiance of one random material per sample
    (:func:`lambertian.synth.materials.random_materials`), its (B, 1) diffuse albedo, and
    the materials (to shade the same point under other lights)."""
    m = random_materials(n.shape[0], g, family)
    return (*material_radiance(n.unsqueeze(1), l, m, fresnel_diffuse), m)


def mirror_reflectance(m: Materials, cos_far: torch.Tensor) -> torch.Tensor:
    """(B, K) share of a light that the materials ``m``'s specular lobes reflect about the
    mirror direction at incidence cosine ``cos_far`` (B, K): Schlick's Fresnel of each
    lobe's F0 (dielectric, metal, or the paint's two lobes; none for a bare diffuse one).
    The lobe's roughness only spreads that energy around the mirror direction, which a
    virtual light in that direction stands for."""
    def schlick(f0: torch.Tensor) -> torch.Tensor:
        return f0 + (1.0 - f0) * (1.0 - cos_far.clamp(0.0, 1.0)) ** 5

    zero = torch.zeros_like(cos_far)
    choices = torch.stack(torch.broadcast_tensors(
        zero, schlick(m.f0_dielectric), schlick(m.f0_metal),
        schlick(m.f0_broad) + schlick(m.f0_sharp)), 0)
    return choices[m.kind, torch.arange(m.kind.shape[0])]


def _tangent_frame(n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two (B, 3) unit tangents t1, t2 with (t1, t2, n) a right-handed frame."""
    helper = torch.where(n[:, 2:3].abs() < 0.9, torch.tensor([[0.0, 0.0, 1.0]]),
                         torch.tensor([[1.0, 0.0, 0.0]]))
    t1 = torch.nn.functional.normalize(torch.linalg.cross(helper, n), dim=-1)
    return t1, torch.linalg.cross(n, t1)


def _horizon_shadow(n: torch.Tensor, l: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """(B, K) bool, True where a random occluder on the local horizon blocks the light: an
    azimuth range (width 30-240 degrees) up to an elevation (5-60 degrees) above the
    tangent plane, for :data:`SHADOW_PROB` of the samples."""
    b = n.shape[0]
    t1, t2 = _tangent_frame(n)
    elev = torch.asin((l * n.unsqueeze(1)).sum(-1).clamp(-1, 1))
    az = torch.atan2((l * t2.unsqueeze(1)).sum(-1), (l * t1.unsqueeze(1)).sum(-1))
    centre = uniform((b, 1), -math.pi, math.pi, g)
    width = torch.deg2rad(uniform((b, 1), 30.0, 240.0, g))
    height = torch.deg2rad(uniform((b, 1), 5.0, 60.0, g))
    d_az = torch.remainder(az - centre + math.pi, 2 * math.pi) - math.pi
    blocked = (d_az.abs() < width / 2) & (elev < height)
    return blocked & (torch.rand(b, 1, generator=g) < SHADOW_PROB)


def groove_shading(n: torch.Tensor, t: torch.Tensor, opening: torch.Tensor,
                   height: torch.Tensor, rho_far: torch.Tensor, l: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Shadow and one-bounce interreflection at a point on one wall of an infinite V-groove.

    n : (B, 3) the wall's normal; t : (B, 3) the unit tangent (perpendicular to the groove's
    axis) pointing down the wall, toward the far wall; opening : (B, 1) angle between the
    walls (radians); height : (B, 1) the point's height up the wall (0 at the bottom, 1 at
    the rim); rho_far : (B, 1) the far wall's albedo; l : (B, K, 3) unit lights.

    In the groove's cross-section the far rim is seen at the angle ``beta`` above the wall
    (``pi - opening`` at the bottom, ``(pi - opening) / 2`` at the rim): a light whose
    cross-section angle above the wall on the groove's side is below ``beta`` is blocked.
    The far wall (normal ``-cos(opening) n - sin(opening) t``) fills the form factor
    ``F = (1 - cos beta) / 2`` of the point's hemisphere, and lit by ``l`` it sends the point
    the irradiance ``F rho_far max(0, n_far . l)`` (relative to the light's own).

    Returns (B, K) bool blocked and (B, K) that irradiance.
    """
    cos_beta, far = _far_wall(n, t, opening, height)
    blocked = _meets_far_wall(l, n, t, cos_beta)
    bounce = 0.5 * (1 - cos_beta) * rho_far * (l * far.unsqueeze(1)).sum(-1).clamp_min(0.0)
    return blocked, bounce


def _far_wall(n: torch.Tensor, t: torch.Tensor, opening: torch.Tensor, height: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The groove's far wall seen from the point (:func:`groove_shading`'s arguments):
    ``cos beta`` (B, 1) of the angle at which its rim rises above the near wall, and its
    normal (B, 3)."""
    sa, ca = torch.sin(opening / 2), torch.cos(opening / 2)
    # the far rim from the point, in cross-section coordinates where t is (sa, -ca) and
    # the near wall's normal (ca, sa)
    dx, dy = sa * (1 + height), ca * (1 - height)
    cos_beta = (sa * dx - ca * dy) / torch.sqrt(dx * dx + dy * dy)
    return cos_beta, -torch.cos(opening) * n - torch.sin(opening) * t


def _meets_far_wall(d: torch.Tensor, n: torch.Tensor, t: torch.Tensor,
                    cos_beta: torch.Tensor) -> torch.Tensor:
    """(B, K) bool: the directions ``d`` (B, K, 3) from the point, above its own wall,
    meet the far wall (below the rim's angle ``beta`` on the groove's side)."""
    beta = torch.acos(cos_beta.clamp(-1.0, 1.0))
    up = (d * n.unsqueeze(1)).sum(-1)
    return (torch.atan2(up, (d * t.unsqueeze(1)).sum(-1)) < beta) & (up > 0)


def groove_mirror(n: torch.Tensor, t: torch.Tensor, opening: torch.Tensor,
                  height: torch.Tensor, l: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The far wall of the groove of :func:`groove_shading` as a mirror: the virtual light
    it makes of each light ``l`` (B, K, 3), ``l - 2 (n_far . l) n_far`` (the light's mirror
    image in the far wall's plane), whether the point sees that image (the direction meets
    the far wall below the rim, and the far wall faces the light), and the incidence cosine
    ``n_far . l`` at the far wall. Returns (B, K, 3), (B, K) bool and (B, K)."""
    cos_beta, far = _far_wall(n, t, opening, height)
    far = far.unsqueeze(1)
    cos_far = (l * far).sum(-1)
    virtual = l - 2.0 * cos_far.unsqueeze(-1) * far
    return virtual, _meets_far_wall(virtual, n, t, cos_beta) & (cos_far > 0), cos_far


def _groove(n: torch.Tensor, l: torch.Tensor, g: torch.Generator, mirror: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                       tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None]:
    """A random V-groove per sample (:func:`groove_shading`): its axis at a random azimuth in
    the tangent plane, opening :data:`GROOVE_OPENING_DEG`, the point at a uniform height,
    the far wall's albedo 0.05-1. A groove that would hide the point from the camera is
    turned the other way, or left out. Returns blocked, bounce, (B,) bool: present, and
    with ``mirror`` the far wall as a mirror (:func:`groove_mirror`; else None)."""
    b = n.shape[0]
    t1, t2 = _tangent_frame(n)
    az = uniform((b, 1), -math.pi, math.pi, g)
    opening = torch.deg2rad(uniform((b, 1), *GROOVE_OPENING_DEG, g))
    height = torch.rand(b, 1, generator=g)
    rho_far = uniform((b, 1), 0.05, 1.0, g)
    view = torch.tensor([0.0, 0.0, 1.0]).expand(b, 1, 3)
    t = torch.cos(az) * t1 + torch.sin(az) * t2
    t = torch.where(groove_shading(n, t, opening, height, rho_far, view)[0], -t, t)
    present = ~groove_shading(n, t, opening, height, rho_far, view)[0][:, 0]
    blocked, bounce = groove_shading(n, t, opening, height, rho_far, l)
    return (blocked, bounce, present,
            groove_mirror(n, t, opening, height, l) if mirror else None)


def observation_batch(batch: int, num_lights: int, g: torch.Generator, *,
                      lights: torch.Tensor | None = None, family: str | None = None,
                      blend: bool = True, grooves: float = 0.0,
                      light_error_deg: float = 0.0,
                      fresnel_diffuse: bool = False,
                      glossy_grooves: bool = False,
                      neighbour_ambient: bool = False) -> PixelBatch:
    """``batch`` samples of ``num_lights`` observations each (module docstring).

    lights : optional (K, 3) unit directions shared by every sample (a fixed rig) instead
    of a random cone per sample. family : force one of :data:`FAMILIES` (and no blend);
    blend : allow blends of two materials. grooves : the share of samples that lie in a
    V-groove (its shadow and interreflection instead of the random horizon's shadow).
    light_error_deg : the largest per-sample spread of calibration errors of the light
    directions: the observations are rendered under lights off by about that many degrees
    from the ``lights`` the batch returns (the calibrated ones).
    fresnel_diffuse : the diffuse term of dielectrics and paints carries the Fresnel
    transmittance of the incoming light (Wolff 1994; module docstring). It draws no
    random number: a batch with it differs from one without only in those values.
    glossy_grooves : the grooves' far wall also reflects the light specularly, as its
    material's lobes do (the same material as the point's: one object), a virtual light
    that shades the point with its own reflectance (module docstring). It draws no random
    number either.
    neighbour_ambient : the ambient term is at least what a camera-facing neighbour of
    the point's diffuse albedo sends (module docstring); no random number either.
    """
    b, k = batch, num_lights
    n = random_normals(b, g)
    if lights is None:
        l = random_lights(b, k, g)
    else:
        l = torch.as_tensor(lights, dtype=torch.float32).expand(b, k, 3)
    calibrated = l
    if light_error_deg > 0:  # drawn only when asked: other batches keep their random stream
        l = _miscalibrated(l, light_error_deg, g)
    rad, albedo, mat = _material(n, l, g, family, fresnel_diffuse)
    second, albedo_second, mat_second = _material(n, l, g, family, fresnel_diffuse)
    p_blend = MATERIAL_PROBS[4] if blend and family is None else 0.0
    w = torch.where(torch.rand(b, 1, generator=g) < p_blend,
                    torch.rand(b, 1, generator=g), torch.zeros(b, 1))
    rad = (1 - w) * rad + w * second
    shadow = _horizon_shadow(n, l, g)
    bounce = None
    if grooves > 0:  # drawn only when asked: other batches keep their random stream
        blocked, bounce, present, mirror = _groove(n, l, g, glossy_grooves)
        present &= torch.rand(b, generator=g) < grooves
        shadow = torch.where(present[:, None], blocked, shadow)
    rad = torch.where(shadow, torch.zeros_like(rad), rad)
    if bounce is not None:
        rad = rad + present[:, None] * ((1 - w) * albedo + w * albedo_second) * bounce
        if mirror is not None:
            virtual, sees, cos_far = mirror
            mirrored = sum(
                share * mirror_reflectance(mm, cos_far)
                * material_radiance(n.unsqueeze(1), virtual, mm, fresnel_diffuse)[0]
                for share, mm in ((1 - w, mat), (w, mat_second)))
            rad = rad + (present[:, None] & sees) * mirrored
    amb = torch.where(torch.rand(b, 1, generator=g) < AMBIENT_PROB,
                      uniform((b, 1), 0.0, AMBIENT_MAX, g), torch.zeros(b, 1))
    level = rad.mean(1, keepdim=True)
    if neighbour_ambient:  # draws no random number
        facing = ((1 - w) * albedo + w * albedo_second) * l[..., 2].clamp_min(0).mean(
            1, keepdim=True)
        level = torch.maximum(level, facing)
    rad = rad + amb * level
    # capture: source intensities, exposure (may saturate), noise, quantisation
    source = uniform((b, k), 0.4, 1.0, g)
    raw = rad * source
    peak = raw.amax(1, keepdim=True).clamp_min(1e-6)
    exposure = log_uniform((b, 1), 0.05, 2.0, g) / peak
    raw = raw * exposure
    read = uniform((b, 1), 0.0, 0.004, g)
    shot = uniform((b, 1), 0.0, 0.01, g)
    raw = raw + torch.randn(b, k, generator=g) * (read + shot * raw.clamp_min(0).sqrt())
    raw = raw.clamp(0.0, 1.0)
    bits = torch.multinomial(torch.tensor([0.2, 0.3, 0.5]), b, replacement=True,
                             generator=g)  # none, 8, 16
    levels = torch.tensor([0.0, 255.0, 65535.0])[bits].unsqueeze(1)
    raw = torch.where(levels > 0, torch.round(raw * levels) / levels.clamp_min(1), raw)
    # division by calibrated intensities that are a few % off, and damaged images
    calib = source * torch.exp(torch.randn(b, k, generator=g) * uniform((b, 1), 0.0, 0.04, g))
    damaged = (torch.rand(b, 1, generator=g) < DAMAGED_PROB) & (
        torch.rand(b, k, generator=g) < uniform((b, 1), 0.05, 0.25, g))
    calib = torch.where(damaged, calib * uniform((b, 1), 0.7, 1.4, g), calib)
    obs = raw / calib / exposure
    return PixelBatch(obs.float(), calibrated.float(), n.float())


def _miscalibrated(l: torch.Tensor, max_deg: float, g: torch.Generator) -> torch.Tensor:
    """(B, K, 3) the lights (B, K, 3) each turned by a tangent Gaussian step whose spread
    is drawn per sample, uniform in [0, max_deg] degrees (per tangent axis)."""
    b = l.shape[0]
    sigma = torch.deg2rad(uniform((b, 1, 1), 0.0, max_deg, g))
    step = torch.randn(l.shape, generator=g) * sigma
    step = step - (step * l).sum(-1, keepdim=True) * l
    return torch.nn.functional.normalize(l + step, dim=-1)
