"""Encoders of the Deep Lambertian spheres experiment and its fixed Lambertian decoder.

Both encoders map a sphere's K images and K light directions to 5 latent maps per
pixel: albedo logits (3) and a hemisphere code (2). :func:`latents_to_surface` turns
them into albedo ``sigmoid(z[:3])`` in [0, 1] and the unit normal
``n_xy = 0.985 tanh(z[3:5])``, ``n_z = sqrt(max(1 - |n_xy|^2, 1e-6))`` (the seed's
parametrisation: the shrink keeps ``n_z`` and its gradient finite at the equator).
The decoder is :func:`lambertian.core.shading.render_lambertian`, vectorised over spheres
with their own lights; training is reconstruction MSE through it, gradients by autograd.

Reference: Y. Tang, R. Salakhutdinov, G. Hinton, "Deep Lambertian Networks", ICML 2012.
"""

from __future__ import annotations

import torch
from torch import nn

from lambertian.core.shading import render_lambertian

HEMISPHERE_SHRINK = 0.985
LATENTS = 5


def latents_to_surface(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 5) latents -> albedo (..., 3) in [0, 1] and unit normals (..., 3), n_z > 0."""
    albedo = torch.sigmoid(z[..., :3])
    nxy = HEMISPHERE_SHRINK * torch.tanh(z[..., 3:5])
    nz = torch.sqrt((1.0 - (nxy * nxy).sum(-1, keepdim=True)).clamp_min(1e-6))
    return albedo, torch.cat([nxy, nz], dim=-1)


def surface_to_latents(albedo: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`latents_to_surface` (clamped into its range)."""
    a = albedo.clamp(1e-4, 1 - 1e-4)
    nxy = (normals[..., :2] / HEMISPHERE_SHRINK).clamp(-0.999, 0.999)
    return torch.cat([torch.logit(a), torch.atanh(nxy)], dim=-1)


def decode(albedo: torch.Tensor, normals: torch.Tensor, lights: torch.Tensor) -> torch.Tensor:
    """Render each item under its own lights: the fixed Lambertian decoder.

    albedo : (B, ..., 3); normals : (B, ..., 3) unit, project frame; lights : (B, K, 3).
    Returns (B, K, ..., 3) images ``albedo * max(0, n . l_k)``: exactly
    :func:`~lambertian.core.shading.render_lambertian` (unit intensity, no ambient) for
    each item, written as one einsum so that each item's own lights broadcast without a
    ``vmap`` (:func:`decode_reference`; tests/test_spheres.py checks the two agree).
    """
    shading = torch.einsum("b...c,bkc->bk...", normals, lights).clamp(min=0.0)
    return albedo.unsqueeze(1) * shading.unsqueeze(-1)


def decode_reference(albedo: torch.Tensor, normals: torch.Tensor, lights: torch.Tensor
                     ) -> torch.Tensor:
    """:func:`decode` through ``render_lambertian`` (vmapped): the slow reference."""
    return torch.func.vmap(render_lambertian)(normals, albedo, lights)


class PerPixelEncoder(nn.Module):
    """The seed's per-pixel encoder: ``6K -> hidden -> 5`` with one ReLU.

    Input per pixel: its K RGB observations then the K light directions (flattened).
    """

    def __init__(self, n_lights: int, hidden: int = 192) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6 * n_lights, hidden), nn.ReLU(),
                                 nn.Linear(hidden, LATENTS))

    def reset_he(self, seed: int) -> None:
        """He-normal weights ``N(0, 2 / fan_in)`` and zero biases, drawn from ``seed``.

        The usual initialisation of a hand-written NumPy ReLU network such as the seed's
        (which cannot use PyTorch's default ``U(+-1/sqrt(fan_in))`` with random biases);
        K. He et al., "Delving deep into rectifiers", ICCV 2015.
        """
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for m in self.net:
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0.0, (2.0 / m.in_features) ** 0.5, generator=g)
                    m.bias.zero_()

    def forward(self, obs: torch.Tensor, lights: torch.Tensor) -> torch.Tensor:
        """obs (B, K, 3), lights (B, K, 3) -> latents (B, 5)."""
        return self.net(torch.cat([obs.flatten(1), lights.flatten(1)], dim=1))


def _pooled_per_light(images, lights, w1, b1, w2, b2, keep: bool):
    """The forward of :class:`_PooledPerLight`: the pooled features, and with ``keep``
    the (arg max, ReLU outputs of every light) its backward needs.

    Without ``keep`` (inference) the two ReLU outputs of one light at a time are written
    into one buffer each instead of K (the same values: memory of the inference pass).
    """
    s, k, hh, ww, _ = images.shape
    fdim = w2.shape[0]
    # the ReLU outputs of every light, written in place (kept for the backward)
    n_buf = k if keep else 1
    hs = torch.empty(n_buf, s, hh, ww, fdim, dtype=images.dtype)
    fs = torch.empty(n_buf, s, hh, ww, fdim, dtype=images.dtype)
    light_part = lights @ w1[:, 3:].T + b1  # (S, K, F)
    total = best = arg = None
    for i in range(k):
        j = i if keep else 0
        # [I, l] W1^T = I W1[:, :3]^T + l W1[:, 3:]^T: the light's part once per sphere
        u1 = images[:, i] @ w1[:, :3].T + light_part[:, i, None, None, :]
        h = torch.clamp_min(u1, 0.0, out=hs[j])
        f = torch.clamp_min(torch.addmm(b2, h.reshape(-1, fdim), w2.T), 0.0,
                            out=fs[j].view(-1, fdim)).view(s, hh, ww, fdim)
        if total is None:
            # (a copy where the buffer is written again by the next light)
            total, best = f.clone(), (f if keep else f.clone())
            arg = torch.zeros(f.shape, dtype=torch.uint8) if keep else None
        else:
            total += f
            if keep:
                arg = torch.where(f > best, torch.full_like(arg, i), arg)
            best = torch.maximum(best, f)
    out = torch.cat([total / k, best], dim=-1)
    return out, ((arg, hs, fs) if keep else ())


