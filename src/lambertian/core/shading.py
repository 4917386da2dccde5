"""The Lambertian image-formation model used everywhere in the package.

    I(p, k) = albedo(p) * (ambient + intensity_k * max(0, n(p) . l_k))

Frame: x right, y up, z toward the camera; ``l_k`` points from the surface toward the
light (project frame, see :mod:`lambertian.core.frames`). The ``max(0, .)`` is the
attached shadow; cast shadows, speculars and noise are not part of this model. Every
function here is differentiable with PyTorch autograd (the clamp has the usual ReLU
subgradient), which the renderer, the fitters and the learned models rely on.
"""

from __future__ import annotations

import torch

from lambertian.core.tensors import ArrayLike, as_tensor


def lambertian_shading(normals: ArrayLike, directions: ArrayLike) -> torch.Tensor:
    """Clamped cosine ``max(0, n . l)`` for every light.

    Parameters
    ----------
    normals : (..., 3) unit normals, project frame.
    directions : (K, 3) unit light directions, project frame, toward the light.

    Returns
    -------
    (K, ...) tensor of shading values in [0, 1].
    """
    n = as_tensor(normals)
    d = as_tensor(directions, dtype=n.dtype, device=n.device)
    cos = torch.einsum("...c,kc->k...", n, d)
    return cos.clamp(min=0.0)


def render_lambertian(
    normals: ArrayLike,
    albedo: ArrayLike | float,
    directions: ArrayLike,
    intensities: ArrayLike | float = 1.0,
    ambient: ArrayLike | float = 0.0,
) -> torch.Tensor:
    """Render images of a Lambertian surface under directional lights plus ambient.

    Parameters
    ----------
    normals : (..., 3) unit normals (project frame). Pixels with zero normals render 0
        only if their albedo is 0; mask them yourself.
    albedo : (...,) grey or (..., C) colour albedo, or a scalar.
    directions : (K, 3) unit light directions toward the light.
    intensities : scalar, (K,) or (K, C) light intensities.
    ambient : scalar or (C,) ambient term (the same for every light).

    Returns
    -------
    (K, ..., C) images, C = 1 for grey albedo.

    References
    ----------
    J. H. Lambert, Photometria, 1760; the ambient + directional form is the Neural Mesh
    Renderer's lighting model (Kato, Ushiku, Harada, CVPR 2018).
    """
    n = as_tensor(normals)
    shading = lambertian_shading(n, directions)  # (K, ...)
    k = shading.shape[0]
    rho = as_tensor(albedo, dtype=n.dtype, device=n.device)
    if rho.dim() == n.dim() - 1:  # grey albedo of shape (...)
        rho = rho.unsqueeze(-1)
    elif rho.dim() == 0:
        rho = rho.reshape(*([1] * (n.dim() - 1)), 1)
    e = as_tensor(intensities, dtype=n.dtype, device=n.device)
    if e.dim() == 0:
        e = e.expand(k)
    e = e.reshape(k, *([1] * (n.dim() - 1)), -1)  # (K, 1..., C or 1)
    amb = as_tensor(ambient, dtype=n.dtype, device=n.device).reshape(-1)
    return rho * (amb + e * shading.unsqueeze(-1))
