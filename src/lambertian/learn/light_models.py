"""Single-image light regressors: an MLP on flattened pixels, a CNN, and a pretrained
backbone with a new head, all with the same output and losses.

Every model maps a batch of normalised grey images (B, 1, H, W) (see
:func:`lambertian.learn.light_data.normalize_image`) to a :class:`LightOutput`: a unit
direction (project frame, toward the light), a von Mises-Fisher concentration ``kappa``
as its uncertainty (the direction's angular spread is about ``1 / sqrt(kappa)`` radians,
so a small kappa tells a user not to trust it), and the albedo-weighted intensity and
ambient in normalised image units.

Losses (:func:`light_loss`): cosine ``1 - mu . l`` and MSE ``|mu - l|^2`` on unit vectors,
and the vMF negative log-likelihood that trains ``kappa``.
A network's own ``kappa`` ranks its errors poorly on faces it has not seen (Spearman 0.2);
:func:`spread_kappa` instead derives kappa from how far an ensemble's answers over
several test-time views disagree, with one temperature fitted on held-out subjects
(:func:`fit_spread_temperature`).

The three models follow the seed's recipe (a fully connected regressor on flattened
images, a CNN, and transfer learning from a pretrained backbone). The backbone here is
pretrained by this project on the synthetic corpus of :mod:`lambertian.learn.light_data`
(no weights are downloaded), then fine-tuned with a new head on real faces.

References: K. V. Mardia, P. E. Jupp, "Directional Statistics", 2000 (vMF); S. Prokudin,
P. Gehler, S. Nowozin, "Deep Directional Statistics", ECCV 2018 (vMF loss for networks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OUTPUTS = 6  # direction (3, unnormalised), kappa, intensity, ambient
KAPPA_MIN = 0.1


@dataclass
class LightOutput:
    """direction (B, 3) unit; kappa (B,) > 0; intensity, ambient (B,) >= 0."""

    direction: torch.Tensor
    kappa: torch.Tensor
    intensity: torch.Tensor
    ambient: torch.Tensor


def split_outputs(raw: torch.Tensor) -> LightOutput:
    """(B, 6) raw network outputs -> :class:`LightOutput`."""
    d = F.normalize(raw[:, :3], dim=1, eps=1e-6)
    return LightOutput(d, F.softplus(raw[:, 3]) + KAPPA_MIN, F.softplus(raw[:, 4]),
                       F.softplus(raw[:, 5]))


def coords(x: torch.Tensor) -> torch.Tensor:
    """Append x and y coordinate channels (project frame, in [-1, 1]) to (B, C, H, W):
    light direction is about *where* the bright side is, which plain convolutions with
    pooling struggle to encode (CoordConv, Liu et al., NeurIPS 2018)."""
    b, _, h, w = x.shape
    ys = torch.linspace(1, -1, h, dtype=x.dtype).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1, 1, w, dtype=x.dtype).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([x, xs, ys], dim=1)


class MLPRegressor(nn.Module):
    """The seed's fully connected regressor: flattened (resized) image -> 6 outputs."""

    def __init__(self, size: tuple[int, int] = (32, 28), hidden: int = 256) -> None:
        super().__init__()
        self.size = tuple(size)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(size[0] * size[1], hidden), nn.ReLU(),
                                 nn.Linear(hidden, 128), nn.ReLU(), nn.Linear(128, OUTPUTS))

    def forward(self, x: torch.Tensor) -> LightOutput:
        if tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="area")
        return split_outputs(self.net(x))


