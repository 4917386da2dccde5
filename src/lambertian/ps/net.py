"""Learned per-pixel photometric stereo: a set network over (light, observation) pairs.

Each pixel's K observations under known lights are a *set* of tokens, one per image:
the light direction, its half vector with the view (where a specular lobe peaks when it
equals the normal, Cook & Torrance 1982), and the observation normalised by the pixel's
maximum and by its mean (the albedo and exposure cancel; the two views keep both the
diffuse shading's shape and the highlight's position visible). A small transformer
encoder lets the tokens see each other (a shadowed or specular observation is only an
outlier relative to the rest), attention pooling with a learned query and max pooling
summarise the set, and a head regresses the normal. A second head weighs each
observation and solves the weighted Lambertian least squares; where the observations it
trusts are Lambertian, that exact normal answers instead (:class:`PixelSetNet`). That
least squares can also model a surface under a smooth interface, whose diffuse light
carries the Fresnel transmittance of the incoming light (Wolff, JOSA A 1994), with a
learned per-pixel weight, where that model explains the observations better. The
set form makes the answer independent of the order of the images and defined for any
number of lights, as the set encoders of Chen et al. (PS-FCN, ECCV 2018) and Ikehata
(PS-Transformer, BMVC 2021), evaluated per pixel as CNN-PS (Ikehata, ECCV 2018) and
PX-Net (Logothetis et al., ICCV 2021) do. It is trained only on per-pixel renders of a
wide family of reflectances (:mod:`lambertian.synth.pixel_observations`,
:mod:`lambertian.learn.ps_net_training`).

Frame: project frame (x right, y up, z toward the camera; lights toward the light).
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lambertian.core.errors import InputError
from lambertian.core.fresnel import interface_transmittance
from lambertian.ps.inputs import check_images, check_lights, check_mask, to_grey
from lambertian.ps.least_squares import albedo_from_normals, pixel_chunks
from lambertian.ps.result import PSResult
from lambertian.ps.robust import image_check_sample, robust_image_check

WEIGHTS_NAME = "ps_net.pt"
# Fewest lights the network is trained for (the generator draws 6 and up).
MIN_LIGHTS = 6
# Features per token (see :func:`token_features`).
TOKEN_FEATURES = 9
# Largest relative RMS misfit of the trusted observations by Lambertian shading at which
# the least-squares normal is the answer (PixelSetNet, lsq_head): chosen on generated
# pixels, psm gray and DiLiGenT ball / bear / reading (experiments/ps_net_lsq_misfit.py).
LSQ_MISFIT = 0.04
# The interface the least-squares head's Wolff model assumes (PixelSetNet, interface):
# normal-incidence reflectance 0.04, glass-like index 1.5, the middle of the dielectrics'
# range; the learned per-pixel weight scales its effect (and so stands in for other
# indices). Fixed-point steps of that model's least squares (each a reweighted solve):
# set a priori, the transmittance changes little between them.
INTERFACE_F0 = 0.04
INTERFACE_STEPS = 2
# Pixels per forward pass: bounds the attention memory (P x heads x K x K floats).
CHUNK = 1024


def token_features(obs: torch.Tensor, lights: torch.Tensor) -> torch.Tensor:
    """(P, K, TOKEN_FEATURES) tokens from observations (P, K) and lights (P, K, 3) or (K, 3).

    Features: light (3), half vector of light and view (3), observation / pixel maximum,
    observation / pixel mean, and log(observation / pixel mean + 0.05).
    """
    obs = obs.clamp_min(0.0)
    if lights.dim() == 2:
        lights = lights.unsqueeze(0).expand(obs.shape[0], -1, -1)
    half = F.normalize(lights + torch.tensor([0.0, 0.0, 1.0], dtype=lights.dtype), dim=-1)
    mx = obs.amax(1, keepdim=True)
    mean = obs.mean(1, keepdim=True)
    # a black pixel's normalisers are 1 (its tokens stay finite); any other pixel's are its
    # own, however small the images' units
    one = torch.ones_like(mx)
    mx, mean = torch.where(mx > 0, mx, one), torch.where(mean > 0, mean, one)
    rel = obs / mean
    return torch.cat([lights, half, (obs / mx).unsqueeze(-1), rel.unsqueeze(-1),
                      torch.log(rel + 0.05).unsqueeze(-1)], -1)


class _Block(nn.Module):
    """Pre-norm transformer encoder block over the K tokens of each pixel."""

    def __init__(self, width: int, heads: int, hidden: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.ffn = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p, k, c = x.shape
        q, kk, v = self.qkv(self.norm1(x)).view(p, k, 3, self.heads, c // self.heads).permute(
            2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, kk, v).transpose(1, 2).reshape(p, k, c)
        x = x + self.proj(a)
        return x + self.ffn(self.norm2(x))


class PixelSetNet(nn.Module):
    """Normal of one pixel from its set of tokens (module docstring).

    forward: tokens (P, K, TOKEN_FEATURES) -> (P, 3) unit normals.

    With ``lsq_head`` the network also weighs every observation (a learned inlier
    probability: lit, unshadowed, off the highlight) and solves the weighted Lambertian
    least squares ``min_b sum_k w_k (b . l_k - I_k)^2`` (the learned-weights form of
    iteratively reweighted least squares, as deep IRLS, Ranftl & Koltun, ECCV 2018, applied
    per pixel). Where the observations it trusts fit Lambertian shading to within
    :data:`LSQ_MISFIT` (relative RMS) that normal is the answer: least squares on the right
    observations is exact for a Lambertian point, whatever the regression's precision.
    Elsewhere (metals, broad lobes, rough diffuse) the regressed normal is.

    With ``interface`` as well, the least squares models the diffuse light of a surface
    under a smooth interface (plastics, glazes, lacquer, clear-coated paint) as Wolff does
    (JOSA A 1994): it entered through the interface, so each light's Lambertian term
    carries the Fresnel transmittance ``T(n . l)``, darker than Lambert's cosine toward
    grazing light. A learned per-pixel weight ``p`` (0: bare Lambertian surface, 1: under
    an interface of :data:`INTERFACE_F0`) scales each light by ``1 - p (1 - T(n . l))``,
    solved by :data:`INTERFACE_STEPS` reweighted least squares from the Lambertian answer.
    Fitted by Lambert's model, such a surface's normal comes out tilted away from the view.
    In evaluation the interface model answers only where it explains the trusted
    observations better (a lower misfit) than the bare Lambertian model, which keeps a
    matte surface's exact answer (the weight alone cannot tell matte from glossy where no
    highlight is seen); in training it always answers, so that the weight learns from
    every pixel.
    """

    def __init__(self, width: int = 32, heads: int = 2, blocks: int = 2, hidden: int = 96,
                 lsq_head: bool = False, interface: bool = False):
        super().__init__()
        if interface and not lsq_head:
            raise ValueError("interface: a refinement of the least-squares head (lsq_head)")
        self.config = {"width": width, "heads": heads, "blocks": blocks, "hidden": hidden,
                       "lsq_head": int(lsq_head)}
        if interface:  # only when used: earlier weights files keep their config
            self.config["interface"] = 1
        self.embed = nn.Sequential(nn.Linear(TOKEN_FEATURES, width), nn.GELU(),
                                   nn.Linear(width, width))
        self.blocks = nn.ModuleList([_Block(width, heads, hidden) for _ in range(blocks)])
        self.norm = nn.LayerNorm(width)
        self.query = nn.Parameter(torch.randn(1, 1, width) / width ** 0.5)
        self.head = nn.Sequential(nn.Linear(2 * width, hidden), nn.GELU(),
                                  nn.Linear(hidden, 3))
        self.lsq_head = lsq_head
        if lsq_head:
            self.weigh = nn.Linear(width, 1)
        self.interface = None
        # the evaluation's choice between the interface model and the bare one (class
        # docstring); off only to measure what it buys (experiments/ps_net_interface.py)
        self.interface_choice = True
        if interface:
            self.interface = nn.Linear(2 * width, 1)
            # starts near a bare surface (p = 0.05): the Lambertian head it refines
            nn.init.zeros_(self.interface.weight)
            nn.init.constant_(self.interface.bias, -3.0)

    def branches(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """The final normals ``"normal"`` (P, 3) and, with the least-squares head, the two
        it chooses from (``"regressed"``, ``"lsq"``), the weights (P, K) and the
        least-squares normal's relative misfit ``"misfit"`` (P,); with ``interface`` also
        the per-pixel interface weight ``"interface"`` (P,) and, in evaluation, where the
        interface model answered ``"interface_taken"`` (P,) bool."""
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        pooled = F.scaled_dot_product_attention(
            self.query.expand(x.shape[0], 1, -1), x, x)[:, 0]
        summary = torch.cat([pooled, x.amax(1)], -1)
        out = self.head(summary)
        # the normal faces the camera: fold the z component
        reg = F.normalize(torch.cat([out[:, :2], F.softplus(out[:, 2:]) + 1e-4], -1), dim=-1)
        if not self.lsq_head:
            return {"normal": reg}
        w = torch.sigmoid(self.weigh(x)[..., 0])  # (P, K)
        lights, rel = tokens[..., :3], tokens[..., 7]
        bare = weighted_lambertian_normal(lights, rel, w)
        extra = {}
        if self.interface is None:
            lsq, misfit = bare, lambertian_misfit(bare, lights, rel, w)
        else:
            p = torch.sigmoid(self.interface(summary))  # (P, 1)
            lsq = bare
            for _ in range(INTERFACE_STEPS):
                gain = _interface_gain(lsq, lights, p)
                lsq = weighted_lambertian_normal(lights * gain.unsqueeze(-1), rel, w)
            misfit = lambertian_misfit(lsq, lights, rel, w, _interface_gain(lsq, lights, p))
            extra["interface"] = p[:, 0]
            if not self.training and self.interface_choice:  # the choice (class docstring)
                bare_misfit = lambertian_misfit(bare, lights, rel, w)
                take = misfit < bare_misfit
                extra["interface_taken"] = take
                lsq = torch.where(take.unsqueeze(-1), lsq, bare)
                misfit = torch.where(take, misfit, bare_misfit)
        normal = torch.where((misfit < LSQ_MISFIT).unsqueeze(-1), lsq, reg)
        return {"normal": normal, "regressed": reg, "lsq": lsq, "weights": w,
                "misfit": misfit, **extra}

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.branches(tokens)["normal"]


def weighted_lambertian_normal(lights: torch.Tensor, rel: torch.Tensor, w: torch.Tensor
                               ) -> torch.Tensor:
    """(P, 3) unit normals solving ``min_b sum_k w_k (b . l_k - I_k)^2`` for lights
    (P, K, 3), observations ``rel`` (P, K) and weights ``w`` (P, K); the normal faces the
    camera (z folded to positive)."""
    wl = w.unsqueeze(-1) * lights
    a = wl.transpose(1, 2) @ lights  # (P, 3, 3)
    # a tiny ridge keeps the system solvable when the weights select < 3 lights; a
    # larger one would pull every normal toward the lights' mean (a bias of ~0.5
    # degrees at 1e-3 on a DiLiGenT-like cone)
    ridge = 1e-6 * w.sum(1).clamp_min(1e-3)
    a = a + ridge[:, None, None] * torch.eye(3)
    b = torch.linalg.solve(a, (wl * rel.unsqueeze(-1)).sum(1))
    return F.normalize(torch.cat([b[:, :2], b[:, 2:].abs() + 1e-6], -1), dim=-1)


def _interface_gain(n: torch.Tensor, lights: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """(P, K) Wolff's factor on each light's Lambertian term, ``1 - p (1 - T(n . l))``,
    for normals (P, 3), lights (P, K, 3) and interface weights p (P, 1)."""
    cos = (lights @ n.unsqueeze(-1))[..., 0]
    return 1.0 - p * (1.0 - interface_transmittance(cos, INTERFACE_F0))


def lambertian_misfit(n: torch.Tensor, lights: torch.Tensor, rel: torch.Tensor,
                      w: torch.Tensor, gain: torch.Tensor | None = None) -> torch.Tensor:
    """(P,) weighted RMS misfit of the observations ``rel`` (P, K) by the best Lambertian
    shading ``rho max(0, n . l)`` of unit normals n (P, 3), relative to the observations'
    weighted RMS: how well a normal explains the observations the network trusts.
    ``gain`` (P, K): a factor on each light's shading (the interface model's)."""
    shade = (lights @ n.unsqueeze(-1))[..., 0].clamp_min(0.0)
    if gain is not None:
        shade = shade * gain
    rho = albedo_from_normals(rel.unsqueeze(-1), shade, w)  # (P, 1)
    err = (w * (rel - rho * shade) ** 2).sum(1)
    # the floor keeps sqrt's gradient finite at an exact fit
    return torch.sqrt(err / (w * rel * rel).sum(1).clamp_min(1e-6) + 1e-8)


def weights_path() -> Path:
    """Location of the shipped weights (inside the installed package)."""
    return Path(str(resources.files("lambertian.learn") / "weights" / WEIGHTS_NAME))


def load_ps_net(path: str | Path | None = None) -> PixelSetNet:
    """The trained :class:`PixelSetNet`, loaded with ``torch.load(weights_only=True)``.

    A file that is not this project's weights (a pickle with code, another model's
    tensors) raises InputError; nothing is unpickled beyond tensors and plain containers.
    """
    p = Path(path) if path is not None else weights_path()
    if not p.is_file():
        raise InputError(str(p), "photometric-stereo network weights not found (train them "
                                 "with `lambertian train-ps-net`)")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
        if not isinstance(blob, dict) or blob.get("kind") != "lambertian.ps_net":
            raise ValueError("not tagged as lambertian.ps_net")
        net = PixelSetNet(**{k: int(v) for k, v in blob["config"].items()})
        net.load_state_dict(blob["state"])
    except Exception as err:  # any unpickling or shape problem: the file is not ours
        raise InputError(str(p), "not a lambertian photometric-stereo weights file "
                                 f"({type(err).__name__})") from None
    return net.eval()


def save_ps_net(net: PixelSetNet, path: str | Path, info: dict[str, Any] | None = None) -> None:
    """Write ``{"kind", "config", "state", "info"}`` (tensors and plain values only)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"kind": "lambertian.ps_net", "config": net.config,
                "state": net.state_dict(), "info": info or {}}, path)


