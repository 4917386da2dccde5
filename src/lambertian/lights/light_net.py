"""A learned prior on a whole set of light directions, and its use to fix the 3x3 ambiguity
of the rank-3 factorisation.

The network follows LCNet (Chen et al., "Self-calibrating deep photometric stereo
networks", CVPR 2019): a shared convolutional encoder maps each (image, mask) pair to a
feature vector, the features are max-pooled over all images of the object (a context that
tells the network what the object looks like under every light), and a per-image head
reads (own feature, context) and predicts that image's light direction and log relative
intensity. Unlike LCNet it regresses the unit vector (cosine loss) instead of classifying
azimuth/elevation bins: its answers are not used as they are but projected onto the
factorisation's family of light sets (:func:`network_guided_lights`), which needs a mean
direction, not a distribution.

Frame: project frame (x right, y up, z toward the camera; image row r -> y = -r); light
vectors point toward the light. Trained on synthetic renders only
(:mod:`lambertian.learn.uncalibrated_net`); the shipped weights live in
``lambertian/learn/weights/lights_uncalibrated.pt``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import least_squares
from torch import nn

from lambertian.core.errors import InputError

# Side of the square network input (the object's bounding box, padded to a square).
INPUT_SIZE = 64
# Percentile of all masked observations of the set that maps to 1 (one scale for the whole
# set keeps the relative intensities visible), and the cap on the result (highlights
# saturate instead of darkening the diffuse shading).
SET_PERCENTILE = 0.9
SET_CLIP = 2.0
WEIGHTS_NAME = "lights_uncalibrated.pt"


def _coords(b: int, h: int, w: int, dtype: torch.dtype) -> torch.Tensor:
    """(B, 2, H, W) x and y coordinate channels in [-1, 1], project frame (CoordConv)."""
    ys = torch.linspace(1, -1, h, dtype=dtype).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1, 1, w, dtype=dtype).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([xs, ys], 1)


class LightSetNet(nn.Module):
    """LCNet-like light estimator for a set of images of one object.

    forward(x) with x (B, K, 2, S, S) (normalised image, mask) returns directions
    (B, K, 3) unit and log relative intensities (B, K) (mean zero over the K images).
    """

    def __init__(self, width: int = 16, feat: int = 128, size: int = INPUT_SIZE) -> None:
        super().__init__()
        chans = [4, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.LeakyReLU(0.1),
                       nn.Conv2d(b, b, 3, padding=1), nn.LeakyReLU(0.1)]
        self.convs = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(4 * width * 16, feat), nn.LeakyReLU(0.1))
        self.head = nn.Sequential(nn.Linear(2 * feat, feat), nn.LeakyReLU(0.1),
                                  nn.Linear(feat, 4))
        self.config = {"width": width, "feat": feat, "size": size}  # size: input side
        with torch.no_grad():  # start from lights at the viewer, not from random ones
            self.head[-1].bias[2] += 2.0

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, k, c, h, w = x.shape
        flat = x.reshape(b * k, c, h, w)
        f = self.convs(torch.cat([flat, _coords(b * k, h, w, x.dtype)], 1))
        f = self.embed(F.adaptive_avg_pool2d(f, 4).flatten(1)).reshape(b, k, -1)
        ctx = f.max(dim=1, keepdim=True).values.expand_as(f)
        out = self.head(torch.cat([f, ctx], -1))
        d = F.normalize(out[..., :3], dim=-1, eps=1e-6)
        log_e = out[..., 3] - out[..., 3].mean(dim=1, keepdim=True)
        return d, log_e


def prepare_set(images: torch.Tensor, mask: torch.Tensor, size: int = INPUT_SIZE
                ) -> torch.Tensor:
    """Network input of one object.

    images : (K, H, W) linear grey; mask : (H, W) bool. The mask's bounding box is padded
    to a square (centred), resized to ``size`` (antialiased bilinear: rows and columns
    scale alike, so directions are unchanged), divided by the set's ``SET_PERCENTILE``
    over the mask and capped at ``SET_CLIP``. Returns (K, 2, size, size) float32.
    """
    rows = torch.nonzero(mask.any(1)).flatten()
    cols = torch.nonzero(mask.any(0)).flatten()
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    side = max(r1 - r0, c1 - c0)
    img = images[:, r0:r1, c0:c1].float() * mask[r0:r1, c0:c1]
    m = mask[r0:r1, c0:c1].float()
    pr, pc = side - (r1 - r0), side - (c1 - c0)
    pad = (pc // 2, pc - pc // 2, pr // 2, pr - pr // 2)
    x = torch.cat([F.pad(img, pad)[:, None], F.pad(m, pad)[None, None].expand(
        img.shape[0], 1, side, side)], 1)
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                      align_corners=False)
    vals = img[:, m > 0].flatten()
    if vals.numel() > 200_000:  # quantile's input limit; a strided subset is as good
        vals = vals[:: vals.numel() // 200_000 + 1]
    scale = torch.quantile(vals, SET_PERCENTILE).clamp_min(1e-6)
    x[:, 0] = (x[:, 0] / scale).clamp_max(SET_CLIP)
    x[:, 1] = (x[:, 1] > 0.5).float()
    return x


def weights_path() -> Path:
    """Location of the shipped weights (inside the installed package)."""
    return Path(str(resources.files("lambertian.learn") / "weights" / WEIGHTS_NAME))


def load_light_net(path: str | Path | None = None) -> LightSetNet:
    """The trained :class:`LightSetNet` (``weights_only`` load; eval mode)."""
    p = Path(path) if path is not None else weights_path()
    if not p.is_file():
        raise InputError(str(p), "light network weights not found (train them with "
                                 "benchmarks/train_uncalibrated_net.py)")
    blob = torch.load(p, map_location="cpu", weights_only=True)
    net = LightSetNet(**{k: int(v) for k, v in blob["config"].items()})
    net.load_state_dict(blob["state"])
    return net.eval()


def predict_lights(grey: np.ndarray, mask: np.ndarray, net: LightSetNet | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Light directions (K, 3) (project frame, unit) and relative intensities (K,) (mean 1)
    of K grey images (K, H, W) of one object inside ``mask`` (H, W), by the network."""
    net = net if net is not None else load_light_net()
    x = prepare_set(torch.from_numpy(np.asarray(grey, np.float32)),
                    torch.from_numpy(np.asarray(mask, bool)), net.config["size"])
    with torch.no_grad():
        d, log_e = net(x[None])
    e = torch.exp(log_e[0]).double().numpy()
    return d[0].double().numpy(), e / e.mean()