class Backbone(nn.Module):
    """Convolutional feature extractor: (B, 1, H, W) -> (B, 4 * width * 16) features.

    Four stride-2 conv blocks on the image plus coordinate channels, then adaptive
    average pooling to a 4 x 4 grid (so any input size works and the features keep the
    coarse layout of light and shade).
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
        self.convs = nn.Sequential(*layers)
        self.features = 4 * width * 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(self.convs(coords(x)), 4).flatten(1)


class CNNRegressor(nn.Module):
    """A CNN regressor: :class:`Backbone` then a small fully connected head.

    The same class serves as the seed's CNN (trained from scratch) and as the
    "pretrained backbone" model (backbone trained on the synthetic corpus, then loaded
    and fine-tuned with a fresh head; see :func:`lambertian.learn.train_light`).

    input_power : the network sees ``x ** input_power`` of its normalised input (1: the
    linear image). A power below 1 compresses the range, so the faint shading of images
    lit from behind (near-black once divided by their 99th percentile) is not lost in the
    lowest few grey levels; it is part of the model (saved in its weights file's config),
    so every caller keeps feeding linear normalised images.
    """

    def __init__(self, width: int = 16, hidden: int = 128, input_power: float = 1.0) -> None:
        super().__init__()
        self.input_power = float(input_power)
        self.backbone = Backbone(width)
        self.head = nn.Sequential(nn.Linear(self.backbone.features, hidden), nn.ReLU(),
                                  nn.Linear(hidden, OUTPUTS))

    def forward(self, x: torch.Tensor) -> LightOutput:
        if self.input_power != 1.0:
            x = x.clamp_min(0) ** self.input_power
        return split_outputs(self.head(self.backbone(x)))


class EnsembleRegressor(nn.Module):
    """Several :class:`CNNRegressor` trained from different seeds, answering as one.

    The direction is the vMF product of the members' answers (``sum kappa_i mu_i``,
    normalised: the maximum-likelihood mean of independent vMF estimates); ``kappa`` is
    the members' mean shrunk by their disagreement (``kappa * R``, ``R`` the mean
    resultant length of the member directions), so an ensemble that disagrees reports
    less confidence; intensity and ambient are averaged.

    Reference: B. Lakshminarayanan, A. Pritzel, C. Blundell, "Simple and scalable
    predictive uncertainty estimation using deep ensembles", NeurIPS 2017.
    """

    def __init__(self, members: int = 3, width: int = 16, hidden: int = 128,
                 input_power: float = 1.0) -> None:
        super().__init__()
        self.input_power = float(input_power)
        self.members = nn.ModuleList(CNNRegressor(width, hidden, input_power)
                                     for _ in range(members))

    def forward(self, x: torch.Tensor) -> LightOutput:
        outs = [m(x) for m in self.members]
        mean, kappa = combine_members(torch.stack([o.direction for o in outs]),
                                      torch.stack([o.kappa for o in outs]))
        return LightOutput(mean, kappa,
                           torch.stack([o.intensity for o in outs]).mean(0),
                           torch.stack([o.ambient for o in outs]).mean(0))


def combine_members(directions: torch.Tensor, kappa: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The :class:`EnsembleRegressor` rule on (M, ..., 3) unit member directions and their
    (M, ...) kappa: the vMF-weighted mean direction (..., 3) and the mean kappa times the
    members' mean resultant length (...)."""
    mean = F.normalize((kappa[..., None] * directions).sum(0), dim=-1, eps=1e-6)
    return mean, kappa.mean(0) * directions.mean(0).norm(dim=-1)


# Bounds of :func:`spread_kappa`: agreeing answers still leave the error of the whole
# family (the rig's light grid, the face's relief), so kappa is capped (1e4: ~0.7 deg).
KAPPA_MAX = 1e4


def spread_kappa(directions: torch.Tensor, temperature: float) -> torch.Tensor:
    """A vMF concentration from the spread of several answers for the same image.

    directions : (S, ..., 3) unit answers (ensemble members x test-time views);
    temperature : ``T`` fitted by maximum vMF likelihood on held-out errors
    (``experiments/light_faces_cv.py --calibrate``). Returns (...) kappa
    ``1 / (T (1 - R))``, ``R`` the mean resultant length of the answers: for a vMF,
    ``E[1 - mu . l] ~ 1 / kappa``, and ``1 - R`` is that same quantity for the answers
    around their mean, which ``T`` scales to the error around the truth (a deep-ensemble
    spread, Lakshminarayanan et al. 2017, with a temperature as in Guo et al., "On
    calibration of modern neural networks", ICML 2017).
    """
    spread = (1 - directions.mean(0).norm(dim=-1)).clamp_min(0)
    return (1 / (temperature * spread).clamp_min(1 / KAPPA_MAX)).clamp_min(KAPPA_MIN)


def build_model(kind: str, **kwargs: Any) -> nn.Module:
    """``"mlp"``: :class:`MLPRegressor`; ``"cnn"`` / ``"pretrained"``: :class:`CNNRegressor`;
    ``"ensemble"``: :class:`EnsembleRegressor` (``members=...``)."""
    if kind == "mlp":
        return MLPRegressor(**kwargs)
    if kind in ("cnn", "pretrained"):
        return CNNRegressor(**kwargs)
    if kind == "ensemble":
        return EnsembleRegressor(**kwargs)
    raise ValueError(f"unknown light model kind {kind!r} (mlp, cnn, pretrained, ensemble)")


