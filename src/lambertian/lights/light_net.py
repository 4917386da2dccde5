"""A learned prior on a whole set of light directions, and its use to fix the 3x3 ambiguity
of the rank-3 factorisation.

The network follows LCNet (Chen et al., "Self-calibrating deep photometric stereo
networks", CVPR 2019): a shared convolutional encoder maps each image (normalised by the
set, normalised per pixel, and its mask) to a feature vector, the features are max-pooled
over all images of the object (a context that tells the network what the object looks like
under every light), and a per-image head reads (own feature, context) and classifies that
image's light into azimuth and polar-angle bins (a regressor trained on the same data pulls
its answers toward the mean light, the viewing axis), plus a log relative intensity. The
direction is the soft-argmax of the bins (:func:`decode_bins`); it is not used as it is
but projected onto the factorisation's family of light sets (:func:`network_guided_lights`).

Frame: project frame (x right, y up, z toward the camera; image row r -> y = -r); light
vectors point toward the light. Trained on synthetic renders only
(:mod:`lambertian.learn.uncalibrated_net`); the shipped weights live in
``lambertian/learn/weights/lights_uncalibrated.pt``.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import least_squares
from torch import nn

from lambertian.core.errors import InputError

# Side of the square network input (the object's bounding box, padded to a square).
INPUT_SIZE = 32
# Percentile of all masked observations of the set that maps to 1 (one scale for the whole
# set keeps the relative intensities visible), and the cap on the result (highlights
# saturate instead of darkening the diffuse shading).
SET_PERCENTILE = 0.9
SET_CLIP = 2.0
# Second channel: each pixel divided by its median over the K images (plus this floor, in
# units of the set scale), which removes the albedo (DiLiGenT reading's dark letters), as
# the per-pixel normalisation of Chen et al.'s PS-FCN / SDPS-Net inputs; capped at PIX_CLIP.
PIX_FLOOR = 0.02
PIX_CLIP = 5.0
# Light direction bins (LCNet's discretisation): azimuth over the full circle and the
# polar angle from the viewing axis over the front hemisphere.
AZ_BINS = 36
EL_BINS = 18
WEIGHTS_NAME = "lights_uncalibrated.pt"


def _coords(b: int, h: int, w: int, dtype: torch.dtype) -> torch.Tensor:
    """(B, 2, H, W) x and y coordinate channels in [-1, 1], project frame (CoordConv)."""
    ys = torch.linspace(1, -1, h, dtype=dtype).view(1, 1, h, 1).expand(b, 1, h, w)
    xs = torch.linspace(-1, 1, w, dtype=dtype).view(1, 1, 1, w).expand(b, 1, h, w)
    return torch.cat([xs, ys], 1)


def bin_centres(az_bins: int = AZ_BINS, el_bins: int = EL_BINS
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Azimuth centres (az_bins,) in [0, 2 pi) and polar-angle centres (el_bins,) in
    (0, pi / 2), radians."""
    az = (torch.arange(az_bins, dtype=torch.float32) + 0.5) * (2 * math.pi / az_bins)
    el = (torch.arange(el_bins, dtype=torch.float32) + 0.5) * (0.5 * math.pi / el_bins)
    return az, el