def network_guided_lights(S: np.ndarray, directions: np.ndarray,
                          intensities: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The member of the factorisation's light family closest to the network's lights.

    The factorisation ``I ~ E S^T`` fixes the lights up to one invertible 3x3 X
    (``L = S X``, pseudo-normals ``E X^-T``). X starts as the least-squares solution of
    ``S X = intensities * directions`` and is refined by minimising the robust (soft-L1)
    angle between ``unit(S X)`` and the network's directions: the factorisation keeps
    its precision (per-image noise of the network averages out over K images, 9 unknowns),
    the network only chooses the member.

    S : (K, 3); directions : (K, 3) unit; intensities : (K,) or None (all 1).
    Returns X (3, 3) and the (K,) angle residuals in degrees.
    """
    S = np.asarray(S, np.float64)
    d = np.asarray(directions, np.float64)
    e = np.ones(len(d)) if intensities is None else np.asarray(intensities, np.float64)
    X0, *_ = np.linalg.lstsq(S, d * e[:, None], rcond=None)
    scale = np.linalg.norm(S @ X0, axis=1).mean()
    X0 = X0 / scale

    def resid(x: np.ndarray) -> np.ndarray:
        v = S @ x.reshape(3, 3)
        v = v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-12)
        # chord between unit vectors (= 2 sin(angle / 2)), plus a gauge term on the scale
        r = (v - d).ravel()
        g = np.linalg.norm(S @ x.reshape(3, 3), axis=1).mean() - 1.0
        return np.concatenate([r, [g]])

    fit = least_squares(resid, X0.ravel(), loss="soft_l1", f_scale=0.05)
    X = fit.x.reshape(3, 3)
    v = S @ X
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    ang = np.degrees(np.arccos(np.clip(np.sum(v * d, axis=1), -1, 1)))
    return X, ang