def vmf_nll(direction: torch.Tensor, kappa: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) negative log-likelihood of unit ``target`` under vMF(``direction``, ``kappa``)
    on the 2-sphere: ``-log kappa + log(4 pi) + log sinh kappa - kappa mu . l``, with
    ``log sinh k = k + log(1 - exp(-2k)) - log 2`` for stability."""
    log_sinh = kappa + torch.log1p(-torch.exp(-2 * kappa).clamp_max(1 - 1e-6)) - math.log(2)
    return -torch.log(kappa) + math.log(4 * math.pi) + log_sinh - kappa * (direction * target
                                                                         ).sum(1)


def light_loss(out: LightOutput, direction: torch.Tensor,
               intensity: torch.Tensor | None = None, ambient: torch.Tensor | None = None,
               vmf_weight: float = 0.05, angle_weight: float = 0.0
               ) -> tuple[torch.Tensor, dict[str, float]]:
    """Cosine + MSE on the unit direction, plus ``vmf_weight`` x the vMF NLL (which alone
    trains kappa), plus MSE on intensity / ambient when labels are given, plus
    ``angle_weight`` x the angle itself in radians: cosine and MSE grow like the squared
    angle and so mostly chase the few large errors, while the reported metric is the
    mean angle.

    Returns the scalar loss and its parts as floats.
    """
    cos = (out.direction * direction).sum(1)
    parts = {"cosine": (1 - cos).mean(), "mse": ((out.direction - direction) ** 2).sum(1).mean()}
    if angle_weight:
        # acos has an infinite slope at 1: clamp just inside
        parts["angle"] = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6)).mean()
    # kappa only: the direction is trained by the cosine/MSE terms, which behave better
    # early on than a vMF NLL whose gradient scales with kappa.
    parts["vmf"] = vmf_nll(out.direction.detach(), out.kappa, direction).mean()
    loss = parts["cosine"] + parts["mse"] + vmf_weight * parts["vmf"]
    if angle_weight:
        loss = loss + angle_weight * parts["angle"]
    if intensity is not None:
        parts["intensity"] = F.mse_loss(out.intensity, intensity)
        loss = loss + 0.1 * parts["intensity"]
    if ambient is not None:
        parts["ambient"] = F.mse_loss(out.ambient, ambient)
        loss = loss + 0.1 * parts["ambient"]
    return loss, {k: float(v.detach()) for k, v in parts.items()}


def error_nll(kappa: torch.Tensor, errors_deg: torch.Tensor | np.ndarray) -> torch.Tensor:
    """(N,) vMF negative log-likelihood of angular errors (degrees) under concentrations
    ``kappa`` (N,): :func:`vmf_nll` of a target at the measured angle from the mean (only
    ``mu . l`` enters the likelihood)."""
    k = torch.as_tensor(kappa, dtype=torch.float64)
    cos = torch.cos(torch.deg2rad(torch.as_tensor(np.asarray(errors_deg), dtype=torch.float64)))
    mu = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64).expand(len(cos), 3)
    target = torch.stack([torch.sqrt((1 - cos * cos).clamp_min(0)), torch.zeros_like(cos),
                          cos], 1)
    return vmf_nll(mu, k, target)


def _fit_log_factor(nll: Any, bounds: tuple[float, float]) -> float:
    """``exp`` of the bounded 1-D minimiser (scipy) of ``nll(log factor)``."""
    from scipy.optimize import minimize_scalar

    return float(math.exp(minimize_scalar(nll, bounds=bounds, method="bounded",
                                          options={"xatol": 1e-6}).x))


def fit_spread_temperature(spread: torch.Tensor, errors_deg: torch.Tensor) -> float:
    """The temperature ``T`` of :func:`spread_kappa` that maximises the vMF likelihood of
    held-out errors: spread (N,) ``1 - R`` of each image's answers, errors_deg (N,) the
    angle between each combined answer and the true light. A 1-D bounded search over
    ``log T`` (scipy)."""
    s = torch.as_tensor(spread, dtype=torch.float64)

    def nll(log_t: float) -> float:
        kappa = (1 / (math.exp(log_t) * s).clamp_min(1 / KAPPA_MAX)).clamp_min(KAPPA_MIN)
        return float(error_nll(kappa, errors_deg).mean())

    return _fit_log_factor(nll, (-5.0, 10.0))


def fit_kappa_scale(kappa: torch.Tensor | np.ndarray, errors_deg: torch.Tensor | np.ndarray
                    ) -> float:
    """The factor ``s`` on a network's own concentrations that maximises the vMF likelihood
    of held-out errors: kappa (N,) as the network states them, errors_deg (N,) the angle
    between each answer and the true light. A scale keeps the ranking of the stated
    uncertainties and only corrects their size (temperature scaling, Guo et al., ICML
    2017). A 1-D bounded search over ``log s`` (scipy)."""
    k = torch.as_tensor(np.asarray(kappa), dtype=torch.float64)

    def nll(log_s: float) -> float:
        return float(error_nll((k * math.exp(log_s)).clamp(KAPPA_MIN, KAPPA_MAX),
                               errors_deg).mean())

    return _fit_log_factor(nll, (-5.0, 5.0))


def kappa_to_degrees(kappa: torch.Tensor | float) -> torch.Tensor:
    """Expected angular error (degrees) of a vMF with concentration ``kappa``: for large
    kappa the angle to the mean is Rayleigh with scale ``1 / sqrt(kappa)``, whose mean is
    ``sqrt(pi / 2) / sqrt(kappa)`` radians; a readable uncertainty for the light JSON."""
    k = torch.as_tensor(kappa, dtype=torch.float64)
    return torch.rad2deg(math.sqrt(math.pi / 2) / torch.sqrt(k))
