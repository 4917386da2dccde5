"""The ambient light of a point's surroundings in the learned solver's training data:
fine-tunings of the shipped network with ``observation_batch(neighbour_ambient=True)``
against a control fine-tuning without it (same steps, seed and learning rate), then the
recipe's third stage (the interface weight) on each.

DiLiGenT reading's steep normals are pulled toward the camera (``python
experiments/ps_net_glossy_grooves.py --by-angle``). Its observations under lights behind a
steep point are far brighter than on ball or bear (``--stats``: at normals 60-75 degrees
from the view, the median observation over the albedo at ``n . l`` in [-0.2, 0] is 0.105 on
reading, 0.015 / 0.026 on ball / bear): the light its folds receive from the surfaces
around them. The generator's ambient term followed the point's own mean radiance, which
falls with its tilt; ``neighbour_ambient`` makes it at least what a camera-facing
neighbour of the same diffuse albedo sends.

    python experiments/ps_net_neighbour_ambient.py [--out DIR] [--steps 2000] [--stats]

Printed: mean angular error (degrees) of each network on generated pixels (the 96 lights
of DiLiGenT ball, seed 7; each family, and every family with the neighbour ambient) and
on UW psm gray and DiLiGenT ball / bear / reading (whole masks, ``--method net``). One
thread; trained variants are kept in DIR (default .cache/ps_net_ambient) and reused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.learn.ps_net_recipe import INTERFACE_STAGE, RECIPE
from lambertian.learn.ps_net_training import train_interface_stage, train_ps_net
from lambertian.ps.net import load_ps_net, save_ps_net
from lambertian.synth.pixel_observations import observation_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import net_table, real_sets, selection_root  # noqa: E402

# every parameter but the interface weight (retrained after)
TRAINED = ("embed.", "blocks.", "norm.", "query", "head.", "weigh.")
GENERATED = (("every family", None, False), ("metal", "metal", False),
             ("dielectric", "dielectric", False), ("paint", "paint", False),
             ("every family, neighbour ambient", None, True))


def variant(path: Path, steps: int, ambient: bool) -> None:
    """Fine-tune the shipped network (at the second stage's learning rate, seed RECIPE + 3),
    then its interface weight, with or without the neighbour ambient."""
    start = load_ps_net(None)
    net = train_ps_net(steps=steps, batch=RECIPE["batch"], seed=RECIPE["seed"] + 3,
                       lr=3e-4, grooves=RECIPE["grooves"],
                       glossy_grooves=RECIPE["glossy_grooves"], neighbour_ambient=ambient,
                       lsq_head=True, interface=True, train_only=TRAINED, init=start,
                       **{k: start.config[k] for k in ("width", "blocks", "hidden")},
                       every=500)
    net = train_interface_stage(net, INTERFACE_STAGE["steps"], RECIPE["batch"],
                                RECIPE["seed"] + 2, RECIPE["grooves"],
                                glossy_grooves=RECIPE["glossy_grooves"],
                                neighbour_ambient=ambient)
    save_ps_net(net, path, {"fine_tune_steps": steps, "neighbour_ambient": ambient})


def sets(root: Path):
    L = np.loadtxt(root / "diligent" / "ball" / "light_directions.txt")
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    for name, fam, ambient in GENERATED:
        b = observation_batch(4000, len(L), torch.Generator().manual_seed(7),
                              lights=torch.from_numpy(L).float(), family=fam,
                              grooves=RECIPE["grooves"],
                              glossy_grooves=RECIPE["glossy_grooves"],
                              neighbour_ambient=ambient)
        n = b.normals.numpy()
        yield (f"generated: {name}", b.obs.numpy().T[:, None, :], L,
               np.ones((1, len(n)), bool), n[None])
    yield from real_sets(root)


def stats(root: Path) -> None:
    """Median observation over the albedo under lights behind steep points (docstring)."""
    print("| data | normal's angle from the view | n.l in [-1, -0.2) | [-0.2, 0) | [0, 0.1) |")
    print("|---|---|---|---|---|")
    for rel, img, L, m, gt in real_sets(root):
        grey = img.mean(axis=-1).reshape(len(img), -1)[:, m.ravel()].T
        n = gt[m]
        tilt = np.degrees(np.arccos(np.clip(n[:, 2], -1, 1)))
        for lo, hi in ((45, 60), (60, 75)):
            s = (tilt >= lo) & (tilt < hi)
            shade, obs = n[s] @ L.T, grey[s]
            lit = shade > 0.4  # the albedo from well-lit observations, per pixel
            rho = np.array([np.median(o[w] / x[w]) if w.sum() > 3 else np.nan
                            for o, x, w in zip(obs, shade, lit, strict=True)])
            ok = np.isfinite(rho) & (rho > 0)
            r, x = obs[ok] / rho[ok, None], shade[ok]
            cells = []
            for a, b in ((-1, -0.2), (-0.2, 0), (0, 0.1)):
                sel = (x >= a) & (x < b)
                cells.append(f"{np.median(r[sel]):.3f}" if sel.sum() > 20 else "-")
            print(f"| {rel} | {lo}-{hi} | " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=".cache/ps_net_ambient")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = selection_root()
    if args.stats:
        stats(root)
        return 0
    out = Path(args.out)
    files = {}
    for name, ambient in (("control", False), ("neighbour ambient", True)):
        files[name] = out / f"{'ambient' if ambient else 'control'}_{args.steps}.pt"
        if not files[name].is_file():
            variant(files[name], args.steps, ambient)
    cols = {"shipped": None, **{k: str(v) for k, v in files.items()}}
    net_table(sets(root), cols)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
