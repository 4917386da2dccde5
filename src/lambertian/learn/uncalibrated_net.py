"""Training of the LCNet-like light-set network (:class:`lambertian.lights.light_net.LightSetNet`)
on seeded synthetic glossy objects.

Each synthetic object is a random height field with its mask (the shapes of
:func:`lambertian.learn.light_data.random_heights`, half of them squeezed up to 2x along
one axis, all put through a random rotation/mirror of the square, half with a fine relief
added), a two-paint textured albedo, and one of three reflectances drawn at random:
Lambertian, Lambertian + Blinn-Phong, or Lambertian + a Cook-Torrance microfacet lobe (GGX
distribution, Smith shadowing, Schlick Fresnel, random roughness and metalness, which
darkens the diffuse part; ``materials="families"`` draws the per-pixel generator's
families instead, :mod:`lambertian.synth.materials`: measured, not shipped). It is seen
under K distant lights drawn uniformly in a cone around the viewing axis (half-angle
30-60 degrees, drawn per object), with random relative intensities, attached and cast
shadows (:func:`lambertian.learn.light_data.cast_shadows`), a little ambient light and
noise. Nothing is written to disk; batch ``i`` of seed ``s`` is the same every time. The
loss is LCNet's: cross-entropy over azimuth and polar-angle bins. Recipes are compared
on held-out objects of another seed (:func:`validate`).

References: Chen et al., "Self-calibrating deep photometric stereo networks", CVPR 2019
(the network and the idea of training on synthetic objects); R. Cook, K. Torrance, "A
reflectance model for computer graphics", ACM TOG 1982; B. Walter et al., "Microfacet
models for refraction through rough surfaces", EGSR 2007 (GGX).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lambertian.learn.light_data import cast_shadows, height_normals, random_heights
from lambertian.lights.light_net import (
    INPUT_SIZE,
    LightSetNet,
    decode_bins,
    direction_bins,
    network_guided_lights,
    predict_set,
    prepare_set,
)
from lambertian.synth.materials import (
    log_uniform,
    material_radiance,
    random_materials,
    uniform,
)

# Lights are drawn uniformly (by area) within a cone around the viewing axis whose
# half-angle is drawn per object in this range: a generic photometric-stereo rig (every
# light in front of the object, none grazing), some rigs narrower than others.
MIN_CONE_DEG = 30.0
MAX_LIGHT_ANGLE_DEG = 60.0
# Seed of the held-out validation objects (training batches use seed * 1_000_003 + step).
VALIDATION_SEED = 987_654_321


def cone_directions(n: int, max_deg: float | torch.Tensor, g: torch.Generator
                    ) -> torch.Tensor:
    """(n, 3) unit directions uniform by area within ``max_deg`` (a number or (n,)) of +z."""
    cmin = torch.cos(torch.deg2rad(torch.as_tensor(max_deg, dtype=torch.float32)))
    z = 1.0 - (1.0 - cmin) * torch.rand(n, generator=g)
    phi = 2 * math.pi * torch.rand(n, generator=g)
    s = torch.sqrt((1 - z * z).clamp_min(0))
    return torch.stack([s * torch.cos(phi), s * torch.sin(phi), z], 1)


def _albedo(b: int, h: int, w: int, g: torch.Generator) -> torch.Tensor:
    """(B, H, W) albedo: smooth noise times a random contrast, and for half the objects a
    second paint in the regions where another smooth field crosses a threshold (dark
    letters on a white body, as DiLiGenT reading)."""
    def smooth(cells: int) -> torch.Tensor:
        c = torch.rand(b, 1, cells, cells, generator=g)
        return F.interpolate(c, size=(h, w), mode="bicubic", align_corners=True)[:, 0]

    base = uniform(b, 0.3, 0.9, g)[:, None, None]
    tex = base * torch.exp(uniform(b, 0.0, 0.8, g)[:, None, None] * (smooth(5) - 0.5))
    two = (torch.rand(b, generator=g) < 0.5)[:, None, None]
    other = uniform(b, 0.05, 1.0, g)[:, None, None]
    region = smooth(int(torch.randint(4, 12, (1,), generator=g))) > uniform(b, 0.5, 0.8, g)[
        :, None, None]
    return torch.where(two & region, other, tex).clamp(0.02, 1.0)


def _varied_shapes(b: int, h: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Height fields (B, H, W) and masks of :func:`random_heights`, each squeezed along one
    axis by up to 2x for half the objects (tall or wide objects, DiLiGenT buddha), then put
    through a random one of the 8 rotations/flips of the square: the base shapes have a
    preferred axis (ridges run vertically), which must not become a preferred light axis."""
    height, mask = random_heights(b, h, h, g)
    squeeze = torch.where(torch.rand(b, generator=g) < 0.5, uniform(b, 1.0, 2.0, g),
                          torch.ones(b))
    along_x = torch.rand(b, generator=g) < 0.5
    flips = torch.randint(0, 8, (b,), generator=g)
    hs, ms = [], []
    for i in range(b):
        hi, mi = height[i], mask[i].float()
        n = int(round(h / float(squeeze[i])))
        if n < h:  # resample the object into n columns (or rows), pad back with background
            both = torch.stack([hi, mi])[None]
            size = (h, n) if along_x[i] else (n, h)
            both = F.interpolate(both, size=size, mode="bilinear", align_corners=True)[0]
            lo = (h - n) // 2
            pad = (lo, h - n - lo, 0, 0) if along_x[i] else (0, 0, lo, h - n - lo)
            both = F.pad(both, pad)
            hi, mi = both[0], both[1]
        f = int(flips[i])
        hi, mi = torch.rot90(hi, f % 4), torch.rot90(mi, f % 4)
        if f >= 4:
            hi, mi = hi.flip(1), mi.flip(1)
        hs.append(hi)
        ms.append(mi > 0.5)
    return torch.stack(hs), torch.stack(ms)