def predict_normals(net: PixelSetNet, obs: torch.Tensor, lights: torch.Tensor,
                    rotations: int = 1) -> torch.Tensor:
    """(P, 3) normals from observations (P, K) under lights (K, 3) or (P, K, 3).

    rotations : average the answers for this many rotations of the lights about the
    viewing axis (each mapped back): the physics is equivariant, the network only roughly.
    """
    with torch.no_grad():
        acc = torch.zeros(obs.shape[0], 3)
        for r in range(rotations):
            a = 2 * np.pi * r / rotations
            c, s = float(np.cos(a)), float(np.sin(a))
            R = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
            n = net(token_features(obs, lights @ R.T))
            acc += n @ R  # rotate back
        return F.normalize(acc, dim=-1)


def net(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
        weights: str | Path | PixelSetNet | None = None, rotations: int = 1,
        image_check: bool = True, chunk: int = CHUNK, source: str = "images",
        progress: bool = False, kept_images: np.ndarray | None = None) -> PSResult:
    """Per-pixel normals by the learned set network, albedo by least squares on them.

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images divided by the light intensities
        (8- or 16-bit captures alike; the grey image, 0.2989 R + 0.5870 G + 0.1140 B,
        is what the network sees).
    lights : (K, 3) light directions, project frame; K >= MIN_LIGHTS, any order.
    mask : (H, W) bool pixels to solve (all when None).
    weights : a weights file (default: the shipped ``ps_net.pt``) or a loaded network.
    rotations : test-time rotations of the light set (see :func:`predict_normals`).
    image_check : first drop the images whose gain disagrees with the others' (damaged
        images, wrong calibrated intensities), by :func:`lambertian.ps.robust.robust_image_check`
        on its pixel sample (a physical check the per-pixel network cannot make).
    chunk : pixels per forward pass.
    kept_images : (K,) bool, that check's answer computed beforehand (for solving a
        capture in parts with the same result).

    Returns
    -------
    PSResult with (H, W, 3) normals and (H, W, C) albedo (each channel fitted to the
    network's normal over the observations it lights, ``max(0, n . l)``).
    """
    t0 = time.perf_counter()
    img = check_images(images, source)
    k, h, w, c = img.shape
    L = check_lights(lights, k, source)
    if k < MIN_LIGHTS:
        raise InputError(source, f"{k} lights: the network needs at least {MIN_LIGHTS}")
    m = check_mask(mask, (h, w), source)
    model = weights if isinstance(weights, PixelSetNet) else load_ps_net(weights)
    idx = np.flatnonzero(m.ravel())
    colour = img.reshape(k, -1, c)
    keep = np.ones(k, bool)
    if kept_images is not None:
        keep = np.asarray(kept_images, bool)
    elif image_check:
        keep = net_image_check(colour[:, image_check_sample(idx)], L)
    if keep.sum() < MIN_LIGHTS or not _spans_3d(L[keep]):
        keep = np.ones(k, bool)
    grey = to_grey(img[keep]).reshape(int(keep.sum()), -1)
    Lk = torch.from_numpy(L[keep]).float()
    Lt = torch.from_numpy(L).float()
    normals = np.zeros((h * w, 3), np.float32)
    albedo = np.zeros((h * w, c), np.float32)
    for sl in pixel_chunks(idx.size, chunk, progress, "net"):
        pix = idx[sl]
        obs = torch.from_numpy(np.ascontiguousarray(grey[:, pix].T))
        n = predict_normals(model, obs, Lk, rotations)
        # a pixel black in every image has no normal (zero, as least squares leaves it)
        n[~obs.any(dim=1)] = 0.0
        col = torch.from_numpy(np.ascontiguousarray(colour[:, pix].transpose(1, 0, 2)))
        normals[pix] = n.numpy()
        weights_k = torch.from_numpy(keep).float().expand(len(pix), k)
        albedo[pix] = albedo_from_normals(col, (n @ Lt.T).clamp_min(0.0), weights_k).numpy()
    return PSResult(normals.reshape(h, w, 3), albedo.reshape(h, w, c), m,
                    info={"method": "net", "rotations": rotations,
                          "dropped_images": np.flatnonzero(~keep).tolist(),
                          "seconds": time.perf_counter() - t0})


def net_image_check(sample: np.ndarray, lights: np.ndarray) -> np.ndarray:
    """(K,) bool: the images :func:`net` keeps, from the (K, P, C) observations of the
    pixels :func:`lambertian.ps.robust.image_check_sample` picks (robust's check of each
    image's gain against the others', on the grey image), to pass as ``kept_images``."""
    return robust_image_check(sample, lights, colour=False, broad_check=False)["grey"]


def _spans_3d(lights: np.ndarray) -> bool:
    """Whether a subset of lights still spans 3D (see :func:`check_lights`)."""
    try:
        check_lights(lights, len(lights))
    except InputError:
        return False
    return True
