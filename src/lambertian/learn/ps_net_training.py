"""Training of the learned photometric-stereo network (:mod:`lambertian.ps.net`).

Every batch is generated on the fly (:func:`lambertian.synth.pixel_observations.observation_batch`):
batch ``i`` of seed ``s`` uses a generator seeded with ``s * 1_000_003 + i``, so the same
command gives the same weights on the same machine and thread count. The number of lights
varies from batch to batch (drawn log-uniformly in :data:`LIGHTS`), so one network serves
sparse rigs and dense domes. Loss: the mean angle between predicted and true normals.
Adam with a short warm-up and a cosine decay of the learning rate.

The held-out check (:func:`validate`) uses another seed and several fixed light counts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from lambertian.ps.net import PixelSetNet, load_ps_net, save_ps_net, token_features
from lambertian.synth.pixel_observations import observation_batch

# Range of the number of lights per batch (log-uniform): the network runs on any count,
# it is trained from 6 (the fewest it accepts) to beyond DiLiGenT's 96.
LIGHTS = (6, 128)
VALIDATION_SEED = 424_242_421
WARMUP = 200


def angular_loss(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Mean angle (radians) between unit vectors (P, 3); atan2 of the cross and dot
    products keeps the gradient finite near zero error (acos's is not)."""
    cross = torch.linalg.cross(pred, true).norm(dim=-1)
    dot = (pred * true).sum(-1)
    return torch.atan2(cross + 1e-7, dot).mean()