def _glossy_radiance(normals: torch.Tensor, light: torch.Tensor, albedo: torch.Tensor,
                     g: torch.Generator) -> torch.Tensor:
    """(B, K, H, W) radiance of the shipped weights' materials, one per object: Lambertian,
    + Blinn-Phong, or + Cook-Torrance (GGX, Smith-Schlick shadowing, Schlick Fresnel, some
    of them metallic, which darkens the diffuse part)."""
    b = normals.shape[0]
    ndl = torch.einsum("bhwc,bkc->bkhw", normals, light).clamp_min(0.0)
    kind = torch.randint(0, 3, (b,), generator=g)
    metal = torch.where(kind == 2, uniform(b, 0.0, 1.0, g) * (torch.rand(b, generator=g) < 0.3),
                        torch.zeros(b))
    diffuse = albedo[:, None] * (1 - 0.9 * metal)[:, None, None, None] * ndl
    half = F.normalize(light + torch.tensor([0.0, 0.0, 1.0]), dim=-1)
    ndh = torch.einsum("bhwc,bkc->bkhw", normals, half).clamp(0.0, 1.0)
    ndv = normals[..., 2].clamp_min(1e-3)[:, None]
    shin = log_uniform(b, 5.0, 300.0, g)[:, None, None, None]
    phong = uniform(b, 0.1, 0.8, g)[:, None, None, None] * ndh ** shin * (ndl > 0)
    alpha = uniform(b, 0.05, 0.5, g)[:, None, None, None] ** 2
    d = alpha / (math.pi * (ndh ** 2 * (alpha - 1) + 1) ** 2)
    kk = alpha.sqrt() / 2
    geo = (ndl / (ndl * (1 - kk) + kk)) * (ndv / (ndv * (1 - kk) + kk))
    vdh = half[..., 2][:, :, None, None]
    f0 = (0.04 + 0.9 * metal)[:, None, None, None]
    fres = f0 + (1 - f0) * (1 - vdh) ** 5
    ks = uniform(b, 0.2, 1.0, g)[:, None, None, None]
    ct = ks * d * fres * geo / (4 * ndv)  # radiance = BRDF * cos(theta_l), already folded
    spec = torch.where((kind == 1)[:, None, None, None], phong,
                       torch.where((kind == 2)[:, None, None, None], ct, torch.zeros_like(ct)))
    return diffuse + spec


