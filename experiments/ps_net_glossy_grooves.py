"""Specular interreflection in the grooves: fine-tunings of the learned solver on
generated pixels whose V-groove's far wall also reflects the light as a mirror
(``observation_batch(glossy_grooves=True)``), measured before the mirror term went into
the whole recipe (``RECIPE["glossy_grooves"]``; the fine-tunings were not adopted).

DiLiGenT reading's folds pull the network's normals toward the camera: at normals 60-75
degrees from the view its regressed normal is 18 degrees too steep toward the viewer on
average, its least-squares one 14, where the diffuse grooves it was trained on leave 2.
The glossy far wall of a fold mirrors each light into a virtual light in front of the
point (``lambertian.synth.pixel_observations.groove_mirror``); on generated pixels that
have it the network shipped before them showed the same pull (every pixel in a groove: 5.3 -> 11.4
degrees, metals 5.1 -> 21.6). Each variant below starts from the shipped weights (or
``--start``; the docs' table started from the weights before glossy grooves),
trains every parameter but the interface weight on batches with glossy grooves (seed
RECIPE + 3), then retrains the interface weight as the recipe's third stage does (its
input, the pooled summary, moved). Printed: mean angular error (degrees) of each network
on generated pixels (the 96 lights of DiLiGenT ball, seed 7; "glossy grooves": every
pixel in a groove with the mirror term) and on UW psm gray and DiLiGenT ball / bear /
reading (whole masks, as ``lambertian ps --method net`` runs).

    python experiments/ps_net_glossy_grooves.py [--out DIR] [--start FILE]
    python experiments/ps_net_glossy_grooves.py --by-angle [--start FILE]

``--by-angle`` prints, for one network (the shipped one, or ``--start``), the error and
the tilt bias (the normal's angle from the view minus the truth's) of its regressed and
least-squares normals by the true normal's angle from the view, on reading (8000 pixels),
on generated pixels in diffuse grooves, and the regressed error on generated pixels of
each family with and without the mirror term.

One thread; trained variants are kept in DIR (default .cache/ps_net_glossy) and reused.
Measured (2026-12-05): docs/learned-ps.md, "Specular interreflection (not adopted)".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.learn.ps_net_recipe import INTERFACE_STAGE, RECIPE
from lambertian.learn.ps_net_training import train_interface_stage, train_ps_net
from lambertian.ps.net import load_ps_net, save_ps_net
from lambertian.synth.pixel_observations import observation_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import net_table, real_sets, selection_root  # noqa: E402

# name: (steps, learning rate, share of pixels in grooves)
VARIANTS = {"2000 steps, 30% grooves": (2000, 3e-4, 0.3),
            "4000 steps, 50% grooves": (4000, 5e-4, 0.5)}
# every parameter but the interface weight (retrained after)
TRAINED = ("embed.", "blocks.", "norm.", "query", "head.", "weigh.")
GENERATED = (("every family", None, 0.0, False), ("30% in grooves", None, 0.3, False),
             ("metal", "metal", 0.0, False), ("dielectric", "dielectric", 0.0, False),
             ("paint", "paint", 0.0, False), ("glossy grooves", None, 1.0, True))


def variant(path: Path, steps: int, lr: float, grooves: float, start_file: str | None
            ) -> None:
    """Fine-tune a network (the shipped one when None) with glossy grooves, then its
    interface weight."""
    start = load_ps_net(start_file)
    net = train_ps_net(steps=steps, batch=RECIPE["batch"], seed=RECIPE["seed"] + 3, lr=lr,
                       grooves=grooves, glossy_grooves=True, lsq_head=True, interface=True,
                       train_only=TRAINED, init=start,
                       **{k: start.config[k] for k in ("width", "blocks", "hidden")},
                       every=500)
    net = train_interface_stage(net, INTERFACE_STAGE["steps"], RECIPE["batch"],
                                RECIPE["seed"] + 2, RECIPE["grooves"])
    save_ps_net(net, path, {"glossy_grooves_steps": steps, "lr": lr, "grooves": grooves})


def sets(root: Path):
    L = np.loadtxt(root / "diligent" / "ball" / "light_directions.txt")
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    for name, fam, grooves, glossy in GENERATED:
        b = observation_batch(4000, len(L), torch.Generator().manual_seed(7),
                              lights=torch.from_numpy(L).float(), family=fam,
                              grooves=grooves, glossy_grooves=glossy)
        n = b.normals.numpy()
        yield (f"generated: {name}", b.obs.numpy().T[:, None, :], L,
               np.ones((1, len(n)), bool), n[None])
    yield from real_sets(root)


def _angle(n: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(n[:, 2], -1.0, 1.0)))


def by_angle(root: Path, start: str | None) -> None:
    """The diagnostic tables of ``--by-angle`` (module docstring)."""
    from lambertian.ps.inputs import to_grey
    from lambertian.ps.net import net_image_check, token_features
    from lambertian.ps.robust import image_check_sample

    model = load_ps_net(start)
    L = np.loadtxt(root / "diligent" / "ball" / "light_directions.txt")
    L = torch.from_numpy(L / np.linalg.norm(L, axis=1, keepdims=True)).float()
    rows = {}
    b = observation_batch(6000, len(L), torch.Generator().manual_seed(7), lights=L,
                          grooves=1.0)
    rows["generated, every pixel in a diffuse groove"] = (b.obs, b.lights, b.normals.numpy())
    for rel, img, lights, mask, normals in real_sets(root):
        if rel != "diligent/reading":
            continue
        idx = np.flatnonzero(mask.ravel())
        keep = net_image_check(img.reshape(len(img), -1, img.shape[-1])[
            :, image_check_sample(idx)], lights)
        grey = to_grey(img[keep]).reshape(int(keep.sum()), -1)
        pick = np.random.default_rng(0).choice(idx, min(8000, idx.size), replace=False)
        rows[rel] = (torch.from_numpy(np.ascontiguousarray(grey[:, pick].T)),
                     torch.from_numpy(lights[keep]).float().expand(len(pick), -1, -1),
                     normals.reshape(-1, 3)[pick])
    bins = ((0, 30), (30, 45), (45, 60), (60, 75), (75, 90))
    print("| data, normal | " + " | ".join(f"{a}-{b}" for a, b in bins) + " |")
    print("|---|" + "---|" * len(bins))
    for name, (obs, lights, gt) in rows.items():
        with torch.no_grad():
            out = model.branches(token_features(obs, lights))
        true = _angle(gt)
        for key in ("regressed", "lsq"):
            err = angular_error_deg(out[key], gt)
            bias = _angle(out[key].numpy()) - true
            cells = [f"{err[s].mean():.1f} / {bias[s].mean():+.1f}"
                     for s in ((true >= a) & (true < b) for a, b in bins)]
            print(f"| {name}, {key} | " + " | ".join(cells) + " |", flush=True)
    print("\n| family | in grooves | with the mirror term |\n|---|---|---|")
    for fam in (None, "dielectric", "metal", "paint"):
        errs = []
        for glossy in (False, True):
            b = observation_batch(6000, len(L), torch.Generator().manual_seed(7), lights=L,
                                  grooves=1.0, glossy_grooves=glossy, family=fam)
            with torch.no_grad():
                reg = model.branches(token_features(b.obs, b.lights))["regressed"]
            errs.append(float(angular_error_deg(reg, b.normals.numpy()).mean()))
        print(f"| {fam or 'every family'} | {errs[0]:.2f} | {errs[1]:.2f} |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=".cache/ps_net_glossy")
    ap.add_argument("--by-angle", action="store_true")
    ap.add_argument("--start", default=None,
                    help="the network to fine-tune (default: the shipped weights)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = selection_root()
    if args.by_angle:
        by_angle(root, args.start)
        return 0
    out = Path(args.out)
    files = {}
    for name, (steps, lr, grooves) in VARIANTS.items():
        origin = f"_from_{Path(args.start).stem}" if args.start else ""
        files[name] = out / f"glossy_{steps}_{grooves:g}{origin}.pt"
        if not files[name].is_file():
            variant(files[name], steps, lr, grooves, args.start)
    cols = {args.start or "shipped": args.start, **{k: str(v) for k, v in files.items()}}
    net_table(sets(root), cols)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