def _loss(net: PixelSetNet, tokens: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
    """The mean angle of the network's normal; with the least-squares head, of each of its
    two normals (the regressed and the weighted least-squares one), both answers on their
    own (the choice between them is physical, :data:`lambertian.ps.net.LSQ_MISFIT`)."""
    out = net.branches(tokens)
    if "lsq" not in out:
        return angular_loss(out["normal"], normals)
    return angular_loss(out["regressed"], normals) + angular_loss(out["lsq"], normals)


def _num_lights(g: torch.Generator) -> int:
    lo, hi = math.log(LIGHTS[0]), math.log(LIGHTS[1])
    return int(round(math.exp(lo + (hi - lo) * float(torch.rand(1, generator=g)))))


def validate(net: PixelSetNet, samples: int = 4096, seed: int = VALIDATION_SEED,
             light_counts: tuple[int, ...] = (6, 16, 96)) -> dict[int, float]:
    """Mean angular error (degrees) on held-out generated samples, per light count."""
    out = {}
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for k in light_counts:
            g = torch.Generator().manual_seed(seed + k)
            b = observation_batch(samples, k, g)
            pred = net(token_features(b.obs, b.lights))
            out[k] = math.degrees(float(angular_loss(pred, b.normals)))
    net.train(was_training)
    return out


def train_ps_net(steps: int = 20000, batch: int = 256, lr: float = 1e-3, seed: int = 0,
                 width: int = 32, blocks: int = 2, hidden: int = 96, lsq_head: bool = False,
                 interface: bool = False, train_only: str | tuple[str, ...] | None = None,
                 grooves: float = 0.0, light_error_deg: float = 0.0,
                 fresnel_diffuse: bool = False, glossy_grooves: bool = False,
                 neighbour_ambient: bool = False,
                 init: PixelSetNet | str | Path | None = None,
                 out: str | Path | None = None,
                 log: Callable[[str], None] | None = print, every: int = 100,
                 validate_every: int = 0, save_every: int = 0) -> PixelSetNet:
    """Train :class:`PixelSetNet` on generated pixels (module docstring); with ``out`` the
    weights are saved for ``torch.load(weights_only=True)`` (also every ``save_every``
    steps when > 0). ``init``: a trained network (or its weights file) to start from, for
    the second stage that adds the least-squares head (``lsq_head``; its observation
    weights are the only new parameters, and the whole network trains); ``interface``
    adds Wolff's interface model to that head (its weight is new too); ``train_only``: a
    parameter-name prefix (or a tuple of them), only those parameters train (the rest
    stay as ``init`` left them). ``grooves``: the
    share of generated pixels in a V-groove, ``light_error_deg`` the spread of the
    light directions' calibration errors, ``fresnel_diffuse`` Wolff's diffuse under an
    interface, ``glossy_grooves`` the grooves' specular interreflection and
    ``neighbour_ambient`` the ambient light of the point's surroundings
    (``observation_batch``'s). ``width``,
    ``blocks``, ``hidden``: the network's size (:class:`PixelSetNet`)."""
    torch.manual_seed(seed)
    net = PixelSetNet(width=width, blocks=blocks, hidden=hidden, lsq_head=lsq_head,
                      interface=interface)
    if init is not None:  # a second stage: start from a trained network's weights
        start = init if isinstance(init, PixelSetNet) else load_ps_net(init)
        try:
            missing, _ = net.load_state_dict(start.state_dict(), strict=False)
        except RuntimeError:  # a tensor of another size
            missing = ["shape"]
        if any(not k.startswith(("weigh.", "interface.")) for k in missing):
            raise ValueError("init: not a network of this shape")
    params = []
    for name, p in net.named_parameters():
        p.requires_grad_(train_only is None or name.startswith(train_only))
        if p.requires_grad:
            params.append(p)
    if not params:
        raise ValueError(f"train_only: no parameter is named {train_only}...")
    opt = torch.optim.Adam(params, lr=lr)

    def schedule(i: int) -> float:
        if i < WARMUP:
            return (i + 1) / WARMUP
        return 0.5 * (1 + math.cos(math.pi * (i - WARMUP) / max(1, steps - WARMUP)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    t0 = time.perf_counter()
    run = None
    info = {"steps": steps, "batch": batch, "lr": lr, "seed": seed, "lsq_head": int(lsq_head),
            "grooves": grooves}
    if light_error_deg > 0:  # recorded only when used: earlier weights' records stay valid
        info["light_error_deg"] = light_error_deg
    if fresnel_diffuse:
        info["fresnel_diffuse"] = True
    if glossy_grooves:
        info["glossy_grooves"] = True
    if neighbour_ambient:
        info["neighbour_ambient"] = True
    if interface:
        info["interface"] = True
    if train_only is not None:
        info["train_only"] = train_only
    for i in range(steps):
        g = torch.Generator().manual_seed(seed * 1_000_003 + i)
        b = observation_batch(batch, _num_lights(g), g, grooves=grooves,
                              light_error_deg=light_error_deg,
                              fresnel_diffuse=fresnel_diffuse,
                              glossy_grooves=glossy_grooves,
                              neighbour_ambient=neighbour_ambient)
        loss = _loss(net, token_features(b.obs, b.lights), b.normals)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"step {i}: the loss is not finite")
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        deg = math.degrees(float(loss.detach()))
        run = deg if run is None else 0.98 * run + 0.02 * deg
        if out is not None and save_every > 0 and (i + 1) % save_every == 0:
            save_ps_net(net, out, {**info, "done": i + 1})
        if log is not None and validate_every > 0 and (i + 1) % validate_every == 0:
            v = validate(net)
            log(f"step {i + 1:6d}  held-out " + "  ".join(
                f"K={k}: {e:.2f} deg" for k, e in v.items()))
        if log is not None and (i % every == 0 or i == steps - 1):
            log(f"step {i:6d}  train {run:6.2f} deg  lr {sched.get_last_lr()[0]:.2e}  "
                f"{time.perf_counter() - t0:6.0f} s")
    net.eval()
    if out is not None:
        save_ps_net(net, out, {**info, "done": steps,
                               "seconds": round(time.perf_counter() - t0, 1)})
    return net


def train_interface_stage(init: PixelSetNet | str | Path, steps: int, batch: int, seed: int,
                          grooves: float, light_error_deg: float = 0.0,
                          log: Callable[[str], None] | None = print,
                          glossy_grooves: bool = False,
                          neighbour_ambient: bool = False) -> PixelSetNet:
    """The recipe's third stage (:data:`lambertian.learn.ps_net_recipe.INTERFACE_STAGE`'s
    learning rate) on a network with the least-squares head: adds Wolff's interface model
    and trains only its per-pixel weight, on batches with the Fresnel-transmitted diffuse.
    ``seed`` is the stage's own (the recipe passes its seed + 2)."""
    from lambertian.learn.ps_net_recipe import INTERFACE_STAGE

    start = init if isinstance(init, PixelSetNet) else load_ps_net(init)
    return train_ps_net(steps=steps, batch=batch, seed=seed, lr=INTERFACE_STAGE["lr"],
                        grooves=grooves, light_error_deg=light_error_deg,
                        fresnel_diffuse=True, glossy_grooves=glossy_grooves,
                        neighbour_ambient=neighbour_ambient, lsq_head=True, interface=True,
                        train_only="interface.", init=start,
                        **{k: start.config[k] for k in ("width", "blocks", "hidden")},
                        log=log, every=500)


def train_shipped_ps_net(steps: int, lsq_steps: int, batch: int, seed: int,
                         log: Callable[[str], None] | None = print,
                         overrides: dict | None = None, interface_steps: int | None = None
                         ) -> tuple[PixelSetNet, dict]:
    """The three stages of :mod:`lambertian.learn.ps_net_recipe` (with the step counts,
    batch and seed given; stage two uses ``seed + 1``, stage three ``seed + 2``; the third,
    ``interface_steps`` long, default :data:`INTERFACE_STAGE`'s, needs the second): the
    network and its training record.
    ``overrides``: recipe entries to change (experiments): the network's ``width`` /
    ``blocks`` / ``hidden``, or a generator option such as ``fresnel_diffuse``."""
    from lambertian.learn.ps_net_recipe import INTERFACE_STAGE, LSQ_STAGE, RECIPE

    t0 = time.perf_counter()
    kw = {k: v for k, v in RECIPE.items() if k not in ("steps", "batch", "seed")}
    kw.update(overrides or {})
    net = train_ps_net(steps=steps, batch=batch, seed=seed, **kw, log=log, every=500)
    info = {"steps": steps, "batch": batch, "seed": seed, **kw, "lsq_steps": lsq_steps}
    if lsq_steps > 0:
        if log is not None:
            log("second stage: the least-squares head")
        net = train_ps_net(steps=lsq_steps, batch=batch, seed=seed + 1, lr=LSQ_STAGE["lr"],
                           grooves=kw["grooves"], lsq_head=True, init=net,
                           light_error_deg=kw.get("light_error_deg", 0.0),
                           fresnel_diffuse=kw.get("fresnel_diffuse", False),
                           glossy_grooves=kw.get("glossy_grooves", False),
                           neighbour_ambient=kw.get("neighbour_ambient", False),
                           **{k: kw[k] for k in ("width", "blocks", "hidden") if k in kw},
                           log=log, every=500)
        info["lsq_lr"] = LSQ_STAGE["lr"]
        if interface_steps is None:
            interface_steps = INTERFACE_STAGE["steps"]
        info["interface_steps"] = interface_steps
        if interface_steps > 0:
            if log is not None:
                log("third stage: the interface weight of the least-squares head")
            net = train_interface_stage(net, interface_steps, batch, seed + 2, kw["grooves"],
                                        kw.get("light_error_deg", 0.0), log,
                                        glossy_grooves=kw.get("glossy_grooves", False),
                                        neighbour_ambient=kw.get("neighbour_ambient", False))
            info["interface_lr"] = INTERFACE_STAGE["lr"]
    info["seconds"] = round(time.perf_counter() - t0, 1)
    return net, info