class _PooledPerLight(torch.autograd.Function):
    """Per-light MLP ``relu(W2 relu(W1 [I_k, l_k] + b1) + b2)`` pooled over the lights
    (mean and max), one light at a time, with a hand-written backward.

    Autograd through the plain form keeps four (S, K, H, W, F) tensors for the backward
    and builds the (S, K, H, W, 6) input; here the two ReLU outputs are kept (when a
    gradient is wanted) with the (S, H, W, F) arg max of the max-pooling, and the light's
    part of the first layer is computed once per sphere. The gradient is the plain
    form's: the max pool's goes to its arg max.
    """

    @staticmethod
    def forward(ctx, images, lights, w1, b1, w2, b2):
        keep = any(ctx.needs_input_grad)
        out, saved = _pooled_per_light(images, lights, w1, b1, w2, b2, keep)
        if keep:
            ctx.save_for_backward(images, lights, w2, *saved)
        return out

    @staticmethod
    def backward(ctx, grad):
        images, lights, w2, arg, hs, fs = ctx.saved_tensors
        k = images.shape[1]
        fdim = w2.shape[0]
        g_mean = grad[..., :fdim] / k
        g_both = g_mean + grad[..., fdim:]
        gw1 = torch.zeros(fdim, 6, dtype=grad.dtype)
        gb1 = torch.zeros(fdim, dtype=grad.dtype)
        gw2 = torch.zeros_like(w2)
        gb2 = torch.zeros(fdim, dtype=grad.dtype)
        for i in range(k):
            img, light, h, f = images[:, i], lights[:, i], hs[i], fs[i]
            gu2 = torch.where(f > 0, torch.where(arg == i, g_both, g_mean), 0.0)
            gu2f, hf = gu2.reshape(-1, fdim), h.reshape(-1, fdim)
            gw2 += gu2f.T @ hf
            gb2 += gu2f.sum(0)
            gu1 = torch.where(h > 0, gu2 @ w2, 0.0)  # (S, H, W, F)
            gu1f = gu1.reshape(-1, fdim)
            gw1[:, :3] += gu1f.T @ img.reshape(-1, 3)
            gw1[:, 3:] += gu1.sum((1, 2)).T @ light
            gb1 += gu1f.sum(0)
        return None, None, gw1, gb1, gw2, gb2


class ConvEncoder(nn.Module):
    """Spatially coupled encoder, invariant to the order (and number) of the lights.

    Each light's image and direction go through the same per-pixel MLP; the features are
    pooled across lights (mean and max, as in PS-FCN, Chen et al., ECCV 2018), then a
    small stack of 3 x 3 convolutions lets neighbouring pixels vote on each other. The
    per-light MLP and its pooling run one light at a time (:class:`_PooledPerLight`).
    """

    def __init__(self, width: int = 32, depth: int = 3) -> None:
        super().__init__()
        self.per_light = nn.Sequential(nn.Linear(6, width), nn.ReLU(),
                                       nn.Linear(width, width), nn.ReLU())
        # in-place ReLUs: a convolution's backward needs its input, not its output
        layers: list[nn.Module] = [nn.Conv2d(2 * width, width, 3, padding=1),
                                   nn.ReLU(inplace=True)]
        for _ in range(depth - 1):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, LATENTS, 1))
        self.spatial = nn.Sequential(*layers)

    def pooled_reference(self, images: torch.Tensor, lights: torch.Tensor) -> torch.Tensor:
        """The pooled features through autograd on the (S, K, H, W, F) tensor (tests)."""
        s, k, h, w, _ = images.shape
        x = torch.cat([images, lights[:, :, None, None, :].expand(s, k, h, w, 3)], dim=-1)
        f = self.per_light(x)
        return torch.cat([f.mean(1), f.max(1).values], dim=-1)

    def forward(self, images: torch.Tensor, lights: torch.Tensor) -> torch.Tensor:
        """images (S, K, H, W, 3), lights (S, K, 3) -> latents (S, H, W, 5)."""
        l1, l2 = self.per_light[0], self.per_light[2]
        params = (l1.weight, l1.bias, l2.weight, l2.bias)
        if torch.is_grad_enabled() and any(p.requires_grad for p in params):
            pooled = _PooledPerLight.apply(images, lights, *params)
        else:  # inference: no per-light buffers kept (memory)
            with torch.no_grad():
                pooled = _pooled_per_light(images, lights, *params, keep=False)[0]
        return self.spatial(pooled.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
