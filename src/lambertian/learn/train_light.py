"""Training, evaluation, saving and loading of the single-image light regressors.

Recipes (all seeded; one CPU thread reproduces them bit for bit):

- ``objects``: :class:`~lambertian.learn.light_models.CNNRegressor` trained on the synthetic
  corpus of :mod:`lambertian.learn.light_data` (a pool of rendered images, each seen under
  the 8 flips/transposes of the image plane, which map the light exactly). This is also
  the pretrained backbone of the face model.
- ``faces``: the ``objects`` network, fine-tuned on Yale B subjects 01-22 with a fresh
  head (transfer learning, the seed's third model), horizontal flips as augmentation.
- ``mlp`` / ``cnn``: the seed's first two models trained from scratch on the same faces
  (reported beside the others; not shipped).

Weights files are plain dicts of tensors, strings and numbers (``torch.load(...,
weights_only=True)``): ``{"kind", "size", "config", "state_dict", "info"}``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lambertian.core.metrics import angular_error_deg
from lambertian.learn.light_data import render_batch
from lambertian.learn.light_models import LightOutput, build_model, light_loss

WEIGHTS = {"faces": "faces.pt", "objects": "objects.pt"}


@dataclass
class LightTrainConfig:
    """Settings of one training run."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    pool: int = 2048  # synthetic images rendered once, reused with the 8 symmetries
    size: tuple[int, int] = (48, 48)
    seed: int = 0