def decode_bins(az_logits: torch.Tensor, el_logits: torch.Tensor, window: int = 0
                ) -> torch.Tensor:
    """Unit directions (..., 3) from azimuth (..., A) and polar-angle (..., E) logits.

    The polar angle is the expectation of its distribution (soft-argmax) and the azimuth
    the circular mean; with ``window > 0`` both are taken only over the ``window`` bins on
    each side of the most probable bin (a local soft-argmax: the mode, at sub-bin
    precision, not pulled toward the mean of a broad or two-peaked distribution).
    """
    az_c, el_c = bin_centres(az_logits.shape[-1], el_logits.shape[-1])
    pa, pe = az_logits.softmax(-1), el_logits.softmax(-1)
    if window > 0:
        ia = torch.arange(pa.shape[-1])
        ca = pa.argmax(-1, keepdim=True)
        da = torch.remainder(ia - ca + pa.shape[-1] // 2, pa.shape[-1]) - pa.shape[-1] // 2
        pa = pa * (da.abs() <= window)
        ie = torch.arange(pe.shape[-1])
        pe = pe * ((ie - pe.argmax(-1, keepdim=True)).abs() <= window)
        pe = pe / pe.sum(-1, keepdim=True)
    phi = torch.atan2((pa * torch.sin(az_c)).sum(-1), (pa * torch.cos(az_c)).sum(-1))
    theta = (pe * el_c).sum(-1)
    st = torch.sin(theta)
    return torch.stack([st * torch.cos(phi), st * torch.sin(phi), torch.cos(theta)], -1)


def direction_bins(light: torch.Tensor, az_bins: int = AZ_BINS, el_bins: int = EL_BINS
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft targets of unit directions (..., 3): (..., az_bins) and (..., el_bins), each the
    linear interpolation between the two nearest bin centres (so the soft-argmax of the
    target is the direction itself); the azimuth wraps around."""
    theta = torch.arccos(light[..., 2].clamp(-1, 1)).clamp(0, 0.5 * math.pi - 1e-6)
    phi = torch.remainder(torch.atan2(light[..., 1], light[..., 0]), 2 * math.pi)

    def interp(v: torch.Tensor, width: float, n: int, wrap: bool) -> torch.Tensor:
        u = v / width - 0.5
        lo = torch.floor(u)
        frac = u - lo
        hi = lo + 1
        if wrap:
            lo, hi = torch.remainder(lo, n), torch.remainder(hi, n)
        else:  # beyond the first/last centre: all weight on that bin
            frac = torch.where(lo < 0, torch.ones_like(frac), frac)
            frac = torch.where(hi > n - 1, torch.zeros_like(frac), frac)
            lo, hi = lo.clamp(0, n - 1), hi.clamp(0, n - 1)
        t = torch.zeros(*v.shape, n, dtype=v.dtype)
        t.scatter_add_(-1, lo.long()[..., None], (1 - frac)[..., None])
        t.scatter_add_(-1, hi.long()[..., None], frac[..., None])
        return t

    return (interp(phi, 2 * math.pi / az_bins, az_bins, True),
            interp(theta, 0.5 * math.pi / el_bins, el_bins, False))


class LightSetNet(nn.Module):
    """LCNet-like light estimator for a set of images of one object.

    forward(x) with x (B, K, 3, S, S) (set-normalised image, pixel-normalised image, mask;
    :func:`prepare_set`) returns directions (B, K, 3) unit and log relative intensities
    (B, K) (mean zero over the K images); :meth:`raw` returns the azimuth (B, K, A) and
    polar-angle (B, K, E) logits instead of the directions.
    """

    def __init__(self, width: int = 16, feat: int = 128, size: int = INPUT_SIZE,
                 az_bins: int = AZ_BINS, el_bins: int = EL_BINS, window: int = 0) -> None:
        super().__init__()
        chans = [5, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.LeakyReLU(0.1),
                       nn.Conv2d(b, b, 3, padding=1), nn.LeakyReLU(0.1)]
        self.convs = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(4 * width * 4, feat), nn.LeakyReLU(0.1))
        self.head = nn.Sequential(nn.Linear(2 * feat, feat), nn.LeakyReLU(0.1),
                                  nn.Linear(feat, az_bins + el_bins + 1))
        self.az_bins, self.el_bins, self.window = az_bins, el_bins, window
        # size: input side; window: decoding (see decode_bins)
        self.config = {"width": width, "feat": feat, "size": size, "az_bins": az_bins,
                       "el_bins": el_bins, "window": window}

    def raw(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Azimuth logits (B, K, A), polar-angle logits (B, K, E), log intensities (B, K)."""
        b, k, c, h, w = x.shape
        flat = x.reshape(b * k, c, h, w)
        f = self.convs(torch.cat([flat, _coords(b * k, h, w, x.dtype)], 1))
        f = self.embed(F.adaptive_avg_pool2d(f, 2).flatten(1)).reshape(b, k, -1)
        # LCNet's fusion: each image's own feature with the max over the whole set
        ctx = f.max(dim=1, keepdim=True).values.expand_as(f)
        out = self.head(torch.cat([f, ctx], -1))
        az, el = out[..., : self.az_bins], out[..., self.az_bins: self.az_bins + self.el_bins]
        log_e = out[..., -1] - out[..., -1].mean(dim=1, keepdim=True)
        return az, el, log_e

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        az, el, log_e = self.raw(x)
        return decode_bins(az, el, self.window), log_e


def prepare_set(images: torch.Tensor, mask: torch.Tensor, size: int = INPUT_SIZE
                ) -> torch.Tensor:
    """Network input of one object.

    images : (K, H, W) linear grey; mask : (H, W) bool. The mask's bounding box is padded
    to a square (centred), resized to ``size`` (antialiased bilinear: rows and columns
    scale alike, so directions are unchanged). Channel 0 is divided by the set's
    ``SET_PERCENTILE`` over the mask and capped at ``SET_CLIP``; channel 1 divides each
    pixel by its median over the K images (``PIX_FLOOR``, ``PIX_CLIP``, then / PIX_CLIP);
    channel 2 is the mask. Returns (K, 3, size, size) float32.
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
    s = x[:, 0] / scale
    inside = (x[:, 1] > 0.5).float()
    med = s.median(dim=0).values
    pix = (s / (med + PIX_FLOOR)).clamp_max(PIX_CLIP) / PIX_CLIP * inside
    return torch.stack([s.clamp_max(SET_CLIP), pix, inside], 1)


def weights_path() -> Path:
    """Location of the shipped weights (inside the installed package)."""
    return Path(str(resources.files("lambertian.learn") / "weights" / WEIGHTS_NAME))


def load_light_net(path: str | Path | None = None) -> LightSetNet:
    """The trained :class:`LightSetNet` (``weights_only`` load; eval mode)."""
    p = Path(path) if path is not None else weights_path()
    if not p.is_file():
        raise InputError(str(p), "light network weights not found (train them with "
                                 "experiments/train_uncalibrated_net.py)")
    blob = torch.load(p, map_location="cpu", weights_only=True)
    net = LightSetNet(**{k: int(v) for k, v in blob["config"].items()})
    net.load_state_dict(blob["state"])
    return net.eval()


def _dihedral(x: torch.Tensor, f: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Transform ``f`` (0-7) of the square images (..., S, S): ``f % 4`` quarter turns
    counter-clockwise, then for ``f >= 4`` a left-right mirror; and the 2x2 matrix that
    maps a transformed (x, y) (project frame) back to the original one."""
    k = f % 4
    out = torch.rot90(x, k, dims=(-2, -1))
    c, s = [1, 0, -1, 0][k], [0, 1, 0, -1][k]
    back = torch.tensor([[c, s], [-s, c]], dtype=torch.float32)  # rotation by -90 k deg
    if f >= 4:
        out = out.flip(-1)
        back = back @ torch.diag(torch.tensor([-1.0, 1.0]))
    return out, back


def predict_set(net: LightSetNet, x: torch.Tensor, tta: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Directions (B, K, 3) and log relative intensities (B, K) of prepared sets
    x (B, K, 3, S, S). With ``tta`` the answers for the 8 rotations/mirrors of the input
    are mapped back and averaged (the physics is equivariant; the network only roughly)."""
    with torch.no_grad():
        if not tta:
            return net(x)
        ds, es = [], []
        for f in range(8):
            xf, back = _dihedral(x, f)
            d, log_e = net(xf)
            ds.append(torch.cat([d[..., :2] @ back.T, d[..., 2:]], -1))
            es.append(log_e)
        return F.normalize(torch.stack(ds).mean(0), dim=-1), torch.stack(es).mean(0)


def predict_lights(grey: np.ndarray, mask: np.ndarray, net: LightSetNet | None = None,
                   tta: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Light directions (K, 3) (project frame, unit) and relative intensities (K,) (mean 1)
    of K grey images (K, H, W) of one object inside ``mask`` (H, W), by the network
    (:func:`predict_set`)."""
    net = net if net is not None else load_light_net()
    x = prepare_set(torch.from_numpy(np.asarray(grey, np.float32)),
                    torch.from_numpy(np.asarray(mask, bool)), net.config["size"])
    d, log_e = predict_set(net, x[None], tta)
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
    v = v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-12)  # a black image: zero row
    ang = np.degrees(np.arccos(np.clip(np.sum(v * d, axis=1), -1, 1)))
    return X, ang
