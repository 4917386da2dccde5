"""How ``ps.net.LSQ_MISFIT`` was chosen: the mean error of the learned solver when its
weighted least-squares normal answers wherever that normal's relative Lambertian misfit
(over the observations the network trusts) is below a threshold, and its regressed normal
elsewhere, for a range of thresholds, on generated pixels of every material family (the
96 lights of DiLiGenT ball), UW psm gray and DiLiGenT ball / bear / reading (a seeded
sample of each mask; the images the solver's image check drops are dropped).

    python experiments/ps_net_lsq_misfit.py [--weights FILE] [--pixels N]

The rows "regressed" and "least squares" are the two normals alone. The rows "0.04 or
ratio > r" also take the least-squares normal wherever the regressed normal's own
Lambertian misfit (same weights) exceeds r times the least-squares one: a second rule,
measured and not adopted (docs/learned-ps.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.ps.inputs import to_grey
from lambertian.ps.net import (
    LSQ_MISFIT,
    lambertian_misfit,
    load_ps_net,
    net_image_check,
    token_features,
)
from lambertian.ps.robust import image_check_sample
from lambertian.synth.pixel_observations import FAMILIES, observation_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import real_sets, selection_root  # noqa: E402

THRESHOLDS = (0.0, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.12, 1e9)
RATIOS = (1.5, 2.0, 3.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--pixels", type=int, default=5000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = selection_root()
    model = load_ps_net(args.weights)
    if not model.lsq_head:
        print("these weights have no least-squares head")
        return 1
    sets = {}
    L = np.loadtxt(root / "diligent/ball/light_directions.txt")
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    for fam in (*FAMILIES, None):
        b = observation_batch(args.pixels, len(L), torch.Generator().manual_seed(7),
                              lights=torch.from_numpy(L).float(), family=fam)
        sets[f"generated {fam or 'all'}"] = (b.obs, b.lights, b.normals.numpy())
    for rel, img, cap_lights, mask, normals in real_sets(root):
        idx = np.flatnonzero(mask.ravel())
        keep = net_image_check(img.reshape(len(img), -1, img.shape[-1])[:, image_check_sample(idx)],
                               cap_lights)
        grey = to_grey(img[keep]).reshape(int(keep.sum()), -1)
        pick = np.random.default_rng(0).choice(idx, min(args.pixels, idx.size), replace=False)
        obs = torch.from_numpy(np.ascontiguousarray(grey[:, pick].T))
        lights = torch.from_numpy(cap_lights[keep]).float().expand(len(pick), -1, -1)
        sets[rel] = (obs, lights, normals.reshape(-1, 3)[pick])
    rows = {}
    for name, (obs, lights, gt) in sets.items():
        tokens = token_features(obs, lights)
        with torch.no_grad():
            out = model.branches(tokens)
            reg_misfit = lambertian_misfit(out["regressed"], tokens[..., :3], tokens[..., 7],
                                            out["weights"])
        rows[name] = (angular_error_deg(out["regressed"], gt),
                      angular_error_deg(out["lsq"], gt), out["misfit"].numpy(),
                      reg_misfit.numpy())
    print("| threshold | " + " | ".join(rows) + " |")
    print("|---|" + "---|" * len(rows))
    for t in THRESHOLDS:
        label = {0.0: "regressed", 1e9: "least squares"}.get(t, f"{t:g}")
        errs = [np.where(m < t, el, er).mean() for er, el, m, _ in rows.values()]
        print(f"| {label} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)
    for r in RATIOS:
        errs = [np.where((m < LSQ_MISFIT) | (mr > r * m), el, er).mean()
                for er, el, m, mr in rows.values()]
        print(f"| {LSQ_MISFIT:g} or ratio > {r:g} | " + " | ".join(f"{e:.2f}" for e in errs)
              + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