def dihedral(images: torch.Tensor, dirs: torch.Tensor, code: int
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one of the 8 symmetries of the square image plane to (B, 1, H, W) images
    and their (B, 3) light directions (project frame: x = column, y = -row).

    Bit 0 reverses the columns (x -> -x), bit 1 the rows (y -> -y), bit 2 transposes
    ((r, c) -> (c, r), so (x, y) -> (-y, -x); square images only).
    """
    d = dirs.clone()
    if code & 1:
        images, d[:, 0] = images.flip(-1), -d[:, 0]
    if code & 2:
        images, d[:, 1] = images.flip(-2), -d[:, 1]
    if code & 4:
        images = images.transpose(-1, -2)
        d = torch.stack([-d[:, 1], -d[:, 0], d[:, 2]], dim=1)
    return images, d


def synthetic_pool(n: int, size: tuple[int, int], seed: int, chunk: int = 256
                   ) -> dict[str, torch.Tensor]:
    """Render ``n`` synthetic images (seeded, in chunks) into memory."""
    parts = [render_batch(min(chunk, n - i), size, seed * 1_000_003 + i // chunk)
             for i in range(0, n, chunk)]
    return {"images": torch.cat([p.images for p in parts]),
            "direction": torch.cat([p.direction for p in parts]),
            "intensity": torch.cat([p.intensity for p in parts]),
            "ambient": torch.cat([p.ambient for p in parts])}


def _fit(model: nn.Module, data: dict[str, torch.Tensor], cfg: LightTrainConfig,
         augment: Callable[[torch.Tensor, torch.Tensor, torch.Generator],
                           tuple[torch.Tensor, torch.Tensor]],
         params: list[nn.Parameter] | None = None,
         log: Callable[[str], None] | None = print) -> list[float]:
    """Adam with cosine decay on ``data`` (dict of images, direction and optional
    intensity / ambient); returns the mean loss per epoch."""
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(params or list(model.parameters()), lr=cfg.lr,
                            weight_decay=cfg.weight_decay)
    n = len(data["images"])
    steps = cfg.epochs * max(1, n // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps,
                                                pct_start=0.1)
    history = []
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        total, count = 0.0, 0
        for i in range(n // cfg.batch_size):
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            x, d = augment(data["images"][idx], data["direction"][idx], g)
            out = model(x)
            loss, _ = light_loss(out, d, data["intensity"][idx] if "intensity" in data else None,
                                 data["ambient"][idx] if "ambient" in data else None)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, count = total + float(loss.detach()), count + 1
        history.append(total / max(count, 1))
        if log is not None:
            log(f"epoch {epoch + 1}/{cfg.epochs}: loss {history[-1]:.4f} "
                f"({time.perf_counter() - t0:.0f} s)")
    model.eval()
    return history


def _dihedral_augment(x: torch.Tensor, d: torch.Tensor, g: torch.Generator
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    # one symmetry per batch: cheap, and over an epoch every image sees several
    return dihedral(x, d, int(torch.randint(0, 8, (1,), generator=g)))


def _flip_augment(x: torch.Tensor, d: torch.Tensor, g: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    # faces are upright: only the left-right mirror maps a face onto a face
    flip = torch.rand(len(x), generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    d = d.clone()
    d[flip, 0] = -d[flip, 0]
    return x, d


def train_objects(cfg: LightTrainConfig | None = None, log: Callable[[str], None] | None = print
                  ) -> tuple[nn.Module, dict[str, Any]]:
    """The general-object model: a CNN trained on the synthetic corpus."""
    cfg = cfg or LightTrainConfig()
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    data = synthetic_pool(cfg.pool, cfg.size, cfg.seed)
    if log is not None:
        log(f"rendered {cfg.pool} synthetic images in {time.perf_counter() - t0:.0f} s")
    model = build_model("cnn")
    hist = _fit(model, data, cfg, _dihedral_augment, log=log)
    return model, {"loss": hist, "seconds": time.perf_counter() - t0, "config": asdict(cfg)}


def train_faces(kind: str, train: Any, cfg: LightTrainConfig | None = None,
                backbone: nn.Module | None = None, log: Callable[[str], None] | None = print
                ) -> tuple[nn.Module, dict[str, Any]]:
    """Train ``kind`` (``mlp``, ``cnn`` or ``pretrained``) on a
    :class:`~lambertian.learn.faces.FaceSet`. ``pretrained`` copies ``backbone``'s
    convolutional layers (a trained :class:`CNNRegressor`) under a fresh head and
    fine-tunes everything."""
    cfg = cfg or LightTrainConfig()
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = build_model(kind)
    if kind == "pretrained":
        if backbone is None:
            raise ValueError("the pretrained model needs a backbone")
        model.backbone.load_state_dict(backbone.backbone.state_dict())
    data = {"images": train.images, "direction": train.directions}
    hist = _fit(model, data, cfg, _flip_augment, log=log)
    return model, {"loss": hist, "seconds": time.perf_counter() - t0, "config": asdict(cfg)}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch: int = 256, mirror: bool = True
            ) -> LightOutput:
    """Run ``model`` (eval mode) on (N, 1, H, W) normalised images, in batches.

    With ``mirror`` the left-right mirrored image is also run and its answer mirrored
    back (``x -> -x``) and averaged in: the models were trained with that symmetry, and
    averaging the two cancels part of their error. kappa, intensity and ambient are
    averaged; the direction is the vMF-weighted mean ``(k1 mu1 + k2 mu2)``, normalised.
    """
    model.eval()

    def run(x: torch.Tensor) -> LightOutput:
        outs = [model(x[i:i + batch]) for i in range(0, len(x), batch)]
        return LightOutput(*(torch.cat([getattr(o, f) for o in outs])
                             for f in ("direction", "kappa", "intensity", "ambient")))

    out = run(images)
    if not mirror:
        return out
    flip = run(images.flip(-1))
    fd = flip.direction * torch.tensor([-1.0, 1.0, 1.0])
    d = out.kappa[:, None] * out.direction + flip.kappa[:, None] * fd
    return LightOutput(torch.nn.functional.normalize(d, dim=1), (out.kappa + flip.kappa) / 2,
                       (out.intensity + flip.intensity) / 2, (out.ambient + flip.ambient) / 2)


def direction_errors(model: nn.Module, images: torch.Tensor, directions: torch.Tensor,
                     mirror: bool = True) -> np.ndarray:
    """(N,) angular errors in degrees of ``model`` on labelled images."""
    return angular_error_deg(predict(model, images, mirror=mirror).direction.numpy(),
                             directions.numpy())


def save_model(path: str | os.PathLike[str], model: nn.Module, kind: str,
               size: tuple[int, int], info: dict[str, Any] | None = None) -> Path:
    """Write a weights file (see the module docstring); float32 tensors only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"kind": kind, "size": list(size),
                "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "info": info or {}}, path)
    return path


def load_model(path: str | os.PathLike[str]) -> tuple[nn.Module, tuple[int, int]]:
    """Load a weights file with ``weights_only=True``; returns the model (eval mode)
    and its input size (rows, cols)."""
    import pickle

    from lambertian.core.errors import InputError

    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(blob["kind"])
        model.load_state_dict(blob["state_dict"])
    except (OSError, RuntimeError, KeyError, ValueError, pickle.UnpicklingError) as err:
        raise InputError(path, f"not a light-model weights file ({err})") from None
    model.eval()
    return model, (int(blob["size"][0]), int(blob["size"][1]))


def shipped_weights(name: str) -> Path:
    """Path of a shipped weights file (``faces`` or ``objects``)."""
    if name not in WEIGHTS:
        raise ValueError(f"unknown model {name!r} (faces, objects)")
    return Path(str(resources.files("lambertian.learn") / "weights" / WEIGHTS[name]))


def prepare_for_model(image: np.ndarray, size: tuple[int, int],
                      mask: np.ndarray | None = None) -> tuple[torch.Tensor, float]:
    """Any (H, W) or (H, W, C) linear image -> (1, 1, rows, cols) model input and its
    normalisation scale.

    With a mask, the image is cropped to the mask's bounding box and zeroed outside it
    (objects on black, as in the synthetic corpus). The crop is padded with zeros to the
    model's aspect ratio (so shapes are not stretched), reduced by area averaging, and
    divided by its 99th percentile over the (mask) pixels.
    """
    import cv2

    from lambertian.learn.light_data import normalize_image

    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3:
        img = img[..., 0] if img.shape[-1] == 1 else img[..., :3] @ np.asarray(
            [0.2989, 0.5870, 0.1140], np.float32)
    m = np.ones(img.shape, bool) if mask is None else np.asarray(mask, bool)
    if m.any() and mask is not None:
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        img, m = img[sl] * m[sl], m[sl]
    h, w = img.shape
    target = size[0] / size[1]
    ph, pw = max(h, int(round(w * target))), max(w, int(round(h / target)))
    pad = np.zeros((ph, pw), np.float32)
    pm = np.zeros((ph, pw), np.float32)
    r0, c0 = (ph - h) // 2, (pw - w) // 2
    pad[r0:r0 + h, c0:c0 + w], pm[r0:r0 + h, c0:c0 + w] = img, m
    small = cv2.resize(pad, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    sm = cv2.resize(pm, (size[1], size[0]), interpolation=cv2.INTER_AREA) > 0.5
    x, scale = normalize_image(torch.from_numpy(small)[None, None],
                               torch.from_numpy(sm)[None] if sm.any() else None)
    return x, float(scale[0])


def estimate_light_learned(image: np.ndarray, model: str | os.PathLike[str] = "faces",
                           mask: np.ndarray | None = None) -> dict[str, Any]:
    """One image -> the light JSON of DESIGN.md from a learned model.

    Parameters
    ----------
    image : (H, W) or (H, W, C) linear image.
    model : ``"faces"``, ``"objects"`` (the shipped weights) or a weights file.
    mask : optional (H, W) bool object pixels.

    Returns
    -------
    dict with ``direction`` (unit, project frame), ``intensity`` and ``ambient`` (albedo-
    weighted, in image units), ``kappa`` (vMF concentration: small means do not trust
    it), ``uncertainty_deg`` (the expected angular error it implies) and ``model``.
    """
    from lambertian.learn.light_models import kappa_to_degrees

    path = shipped_weights(str(model)) if str(model) in WEIGHTS else Path(model)
    net, size = load_model(path)
    x, scale = prepare_for_model(image, size, mask)
    out = predict(net, x)
    kappa = float(out.kappa[0])
    return {"direction": [float(v) for v in out.direction[0]],
            "intensity": float(out.intensity[0]) * scale,
            "ambient": float(out.ambient[0]) * scale,
            "kappa": kappa, "uncertainty_deg": float(kappa_to_degrees(kappa)),
            "model": str(model)}
