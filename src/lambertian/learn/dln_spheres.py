"""Training and evaluation of the Deep Lambertian spheres experiment.

Models (``model``): ``perpixel`` (the seed's reproduction: per-pixel MLP with He-normal
initialisation as in a NumPy script, SGD with momentum and cosine decay) and ``conv``
(light-order-invariant convolutional encoder, Adam). Both are trained only by
reconstruction MSE through the fixed Lambertian decoder: no ground-truth normal or
albedo is used for training. With ``prior="grbm"`` the trained
encoder's output is refined per pixel on the Lambertian likelihood (Levenberg-Marquardt),
then the latent maps are inferred under a Gaussian-RBM patch prior fitted to the surfaces
inferred the same way on training spheres (:mod:`lambertian.learn.dln_grbm`). On noisy
images (noise level estimated from the residual of a per-pixel fit, see
:class:`PriorConfig`) the refinement would fit the noise: the encoder is trained longer
and the prior's inference starts from its output instead.
Metrics follow the seed: normal angular error over the silhouette pixels of all test
spheres (mean, median), albedo MSE between each sphere's RGB albedo and the mean of the
predicted albedo over its silhouette, and the reconstruction MSE against the test images.

Reference: Y. Tang, R. Salakhutdinov, G. Hinton, "Deep Lambertian Networks", ICML 2012.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from lambertian.core.heap import trim_heap
from lambertian.core.metrics import albedo_mse, angular_error_deg
from lambertian.learn.dln_grbm import (
    GRBM,
    estimate_noise,
    infer_with_prior,
    interior_patches,
    refine_likelihood,
    surface_maps,
)
from lambertian.learn.dln_models import (
    ConvEncoder,
    PerPixelEncoder,
    decode,
    latents_to_surface,
)
from lambertian.learn.plain_optim import SGD, Adam
from lambertian.synth.spheres import SphereSet


@dataclass
class TrainConfig:
    """Settings of one training run (the seed's defaults for the per-pixel model)."""

    model: str = "conv"
    prior: str = "grbm"
    n_epochs: int | None = None  # None: the model's default (perpixel 120, conv 3)
    hidden: int = 192
    batch_size: int | None = None  # pixels (perpixel, 1024) or spheres (conv, 16)
    lr: float | None = None  # perpixel 0.02 (SGD), conv 3e-3 (Adam)
    momentum: float = 0.9
    lr_final: float = 0.05  # cosine decay of the learning rate from 1.0 to this factor
    # perpixel initialisation: "he" (He-normal, zero biases: what a NumPy script like the
    # seed's does) or "torch" (PyTorch's default, which lands 4 degrees better)
    init: str = "he"
    width: int = 32
    seed: int = 0
    eval_every: int = 1
    snapshot_every: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved(self) -> TrainConfig:
        c = TrainConfig(**asdict(self))
        per = self.model == "perpixel"
        c.n_epochs = self.n_epochs if self.n_epochs is not None else (120 if per else 3)
        c.batch_size = self.batch_size or (1024 if per else 16)
        c.lr = self.lr if self.lr is not None else (0.02 if per else 3e-3)
        return c


def cosine_factor(step: int, total: int, final: float) -> float:
    """Learning-rate factor decaying from 1 to ``final`` on a half cosine."""
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * step / max(total, 1)))


