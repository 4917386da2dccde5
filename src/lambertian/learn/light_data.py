"""On-the-fly, seeded synthetic images with known light: the corpus of the light regressors.

Each sample is a height field ``h(x, y)`` made of a random base shape (a dome, an
ellipsoid cap, a tilted plane or a ridge) plus random Gaussian blobs and dents, seen by
an orthographic camera from +z, inside a random mask (an ellipse on a black background,
or the full frame like a face crop). Albedo is a random texture (smooth noise mixed with
Voronoi patches). Images follow the project's model

    I = albedo * (ambient + intensity * max(0, n . l)) * (1 - cast_shadow)
        + specular * max(0, n . h)^shininess + noise

with attached shadows from ``max(0, .)``, cast shadows traced through the height field
(the same ray march as :func:`lambertian.synth.capture.cast_shadows`, batched on torch
tensors with ``grid_sample``), an optional Blinn-Phong lobe and Gaussian noise. Nothing is
written to disk: :class:`LightCorpus` yields batches, and batch ``i`` of seed ``s`` is the
same every time (the seed of each batch is ``(s, i)``).

Frame: project frame (x right, y up, z toward the camera; image row r -> y = -r). Light
vectors point toward the light.

Labels (per image): ``direction`` (3,) unit, and ``intensity`` / ``ambient`` expressed as
``mean albedo * light`` divided by the image's normalisation scale (see
:func:`normalize_image`), so a network sees and predicts scale-free numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lambertian.synth.materials import uniform

# Percentile of the masked pixels that maps to 1 in :func:`normalize_image`.
NORM_PERCENTILE = 0.99


@dataclass
class LightBatch:
    """A batch of synthetic images and their labels.

    images : (B, 1, H, W) float32, normalised by :func:`normalize_image`.
    direction : (B, 3) unit light directions, project frame.
    intensity, ambient : (B,) albedo-weighted light, in normalised image units.
    normals : (B, H, W, 3) unit normals (zeros outside the mask); mask : (B, H, W) bool.
    """

    images: torch.Tensor
    direction: torch.Tensor
    intensity: torch.Tensor
    ambient: torch.Tensor
    normals: torch.Tensor
    mask: torch.Tensor


def row_quantile(flat: torch.Tensor, q: float) -> torch.Tensor:
    """(B,) ``q``-quantile of each row of a (B, N) tensor without NaNs, equal bit for bit
    to ``torch.quantile(flat, q, dim=1)`` (linear interpolation between the two order
    statistics around rank ``q (N - 1)``). ``quantile`` sorts every row; selecting the
    two order statistics is several times faster (14x for the 99th percentile of a
    64 x 56 face), and normalisation runs on every training batch."""
    n = flat.shape[1]
    rank = torch.tensor(q, dtype=flat.dtype) * (n - 1)
    lo = int(rank.floor())
    hi = min(lo + 1, n - 1)
    if n - lo <= n // 8:  # near the top: a partial sort of the few largest values
        top = flat.topk(n - lo, dim=1).values  # descending: rank lo is the last
        below, above = top[:, -1], top[:, n - 1 - hi]
    else:
        below = flat.kthvalue(lo + 1, dim=1).values
        above = flat.kthvalue(hi + 1, dim=1).values
    return torch.lerp(below, above, rank - lo)


def normalize_image(img: torch.Tensor, mask: torch.Tensor | None = None,
                    percentile: float = NORM_PERCENTILE, clip: float | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Divide each image by its ``percentile`` value over ``mask``, then (with ``clip``)
    cap the result at ``clip``.

    img : (B, 1, H, W); mask : optional (B, H, W) bool. Returns the normalised images
    and the (B,) scales. Makes the regressors blind to exposure, which single-image light
    estimation cannot recover apart from the unknown albedo anyway. A high percentile
    alone lets a few specular highlights set the scale and leave the diffuse shading
    near black (DiLiGenT reading); a lower percentile with a cap keeps the diffuse
    shading in range and saturates the highlights instead.
    """
    b = img.shape[0]
    flat = img.reshape(b, -1)
    if mask is not None:
        flat = torch.where(mask.reshape(b, -1), flat, torch.full_like(flat, float("nan")))
    if not bool(flat.isnan().any()):  # no mask, or one that keeps every pixel
        scale = row_quantile(flat, percentile)
    else:
        scale = torch.nanquantile(flat, percentile, dim=1)
    scale = scale.nan_to_num(0.0).clamp_min(1e-3)
    out = img / scale[:, None, None, None]
    return (out if clip is None else out.clamp_max(clip)), scale


def sample_directions(n: int, g: torch.Generator, min_z: float = -0.3) -> torch.Tensor:
    """(n, 3) directions uniform on the sphere cap ``l_z >= min_z`` (area-uniform)."""
    z = min_z + (1.0 - min_z) * torch.rand(n, generator=g)
    phi = 2 * math.pi * torch.rand(n, generator=g)
    s = torch.sqrt((1 - z * z).clamp_min(0))
    return torch.stack([s * torch.cos(phi), s * torch.sin(phi), z], dim=1)


