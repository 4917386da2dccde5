"""Deep Lambertian Network on real faces: albedo, normals and light from ONE image.

Tang et al.'s real experiment on Yale B: a prior over albedo and normal maps is learned
from training faces, and a single test image is explained by the Lambertian decoder
``I = albedo * (ambient + max(0, n . l))`` with the latent maps and the light inferred
under that prior. Here:

- Prior (learned on subjects 01-22 only): each training subject's albedo and normal maps
  from robust photometric stereo on its own images, mirrored (``x -> -x``, ``n_x -> -n_x``)
  to double the set, and modelled as a Gaussian in the span of their principal
  components (probabilistic PCA; the Gaussian, hidden-unit-free special case of the GRBM
  prior of the paper, which keeps inference a smooth optimisation). A small per-pixel
  residual, penalised for size and roughness, lets the inferred face leave that span.
- Inference (MAP, Adam through the fixed decoder, autograd): PCA coefficients, residuals,
  light direction and ambient, from the light regressor's estimate
  (:mod:`lambertian.learn.train_light`) as the starting light. Observations darker than
  :data:`SHADOW_LEVEL` are left out of the likelihood (cast shadows and the black of a
  face lit from behind carry no shading information).

  With ``fit_light=False`` the light stays at the regressor's estimate: on Yale B
  validation faces, refining it through the decoder moved it away from the truth (11.6
  against 6.3 degrees mean on every 4th image) and did not help the normals
  (benchmarks/dln_faces_eval.py).

Evaluation: the light against the file name, normals (and albedo, up to scale) against
photometric stereo on all of that subject's images.

Reference: Y. Tang, R. Salakhutdinov, G. Hinton, "Deep Lambertian Networks", ICML 2012;
M. Tipping, C. Bishop, "Probabilistic principal component analysis", JRSS B, 1999.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

SHADOW_LEVEL = 0.02  # normalised intensity below which a pixel is not used
DLN_SIZE = (48, 42)  # rows, cols: the crop reduced 4x


def downsample_normals(normals: np.ndarray, size: tuple[int, int] = DLN_SIZE) -> np.ndarray:
    """(H, W, 3) unit normals -> (rows, cols, 3) by area averaging, renormalised."""
    n = cv2.resize(normals.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return n / np.linalg.norm(n, axis=-1, keepdims=True).clip(1e-6)


def downsample(img: np.ndarray, size: tuple[int, int] = DLN_SIZE) -> np.ndarray:
    """(H, W) image -> (rows, cols) by area averaging."""
    return cv2.resize(img.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA)


def _encode(albedo: np.ndarray, normals: np.ndarray) -> np.ndarray:
    # surface vector: albedo, n_x, n_y per pixel (n_z follows from unit length, n_z > 0)
    return np.concatenate([albedo.ravel(), normals[..., 0].ravel(), normals[..., 1].ravel()])


@dataclass
class FacePrior:
    """Gaussian prior over (albedo, n_x, n_y) maps in a principal subspace.

    mean : (3 P,); basis : (M, 3 P) orthonormal rows; var : (M,) variances;
    size : (rows, cols). Albedo is normalised to mean 1 per face (the light intensity and
    the albedo scale cannot be told apart from one image).
    """

    mean: torch.Tensor
    basis: torch.Tensor
    var: torch.Tensor
    size: tuple[int, int]

    def surface(self, coef: torch.Tensor, residual: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """coef (M,), residual (3, rows, cols) -> albedo (rows, cols) >= 0 and unit normals
        (rows, cols, 3) with n_z > 0."""
        r, c = self.size
        v = (self.mean + coef @ self.basis).view(3, r, c) + residual
        albedo = v[0].clamp_min(0.0)
        nxy = v[1:].permute(1, 2, 0)
        scale = torch.clamp(nxy.norm(dim=-1, keepdim=True), min=0.985) / 0.985
        nxy = nxy / scale  # keep |n_xy| <= 0.985 so n_z stays finite
        nz = torch.sqrt((1 - (nxy ** 2).sum(-1, keepdim=True)).clamp_min(1e-6))
        return albedo, torch.cat([nxy, nz], dim=-1)


def fit_prior(albedos: list[np.ndarray], normals: list[np.ndarray],
              size: tuple[int, int] = DLN_SIZE, mirror: bool = True) -> FacePrior:
    """Learn :class:`FacePrior` from training faces' (H, W) albedo and (H, W, 3) normals
    (any resolution; reduced to ``size``)."""
    rows = []
    for a, n in zip(albedos, normals, strict=True):
        a_s, n_s = downsample(a, size), downsample_normals(n, size)
        a_s = a_s / max(float(a_s.mean()), 1e-6)
        rows.append(_encode(a_s, n_s))
        if mirror:
            nm = n_s[:, ::-1].copy()
            nm[..., 0] *= -1
            rows.append(_encode(a_s[:, ::-1], nm))
    X = np.asarray(rows, dtype=np.float64)
    mean = X.mean(0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    keep = s > 1e-6 * s[0]
    var = s[keep] ** 2 / max(len(X) - 1, 1)
    return FacePrior(torch.from_numpy(mean).float(), torch.from_numpy(vt[keep]).float(),
                     torch.from_numpy(var).float(), size)


@dataclass
class FaceInference:
    """albedo (rows, cols), normals (rows, cols, 3), light (3,) unit, ambient, loss."""

    albedo: np.ndarray
    normals: np.ndarray
    light: np.ndarray
    ambient: float
    intensity: float
    loss: float


def infer_face(image: np.ndarray, prior: FacePrior, light0: np.ndarray, *, steps: int = 300,
               lr: float = 0.05, residual_weight: float = 30.0, smooth_weight: float = 30.0,
               prior_weight: float = 1.0, fit_light: bool = True, seed: int = 0
               ) -> FaceInference:
    """MAP albedo, normals and light of one face image under ``prior``.

    Parameters
    ----------
    image : (rows, cols) linear grey image at the prior's size.
    prior : the learned :class:`FacePrior`.
    light0 : (3,) starting light direction (project frame), e.g. a regressor's estimate.
    steps, lr : Adam iterations and step size.
    residual_weight, smooth_weight : penalties on the off-subspace residual's size and
        its finite differences; prior_weight : weight of the Gaussian prior on the
        principal coefficients (``sum coef^2 / var``).
    fit_light : optimise the light direction too (else it stays at ``light0``).
    seed : fixes torch's generator (the optimisation itself is deterministic).

    Returns the :class:`FaceInference` (intensity is the scale absorbed into the albedo).
    """
    torch.manual_seed(seed)
    img = torch.as_tensor(np.asarray(image, np.float32))
    scale = torch.quantile(img.flatten(), 0.99).clamp_min(1e-4)
    img = img / scale
    use = (img > SHADOW_LEVEL).float()
    coef = torch.zeros(len(prior.var), requires_grad=True)
    residual = torch.zeros(3, *prior.size, requires_grad=True)
    light = torch.tensor(np.asarray(light0, np.float32), requires_grad=fit_light)
    log_int = torch.zeros((), requires_grad=True)
    amb = torch.full((), -3.0, requires_grad=True)
    opt = torch.optim.Adam([coef, residual, log_int, amb] + ([light] if fit_light else []),
                           lr=lr)
    npix = float(use.sum().clamp_min(1))
    for _ in range(steps):
        albedo, n = prior.surface(coef, residual)
        ldir = F.normalize(light, dim=0)
        shade = torch.exp(log_int) * (n @ ldir).clamp_min(0) + F.softplus(amb)
        fit = ((albedo * shade - img) ** 2 * use).sum() / npix
        reg = prior_weight * (coef ** 2 / prior.var).sum() / npix
        reg = reg + residual_weight * (residual ** 2).mean()
        reg = reg + smooth_weight * (((residual[:, 1:] - residual[:, :-1]) ** 2).mean()
                                     + ((residual[:, :, 1:] - residual[:, :, :-1]) ** 2).mean())
        loss = fit + reg
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        albedo, n = prior.surface(coef, residual)
        return FaceInference(albedo.numpy(), n.numpy(), F.normalize(light, dim=0).numpy(),
                             float(F.softplus(amb)), float(torch.exp(log_int) * scale),
                             float(loss))


def relight(albedo: np.ndarray, normals: np.ndarray, lights: np.ndarray) -> np.ndarray:
    """(K, rows, cols) Lambertian renders ``albedo * max(0, n . l_k)`` (no ambient)."""
    from lambertian.core.shading import render_lambertian

    out = render_lambertian(torch.from_numpy(normals.astype(np.float32)),
                            torch.from_numpy(albedo.astype(np.float32))[..., None],
                            torch.from_numpy(np.asarray(lights, np.float32)))
    return out[..., 0].numpy()


def relight_figure(path: str | os.PathLike[str], image: np.ndarray, inf: FaceInference,
                   lights: np.ndarray, real: np.ndarray | None = None) -> Path:
    """Save a PNG: the input, the inferred albedo and normals, then the face relit under
    ``lights`` (K, 3) (and, when given, the real (K, rows, cols) images under them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lambertian.core.frames import normal_to_rgb

    renders = relight(inf.albedo, inf.normals, lights)
    k = len(lights)
    rows = 2 if real is None else 3
    fig, axes = plt.subplots(rows, max(k, 3), figsize=(1.6 * max(k, 3), 1.9 * rows))
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(image, cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    axes[0, 1].imshow(inf.albedo, cmap="gray")
    axes[0, 1].set_title("albedo", fontsize=8)
    axes[0, 2].imshow(normal_to_rgb(inf.normals).clip(0, 1))
    axes[0, 2].set_title("normals", fontsize=8)
    for j in range(k):
        axes[1, j].imshow(renders[j], cmap="gray", vmin=0)
        axes[1, j].set_title(f"relit {j + 1}", fontsize=8)
        if real is not None:
            axes[2, j].imshow(real[j], cmap="gray", vmin=0)
            axes[2, j].set_title(f"real {j + 1}", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