def masked_pixels(data: SphereSet, spheres: slice = slice(None)
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(S, P, K, 3) observations of the P silhouette pixels and (S, K, 3) lights, of the
    spheres ``spheres`` picks (all by default)."""
    obs = torch.from_numpy(np.ascontiguousarray(
        data.images[spheres][:, :, data.mask].transpose(0, 2, 1, 3)))
    return obs, torch.from_numpy(data.lights[spheres])


def evaluate(albedo: torch.Tensor, normals: torch.Tensor, data: SphereSet) -> dict[str, float]:
    """Seed metrics for (S, P, 3) albedo and normals on the silhouette pixels."""
    s = albedo.shape[0]
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, s, CHUNK):  # a few spheres at a time (the run's memory peak)
            obs, lights = masked_pixels(data, slice(i, i + CHUNK))
            recon = decode(albedo[i:i + CHUNK], normals[i:i + CHUNK], lights)  # (S, K, P, 3)
            total += float(((recon - obs.transpose(1, 2)) ** 2).sum())
            count += recon.numel()
    rmse = total / max(1, count)
    gt = np.broadcast_to(data.normals[data.mask], normals.shape)
    err = angular_error_deg(normals.detach().numpy(), gt)
    return {
        "normal_angular_error_deg_mean": float(err.mean()),
        "normal_angular_error_deg_median": float(np.median(err)),
        "albedo_mse": albedo_mse(albedo.detach().numpy().mean(axis=1), data.albedo),
        "recon_mse": rmse,
    }


# ---------------------------------------------------------------- per-pixel (the seed)

def _perpixel_surface(net: PerPixelEncoder, obs: torch.Tensor, lights: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    s, p, k, _ = obs.shape
    lp = lights[:, None].expand(s, p, k, 3)
    with torch.no_grad():
        z = net(obs.reshape(-1, k, 3), lp.reshape(-1, k, 3))
    a, n = latents_to_surface(z)
    return a.reshape(s, p, 3), n.reshape(s, p, 3)


def train_perpixel(cfg: TrainConfig, train: SphereSet, test: SphereSet,
                   log: Callable[[str], None] = print,
                   snapshot: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None
                   ) -> tuple[Callable[[SphereSet], tuple[torch.Tensor, torch.Tensor]],
                              list[dict]]:
    """The seed's model: per-pixel MLP, minibatch SGD with momentum, cosine decay."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    obs, lights = masked_pixels(train)
    s, p, k, _ = obs.shape
    X = obs.reshape(-1, k, 3)
    LX = lights[:, None].expand(s, p, k, 3).reshape(-1, k, 3)
    net = PerPixelEncoder(k, cfg.hidden)
    if cfg.init == "he":
        net.reset_he(cfg.seed)
    elif cfg.init != "torch":
        raise ValueError(f"unknown init {cfg.init!r}")
    opt = SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    steps_per_epoch = math.ceil(X.shape[0] / cfg.batch_size)
    total = cfg.n_epochs * steps_per_epoch
    history: list[dict] = []
    test_obs, test_lights = masked_pixels(test)
    step = 0
    for epoch in range(1, cfg.n_epochs + 1):
        perm = torch.randperm(X.shape[0], generator=gen)
        running = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            for g in opt.param_groups:
                g["lr"] = cfg.lr * cosine_factor(step, total, cfg.lr_final)
            a, n = latents_to_surface(net(X[idx], LX[idx]))
            loss = ((decode(a[:, None], n[:, None], LX[idx])[:, :, 0] - X[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += float(loss.detach()) * idx.numel()
            step += 1
        if epoch % cfg.eval_every == 0 or epoch == cfg.n_epochs:
            a, n = _perpixel_surface(net, test_obs, test_lights)
            m = evaluate(a, n, test)
            history.append({"epoch": epoch, "train_recon_mse": running / X.shape[0], **m})
            log(f"epoch {epoch:3d}  train recon {running / X.shape[0]:.5f}  "
                f"test angle {m['normal_angular_error_deg_mean']:.2f} deg  "
                f"albedo mse {m['albedo_mse']:.4f}")
        if snapshot and cfg.snapshot_every and epoch % cfg.snapshot_every == 0:
            snapshot(epoch, *_perpixel_surface(net, test_obs, test_lights))

    def infer(data: SphereSet) -> tuple[torch.Tensor, torch.Tensor]:
        return _perpixel_surface(net, *masked_pixels(data))

    return infer, history


# ---------------------------------------------------------------- convolutional encoder

def _conv_latents(net: ConvEncoder, data: SphereSet, batch: int = 4) -> torch.Tensor:
    images, lights = torch.from_numpy(data.images), torch.from_numpy(data.lights)
    with torch.no_grad():
        return torch.cat([net(images[i:i + batch], lights[i:i + batch])
                          for i in range(0, images.shape[0], batch)])


def _on_mask(z: torch.Tensor, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return latents_to_surface(z[:, torch.from_numpy(mask)])


MICRO_BATCH = 2  # spheres per forward/backward pass of the conv encoder (memory)
CHUNK = 8  # spheres per block of the per-sphere inference and closed forms (memory)


class SilhouetteImages:
    """(S, K, H, W, 3) images whose background is exactly zero, held as their (S, K, P, 3)
    silhouette pixels: about half the memory of the spheres' training images (524 of
    1024 pixels at 32 px). Indexing gives back the full float32 images, bit for bit.
    """

    def __init__(self, images: np.ndarray, mask: np.ndarray) -> None:
        self.shape = images.shape
        self.mask = torch.from_numpy(mask)
        s, k, p = images.shape[0], images.shape[1], int(mask.sum())
        self.pixels = torch.empty(s, k, p, 3, dtype=torch.float32)
        for i in range(s):  # a sphere at a time (numpy's masked copy of the whole set
            self.pixels[i] = torch.from_numpy(images[i][:, mask])  # held it twice)

    @staticmethod
    def holds(images: np.ndarray, mask: np.ndarray) -> bool:
        """Whether every pixel of ``images`` outside ``mask`` is +0.0 (checked bit for
        bit, a sphere at a time): noisy images are not."""
        if images.dtype != np.float32:
            return False
        outside = ~mask
        return not any(images[i][:, outside].view(np.uint32).any()
                       for i in range(images.shape[0]))

    def __getitem__(self, idx) -> torch.Tensor:
        px = self.pixels[idx]
        out = px.new_zeros(*px.shape[:2], *self.shape[2:])
        out[:, :, self.mask] = px
        return out


def train_conv(cfg: TrainConfig, train: SphereSet, test: SphereSet,
               log: Callable[[str], None] = print,
               snapshot: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
               images: SilhouetteImages | None = None) -> tuple[ConvEncoder, list[dict]]:
    """Light-order-invariant convolutional encoder, Adam with cosine decay.

    ``images``: the training images in their compact form, read instead of
    ``train.images`` (the same values)."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    net = ConvEncoder(cfg.width)
    if images is None:
        images = torch.from_numpy(train.images)
    lights = torch.from_numpy(train.lights)
    mask = torch.from_numpy(train.mask)
    opt = Adam(net.parameters(), lr=cfg.lr)
    s = images.shape[0]
    steps_per_epoch = math.ceil(s / cfg.batch_size)
    total = cfg.n_epochs * steps_per_epoch
    history: list[dict] = []
    step = 0
    for epoch in range(1, cfg.n_epochs + 1):
        perm = torch.randperm(s, generator=gen)
        running = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            for g in opt.param_groups:
                g["lr"] = cfg.lr * cosine_factor(step, total, cfg.lr_final)
            opt.zero_grad()
            loss = 0.0
            # the batch's mean loss, accumulated over micro-batches of MICRO_BATCH spheres
            # (the same gradient; the activations of a quarter of the batch in memory)
            for part in idx.split(MICRO_BATCH):
                batch = images[part]
                a, n = latents_to_surface(net(batch, lights[part])[:, mask])
                sq = ((decode(a, n, lights[part]) - batch[:, :, mask]) ** 2)
                part_loss = sq.sum() / (sq[0].numel() * idx.numel())
                part_loss.backward()
                loss += float(part_loss.detach())
            opt.step()
            running += loss * idx.numel()
            step += 1
        if epoch % cfg.eval_every == 0 or epoch == cfg.n_epochs:
            m = evaluate(*_on_mask(_conv_latents(net, test), test.mask), test)
            history.append({"epoch": epoch, "train_recon_mse": running / s, **m})
            log(f"epoch {epoch:3d}  train recon {running / s:.5f}  "
                f"test angle {m['normal_angular_error_deg_mean']:.2f} deg  "
                f"albedo mse {m['albedo_mse']:.4f}")
        if snapshot and cfg.snapshot_every and epoch % cfg.snapshot_every == 0:
            snapshot(epoch, *_on_mask(_conv_latents(net, test), test.mask))
    return net, history


# ---------------------------------------------------------------- baselines and runs

def closed_form_baselines(data: SphereSet, shared_albedo: bool = False
                          ) -> dict[str, dict[str, float]]:
    """Least squares (all observations) and shadow-aware least squares on ``data``.

    The shadow-aware solver (:func:`lambertian.ps.shadow_aware.solve_shadow_aware`, in
    its grouped form :func:`~lambertian.ps.shadow_aware.solve_shadow_aware_groups`) is
    the per-pixel maximum-likelihood fit under the experiment's Gaussian noise (its
    sigma is a known parameter of the experiment): every lit set, all three colour
    channels jointly (one normal, one albedo per channel). ``shared_albedo`` adds
    :func:`~lambertian.ps.shadow_aware.shadow_aware_shared_albedo`, which also uses
    this benchmark's known structure (one albedo per sphere).
    """
    from lambertian.ps.least_squares import albedo_from_normals
    from lambertian.ps.shadow_aware import solve_shadow_aware_groups

    s, k, p = len(data.images), data.lights.shape[1], int(data.mask.sum())
    Ls = torch.from_numpy(data.lights).double()  # (S, K, 3)
    blocks = range(0, s, CHUNK)  # a few spheres at a time: bounded memory

    def o_block(i: int) -> torch.Tensor:  # (CHUNK, P, K, 3) in float64, one block at a time
        return masked_pixels(data, slice(i, i + CHUNK))[0].double()  # (not every sphere's)

    out = {}
    t0 = time.perf_counter()
    ls_n, ls_a = [], []
    for i in blocks:
        ob, Lb = o_block(i), Ls[i:i + CHUNK]
        # every pixel of a sphere shares the sphere's lights: one solve per sphere
        g = torch.linalg.lstsq(Lb, ob.mean(-1).transpose(1, 2)).solution.transpose(1, 2)
        nb = torch.nn.functional.normalize(g, dim=-1)  # (S, P, 3)
        ls_n.append(nb)
        ls_a.append(albedo_from_normals(ob.reshape(-1, k, 3),
                                        (nb @ Lb.transpose(1, 2)).reshape(-1, k)
                                        ).reshape(-1, p, 3))
    out["least_squares"] = {**evaluate(torch.cat(ls_a).float(), torch.cat(ls_n).float(), data),
                            "seconds": time.perf_counter() - t0}
    t0 = time.perf_counter()
    sigma = data.noise if data.noise > 0 else None
    # the grouped form of the solver
    parts = [solve_shadow_aware_groups(o_block(i), Ls[i:i + CHUNK], sigma=sigma)
             for i in blocks]
    n, a = torch.cat([q[0] for q in parts]), torch.cat([q[1] for q in parts])
    out["shadow_aware"] = {**evaluate(a.float(), n.float(), data),
                           "seconds": time.perf_counter() - t0, "sigma": data.noise}
    if shared_albedo:
        from lambertian.ps.shadow_aware import shadow_aware_shared_albedo

        t0 = time.perf_counter()
        obs, lights = masked_pixels(data)
        n, a = shadow_aware_shared_albedo(obs.double(), lights.double(), sigma)
        out["shadow_aware_shared_albedo"] = {
            **evaluate(a.float()[:, None].expand(s, p, 3), n.float(), data),
            "seconds": time.perf_counter() - t0, "sigma": data.noise}
    return out


@dataclass
class PriorConfig:
    """GRBM prior and MAP inference settings (used with ``prior="grbm"``).

    Inference is in two stages from the encoder's latents: ``refine_iterations``
    Levenberg-Marquardt iterations on the likelihood alone, per pixel
    (:func:`~lambertian.learn.dln_grbm.refine_likelihood`), then ``steps`` Adam steps on
    the likelihood plus the prior, the learning rate decaying from ``lr`` to
    ``lr * lr_final``. The GRBM is fitted to the surfaces inferred the same way (encoder,
    then the likelihood refinement; no ground truth) on the first ``cd_spheres`` training
    spheres, which hold more than ``cd_samples`` interior patches.

    That recipe is for clean images: on noisy ones the per-pixel refinement fits the
    noise and the short prior stage cannot smooth it away. The noise level is estimated
    from the training images (:func:`~lambertian.learn.dln_grbm.estimate_noise`, the
    residual of a per-pixel fit; the true sigma is never read), and above
    ``noisy_above`` the ``noisy_*`` recipe replaces it: a longer-trained encoder, no
    likelihood refinement (the GRBM then fits the encoder's own surfaces), and longer
    MAP inference from the encoder's output.
    """

    hidden: int = 64
    cd_epochs: int = 3
    cd_samples: int = 20_000
    cd_spheres: int = 64
    cd_refined: bool = True  # fit the GRBM to refined surfaces (False: the encoder's)
    # All chosen on a validation set (seed 20000, not the test set), see docs/results.md;
    # the weight with the previous inference (150 Adam steps from the encoder's output).
    weight: float = 0.03
    refine_iterations: int = 20
    steps: int = 60
    lr: float = 0.01
    lr_final: float = 0.0
    sigma_floor: float = 0.01  # likelihood noise level used on noise-free images
    # The recipe for noisy images (estimated sigma above noisy_above; None: never switch):
    # the previous default's. Validation (seed 20000), clean / noisy recipe, mean error
    # (deg) at sigma 0 / 0.01 / 0.02 / 0.05 / 0.1: 0.94 / 2.02 / 2.90 / 5.38 / - against
    # 1.20 (the previous default) / 1.69 / 1.95 / 3.03 / 3.66; the switch goes between 0
    # and 0.01. Fewer encoder epochs for noisy images lose (sigma 0.05: 3 / 6 / 10 / 15
    # epochs 6.72 / 5.49 / 3.82 / 3.03), and so does starting the prior from the refined
    # latents (7.01 at 3 epochs).
    noisy_above: float | None = 0.005
    noisy_epochs: int = 15  # encoder epochs, unless TrainConfig.n_epochs is given
    noisy_refine_iterations: int = 0
    noisy_steps: int = 150
    noisy_lr: float = 0.05
    noisy_lr_final: float = 1.0

    def for_noise(self, sigma: float) -> PriorConfig:
        """The recipe used on images of estimated noise level ``sigma``."""
        if self.noisy_above is None or sigma <= self.noisy_above:
            return self
        return replace(self, refine_iterations=self.noisy_refine_iterations,
                       steps=self.noisy_steps, lr=self.noisy_lr,
                       lr_final=self.noisy_lr_final)


NOISE_SPHERES = 8  # spheres whose per-pixel fit residual estimates the noise level


def _noise_level(data: SphereSet) -> float:
    obs, lights = masked_pixels(_subset(data, NOISE_SPHERES))
    return estimate_noise(obs, lights)


def _refine(z: torch.Tensor, data: SphereSet, iterations: int) -> torch.Tensor:
    """(S, H, W, 5) latents with the mask's pixels refined on the likelihood alone."""
    if iterations <= 0:
        return z
    mask = torch.from_numpy(data.mask)
    obs = torch.from_numpy(data.images)[:, :, mask].transpose(1, 2)  # (S, P, K, 3)
    lights = torch.from_numpy(data.lights)
    out = z.clone()
    for i in range(0, z.shape[0], CHUNK):  # pixels are independent: bounded memory
        sl = slice(i, i + CHUNK)
        out[sl, mask] = refine_likelihood(z[sl][:, mask], obs[sl], lights[sl], iterations)
    return out


def _prior_patches(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The interior 3 x 3 patches of the surfaces of (S, H, W, 5) latents ``z``, written
    CHUNK spheres at a time into one tensor (``torch.cat`` of the blocks would hold the
    patches twice: the GRBM fit's memory peak)."""
    out = None
    for i in range(0, z.shape[0], CHUNK):
        part = interior_patches(surface_maps(z[i:i + CHUNK]), mask)
        if out is None:  # every sphere has the same number of patches (one mask)
            per = part.shape[0] // min(CHUNK, z.shape[0])
            out = torch.empty(per * z.shape[0], part.shape[1], dtype=part.dtype)
        out[i * per:i * per + part.shape[0]] = part
    return out


def _subset(data: SphereSet, n: int) -> SphereSet:
    return replace(data, images=data.images[:n], lights=data.lights[:n],
                   albedo=data.albedo[:n])


def run_spheres(cfg: TrainConfig, train: SphereSet, test: SphereSet,
                prior_cfg: PriorConfig | None = None, log: Callable[[str], None] = print,
                snapshot: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
                release_train: bool = False) -> dict[str, Any]:
    """Train ``cfg.model`` (and the prior), evaluate on ``test``, return the results.

    ``release_train``: ``train.images`` is replaced by an empty array so that their
    memory is freed (peak memory of a caller that does not use them afterwards): once
    they are no longer needed (before the test set's inference), and, where their
    background is exactly zero (noise-free images), from the start, the conv encoder
    then reading them from their silhouette pixels (:class:`SilhouetteImages`).

    The returned dict holds ``history`` (per-epoch metrics on the test set),
    ``final_test`` (the seed's metric names), ``train_seconds`` (wall-clock of training
    and inference, data generation excluded), ``encoder_only`` when a prior is used, the
    test-set ``albedo`` and ``normals`` predictions (S, P, 3) as tensors, and ``model``.
    """
    prior_cfg = prior_cfg or PriorConfig()
    t0 = time.perf_counter()
    result: dict[str, Any] = {}
    store = None
    if (release_train and cfg.model == "conv"
            and SilhouetteImages.holds(train.images, train.mask)):
        # noise-free training images: held as their silhouette pixels (memory)
        store = SilhouetteImages(train.images, train.mask)
        train.images = np.empty((0, *train.images.shape[1:]), train.images.dtype)
    if cfg.model == "conv" and cfg.prior == "grbm":
        # the recipe follows the training images' estimated noise level
        sigma_train = _noise_level(train if store is None else
                                   replace(train, images=store[:NOISE_SPHERES].numpy()))
        recipe = prior_cfg.for_noise(sigma_train)
        noisy = recipe is not prior_cfg
        if noisy and cfg.n_epochs is None:
            cfg = replace(cfg, n_epochs=prior_cfg.noisy_epochs)
        prior_cfg = recipe
        result["noise_estimate"] = {"train": sigma_train, "noisy_recipe": noisy}
        log(f"estimated noise sigma {sigma_train:.4f}: the "
            f"{'noisy' if noisy else 'clean'}-image recipe")
    cfg = cfg.resolved()
    if cfg.model == "perpixel":
        infer, history = train_perpixel(cfg, train, test, log, snapshot)
        if cfg.prior != "none":
            raise ValueError("the GRBM prior works on latent maps: use --model conv")
        albedo, normals = infer(test)
    elif cfg.model == "conv":
        net, history = train_conv(cfg, train, test, log, snapshot, images=store)
        if cfg.prior == "grbm":
            # the prior's training surfaces first: the last use of the training images,
            # which release_train then frees before the test set's inference (memory)
            sub = _subset(train, prior_cfg.cd_spheres)
            if store is not None:  # the rest of the set freed before its images are built
                store.pixels = store.pixels[:prior_cfg.cd_spheres].clone()
                sub = replace(sub, images=store[:prior_cfg.cd_spheres].numpy())
        store = None  # the compact training images: not read below
        if cfg.prior == "grbm":
            zs = _conv_latents(net, sub)
            if prior_cfg.cd_refined:
                zs = _refine(zs, sub, prior_cfg.refine_iterations)
            del sub  # a view of the training images
            if release_train:
                train.images = np.empty((0, *train.images.shape[1:]), train.images.dtype)
                trim_heap()
        z = _conv_latents(net, test)
        albedo, normals = _on_mask(z, test.mask)
        if cfg.prior == "grbm":
            result["encoder_only"] = evaluate(albedo, normals, test)
            mask = torch.from_numpy(train.mask)
            z = _refine(z, test, prior_cfg.refine_iterations)
            result["likelihood_refined"] = evaluate(*_on_mask(z, test.mask), test)
            grbm = GRBM(6 * 9, prior_cfg.hidden, seed=cfg.seed)
            # the patches passed without a name here: fit's subsample frees them (memory)
            cd = grbm.fit(_prior_patches(zs, mask), epochs=prior_cfg.cd_epochs,
                          max_samples=prior_cfg.cd_samples)
            del zs
            if release_train:
                trim_heap()
            log(f"GRBM: {prior_cfg.cd_epochs} CD-1 epochs, reconstruction {cd[-1]:.4f}")
            # the likelihood's noise level: estimated on the images inferred
            sigma = _noise_level(test)
            result["noise_estimate"]["test"] = sigma
            z = infer_with_prior(z, torch.from_numpy(test.images),
                                 torch.from_numpy(test.lights), mask, grbm,
                                 max(sigma, prior_cfg.sigma_floor), prior_cfg.weight,
                                 prior_cfg.steps, prior_cfg.lr, prior_cfg.lr_final,
                                 chunk=CHUNK)
            if release_train:
                trim_heap()
            albedo, normals = _on_mask(z, test.mask)
            result["prior"] = asdict(prior_cfg)
        elif cfg.prior != "none":
            raise ValueError(f"unknown prior {cfg.prior!r}")
    else:
        raise ValueError(f"unknown model {cfg.model!r}")
    result["train_seconds"] = time.perf_counter() - t0
    result["final_test"] = evaluate(albedo, normals, test)
    result["history"] = history
    result["albedo"], result["normals"] = albedo, normals
    result["config"] = asdict(cfg)
    return result