def render_sets(num_objects: int, num_lights: int, size: int = INPUT_SIZE, seed: int = 0,
                materials: str = "glossy") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded synthetic objects, each under ``num_lights`` lights (module docstring).

    materials : ``"glossy"`` (the shipped weights' three reflectances) or ``"families"``
    (the per-pixel generator's, :mod:`lambertian.synth.materials`, and a camera that
    saturates and quantises to 8 or 16 bits; trained and measured, not shipped:
    docs/results.md).

    Returns network inputs (B, K, 2, size, size) (see
    :func:`lambertian.lights.light_net.prepare_set`), directions (B, K, 3) unit (project
    frame) and relative intensities (B, K) (mean 1 per object).
    """
    g = torch.Generator().manual_seed(int(seed))
    b, k, h = num_objects, num_lights, size
    height, mask = _varied_shapes(b, h, g)
    # fine relief (folds, carving: DiLiGenT buddha, reading) on half of the objects
    cells = int(torch.randint(6, 14, (1,), generator=g))
    fine = F.interpolate(torch.rand(b, 1, cells, cells, generator=g), size=(h, h),
                         mode="bicubic", align_corners=True)[:, 0]
    amp = uniform(b, 0.0, 0.06, g) * (torch.rand(b, generator=g) < 0.5)
    height = height + amp[:, None, None] * h * fine
    normals = height_normals(height)
    cone = uniform(b, MIN_CONE_DEG, MAX_LIGHT_ANGLE_DEG, g).repeat_interleave(k)
    light = cone_directions(b * k, cone, g).reshape(b, k, 3)
    inten = torch.exp(uniform((b, k), -0.5, 0.5, g))
    albedo = _albedo(b, h, h, g)
    lit = ~cast_shadows(height.repeat_interleave(k, 0), light.reshape(-1, 3)).reshape(
        b, k, h, h)
    if materials == "glossy":
        rad = _glossy_radiance(normals, light, albedo, g)
    elif materials == "families":
        # the per-pixel generator's families, one material per object, the texture its
        # diffuse albedo
        m = replace(random_materials(b, g).reshaped(1, 1), rho=albedo.reshape(b, 1, h * h))
        rad = material_radiance(normals.reshape(b, 1, h * h, 3), light[:, :, None], m)[0]
        rad = rad.reshape(b, k, h, h)
    else:
        raise ValueError(f"materials: {materials!r} is neither 'glossy' nor 'families'")
    amb = uniform(b, 0.0, 0.05, g)[:, None, None, None] * albedo[:, None]
    img = inten[..., None, None] * rad * lit + amb
    sigma = uniform(b, 0.0, 0.01, g)[:, None, None, None]
    img = (img + sigma * torch.randn(img.shape, generator=g)).clamp_min(0.0)
    if materials == "families":  # a camera: exposure that may saturate, 8 or 16 bits
        peak = img.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        exposure = log_uniform(b, 0.5, 4.0, g)[:, None, None, None] / peak
        levels = torch.where(torch.rand(b, generator=g) < 0.5, 255.0, 65535.0)
        levels = levels[:, None, None, None]
        img = torch.round((img * exposure).clamp_max(1.0) * levels) / levels / exposure
    img = img * mask[:, None]
    x = torch.stack([prepare_set(img[i], mask[i], size) for i in range(b)])
    return x, light, inten / inten.mean(1, keepdim=True)


def set_loss(net: LightSetNet, x: torch.Tensor, light: torch.Tensor, inten: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """LCNet's classification loss: cross-entropy of the azimuth and polar-angle bins
    against soft targets (:func:`lambertian.lights.light_net.direction_bins`; the azimuth
    term fades out within 15 degrees of the viewing axis, where the azimuth is undefined),
    + 0.5 x MSE on the log relative intensities."""
    az, el, log_e = net.raw(x)
    t_az, t_el = direction_bins(light, net.az_bins, net.el_bins)
    theta = torch.arccos(light[..., 2].clamp(-1, 1))
    w_az = (theta / math.radians(15.0)).clamp_max(1.0)
    ce_az = (-(t_az * az.log_softmax(-1)).sum(-1) * w_az).mean()
    ce_el = -(t_el * el.log_softmax(-1)).sum(-1).mean()
    target = torch.log(inten) - torch.log(inten).mean(1, keepdim=True)
    li = F.mse_loss(log_e, target)
    loss = ce_az + ce_el + 0.5 * li
    with torch.no_grad():
        d = decode_bins(az, el, net.window)
        ang = torch.rad2deg(torch.acos((d * light).sum(-1).clamp(-1, 1))).mean()
    return loss, {"loss": float(loss.detach()), "deg": float(ang),
                  "log_e_mse": float(li.detach())}


def validate(net: LightSetNet, objects: int = 48, lights: int = 32,
             seed: int = VALIDATION_SEED, tta: bool = True, materials: str = "glossy"
             ) -> dict[str, float]:
    """Mean angle (degrees) of the network's directions
    (:func:`lambertian.lights.light_net.predict_set`) on held-out synthetic objects
    (``raw``), and after the projection onto the lights' 3x3 family
    (:func:`lambertian.lights.light_net.network_guided_lights` with the true scaled lights
    as the factorisation: only the network's systematic errors survive it, ``guided``)."""
    x, light, inten = render_sets(objects, lights, net.config["size"], seed, materials)
    d = predict_set(net, x, tta)[0].double().numpy()
    L = light.double().numpy()
    raw = np.degrees(np.arccos(np.clip((d * L).sum(-1), -1, 1)))
    guided = []
    for i in range(objects):
        S = L[i] * inten[i].double().numpy()[:, None]
        X, _ = network_guided_lights(S, d[i])
        v = S @ X
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        guided.append(np.degrees(np.arccos(np.clip((v * L[i]).sum(-1), -1, 1))).mean())
    return {"raw": float(raw.mean()), "guided": float(np.mean(guided))}


def train_light_set_net(steps: int = 12000, objects: int = 6, lights: int = 32,
                        seed: int = 0, lr: float = 2e-3, size: int = INPUT_SIZE,
                        width: int = 16, feat: int = 128, out: str | Path | None = None,
                        log: Callable[[str], None] | None = print, every: int = 50,
                        save_every: int = 0, validate_every: int = 0,
                        window: int = 0, materials: str = "glossy") -> LightSetNet:
    """Train :class:`LightSetNet` on :func:`render_sets` (batch ``i`` has seed
    ``seed * 1_000_003 + i``; the net's initialisation follows ``seed``), Adam with a
    cosine learning-rate decay; with ``out`` the weights are saved as
    ``{"config", "state"}`` for ``torch.load(weights_only=True)`` (also every
    ``save_every`` steps when > 0); every ``validate_every`` steps (> 0) the held-out
    :func:`validate` errors are logged. ``window``: the decoding of the bins
    (:func:`lambertian.lights.light_net.decode_bins`), stored with the weights."""
    torch.manual_seed(seed)
    net = LightSetNet(width, feat, size, window=window)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    t0 = time.perf_counter()
    run: dict[str, float] = {}
    for i in range(steps):
        x, light, inten = render_sets(objects, lights, size, seed * 1_000_003 + i, materials)
        loss, parts = set_loss(net, x, light, inten)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run = {k: 0.9 * run.get(k, v) + 0.1 * v for k, v in parts.items()}
        if out is not None and save_every > 0 and (i + 1) % save_every == 0:
            _save(net, out)
        if log is not None and validate_every > 0 and (i + 1) % validate_every == 0:
            net.eval()
            v = validate(net, tta=False, materials=materials)
            net.train()
            log(f"step {i + 1:5d}  validation: raw {v['raw']:.2f} deg, guided "
                f"{v['guided']:.2f} deg")
        if log is not None and (i % every == 0 or i == steps - 1):
            log(f"step {i:5d}  loss {run['loss']:.4f}  mean angle {run['deg']:.2f} deg  "
                f"log-intensity mse {run['log_e_mse']:.4f}  {time.perf_counter() - t0:.0f} s")
    net.eval()
    if out is not None:
        _save(net, out)
    return net


def _save(net: LightSetNet, out: str | Path) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": net.config, "state": net.state_dict()}, out)