def _smooth_noise(b: int, h: int, w: int, cells: int, g: torch.Generator) -> torch.Tensor:
    """(B, H, W) smooth random field in [0, 1] (bicubic upsampling of a coarse grid)."""
    coarse = torch.rand(b, 1, cells, cells, generator=g)
    return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)[:, 0].clamp(0, 1)


def random_heights(b: int, h: int, w: int, g: torch.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random height fields (B, H, W) in pixels and masks (B, H, W) bool."""
    ys = torch.linspace(-1, 1, h)[:, None].expand(h, w)  # row coordinate, grows downward
    xs = torch.linspace(-1, 1, w)[None, :].expand(h, w) * (w / h)
    scale = 0.5 * h  # heights in pixels: a unit bump rises half the image height
    # Mask: an ellipse (object on black) for 60 %, the full frame (face-like crop) otherwise.
    cx, cy = uniform(b, -0.15, 0.15, g), uniform(b, -0.15, 0.15, g)
    ax, ay = uniform(b, 0.55, 0.95, g), uniform(b, 0.55, 0.95, g)
    u = (xs - cx[:, None, None]) / ax[:, None, None]
    v = (ys - cy[:, None, None]) / ay[:, None, None]
    r2 = u * u + v * v
    full = torch.rand(b, generator=g) < 0.4
    mask = (r2 <= 1.0) | full[:, None, None]
    # Base shape: 0 dome (ellipsoid cap), 1 ridge, 2 tilted plane, 3 flat.
    kind = torch.randint(0, 4, (b,), generator=g)
    dome = torch.sqrt((1.0 - r2).clamp_min(0.0))
    ridge = torch.sqrt((1.0 - u * u).clamp_min(0.0))
    tx, ty = uniform(b, -0.6, 0.6, g), uniform(b, -0.6, 0.6, g)
    plane = tx[:, None, None] * xs + ty[:, None, None] * ys
    base = torch.stack([dome, ridge, plane, torch.zeros_like(dome)], 1)[torch.arange(b), kind]
    height = base * uniform(b, 0.3, 1.0, g)[:, None, None]
    # Blobs and dents: they cast shadows on the base and on each other.
    for _ in range(8):
        on = (torch.rand(b, generator=g) < 0.7).float()
        bx, by = uniform(b, -1, 1, g), uniform(b, -1, 1, g)
        s = uniform(b, 0.08, 0.35, g)
        a = uniform(b, -0.3, 0.6, g) * on
        d2 = (xs - bx[:, None, None]) ** 2 + (ys - by[:, None, None]) ** 2
        height = height + a[:, None, None] * s[:, None, None] * 2 * torch.exp(
            -d2 / (2 * s[:, None, None] ** 2))
    return height * scale, mask


def height_normals(height: torch.Tensor) -> torch.Tensor:
    """(B, H, W) heights in pixels -> (B, H, W, 3) unit normals, project frame.

    x = column, y = -row, so ``n ~ (-dh/dcol, +dh/drow, 1)``.
    """
    dr, dc = torch.gradient(height, dim=(1, 2))
    n = torch.stack([-dc, dr, torch.ones_like(height)], dim=-1)
    return n / n.norm(dim=-1, keepdim=True)


def cast_shadows(height: torch.Tensor, lights: torch.Tensor, eps: float = 0.05,
                 max_steps: int = 32) -> torch.Tensor:
    """(B, H, W) bool: True where the height field blocks the path to the light.

    height : (B, H, W) pixels; lights : (B, 3) unit, project frame, one per image.
    Marches from every pixel toward its image's light one pixel per step (bilinear
    heights via ``grid_sample``), up to ``max_steps`` or until the ray clears the highest
    point; the batched twin of :func:`lambertian.synth.capture.cast_shadows`.
    """
    b, h, w = height.shape
    horiz = lights[:, :2].norm(dim=1).clamp_min(1e-6)
    slope = lights[:, 2] / horiz  # rise per pixel of horizontal travel (< 0: light below)
    dc, dr = lights[:, 0] / horiz, -lights[:, 1] / horiz
    rows = torch.arange(h, dtype=height.dtype)[:, None].expand(h, w)
    cols = torch.arange(w, dtype=height.dtype)[None, :].expand(h, w)
    span = float(height.max() - height.min())
    steps = int(min(max_steps, math.ceil(span / max(float(slope.clamp_min(1e-3).min()), 1e-3))
                    + 2))
    shadow = torch.zeros(b, h, w, dtype=torch.bool)
    src = height[:, None]
    for t in range(1, steps + 1):
        r = rows + t * dr[:, None, None]
        c = cols + t * dc[:, None, None]
        grid = torch.stack([2 * c / (w - 1) - 1, 2 * r / (h - 1) - 1], dim=-1)
        hs = F.grid_sample(src, grid, mode="bilinear", padding_mode="border",
                           align_corners=True)[:, 0]
        inside = (r >= 0) & (r <= h - 1) & (c >= 0) & (c <= w - 1)
        shadow |= inside & (hs > height + t * slope[:, None, None] + eps)
    # a light at the zenith casts no shadow on a height field
    return shadow & (horiz > 1e-5)[:, None, None]


def render_batch(batch_size: int, size: tuple[int, int] = (64, 64), seed: int = 0,
                 specular: bool = True, noise: bool = True,
                 norm: tuple[float, float | None] = (NORM_PERCENTILE, None),
                 albedo_contrast: float | None = None) -> LightBatch:
    """Render one seeded batch of synthetic images (see the module docstring).

    Parameters
    ----------
    batch_size : number of images B.
    size : (H, W) in pixels.
    seed : every random choice (shape, albedo, light, specular, noise) follows it.
    specular, noise : allow the Blinn-Phong lobe / additive and multiplicative noise.
    norm : (percentile, clip) of :func:`normalize_image`.
    albedo_contrast : None for the mild texture of the first corpus (albedo within
        +-40 % of its mean); else the largest log-ratio of the multiplicative texture.
    """
    g = torch.Generator().manual_seed(int(seed))
    b, (h, w) = batch_size, size
    height, mask = random_heights(b, h, w, g)
    normals = height_normals(height)
    light = sample_directions(b, g)
    intensity = uniform(b, 0.5, 1.5, g)
    ambient = uniform(b, 0.0, 0.35, g) * (torch.rand(b, generator=g) < 0.8).float()
    # Albedo texture: smooth noise mixed with Voronoi patches, random contrast.
    smooth = _smooth_noise(b, h, w, int(torch.randint(3, 9, (1,), generator=g)), g)
    seeds = torch.rand(b, 12, 2, generator=g) * torch.tensor([h, w])
    vals = torch.rand(b, 12, generator=g)
    rr, cc = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing="ij")
    d = (rr[None, None] - seeds[..., 0, None, None]) ** 2 \
        + (cc[None, None] - seeds[..., 1, None, None]) ** 2
    patches = torch.gather(vals[:, :, None, None].expand(-1, -1, h, w), 1,
                           d.argmin(1, keepdim=True))[:, 0]
    mix = torch.rand(b, 1, 1, generator=g)
    tex = mix * smooth + (1 - mix) * patches
    if albedo_contrast is None:
        contrast = uniform(b, 0.0, 0.8, g)[:, None, None]
        albedo = uniform(b, 0.3, 0.9, g)[:, None, None] * (1 + contrast * (tex - 0.5))
    else:
        # multiplicative texture: up to exp(albedo_contrast) between the darkest and the
        # brightest paint (real objects mix black and white paints: DiLiGenT reading)
        contrast = uniform(b, 0.0, albedo_contrast, g)[:, None, None]
        albedo = (uniform(b, 0.3, 0.9, g)[:, None, None]
                  * torch.exp(contrast * (tex - 0.5))).clamp_max(1.0)
    cosine = (normals * light[:, None, None, :]).sum(-1).clamp_min(0.0)
    lit = ~cast_shadows(height, light)
    img = albedo * (ambient[:, None, None] + intensity[:, None, None] * cosine * lit)
    if specular:
        half = light + torch.tensor([0.0, 0.0, 1.0])
        half = half / half.norm(dim=1, keepdim=True).clamp_min(1e-6)
        ndh = (normals * half[:, None, None, :]).sum(-1).clamp_min(0.0)
        ks = uniform(b, 0.0, 0.5, g) * (torch.rand(b, generator=g) < 0.5).float()
        shin = uniform(b, 10.0, 80.0, g)
        img = img + (ks * intensity)[:, None, None] * ndh ** shin[:, None, None] * lit * (
            cosine > 0)
    if noise:
        sigma = uniform(b, 0.0, 0.02, g)[:, None, None]
        img = img * (1 + 0.5 * sigma * torch.randn(img.shape, generator=g)) \
            + sigma * torch.randn(img.shape, generator=g)
    img = (img.clamp_min(0.0) * mask).float()[:, None]
    normed, scale = normalize_image(img, mask, *norm)
    mean_albedo = (albedo * mask).sum((1, 2)) / mask.sum((1, 2)).clamp_min(1)
    normals = normals * mask[..., None]
    return LightBatch(normed, light.float(), (mean_albedo * intensity / scale).float(),
                      (mean_albedo * ambient / scale).float(), normals.float(), mask)


class LightCorpus:
    """An endless, seeded stream of :class:`LightBatch` (batch ``i`` uses seed
    ``seed * 1_000_003 + i``, so any batch can be regenerated on its own)."""

    def __init__(self, batch_size: int = 64, size: tuple[int, int] = (64, 64),
                 seed: int = 0) -> None:
        self.batch_size, self.size, self.seed = batch_size, size, seed

    def batch(self, index: int) -> LightBatch:
        return render_batch(self.batch_size, self.size, self.seed * 1_000_003 + index)

    def __iter__(self):
        i = 0
        while True:
            yield self.batch(i)
            i += 1
