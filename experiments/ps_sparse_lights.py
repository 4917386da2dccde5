"""Photometric stereo with few lights: every solver on seeded random subsets of 6, 10
and 20 of the lights of DiLiGenT ball / bear / reading and UW psm gray (6 and 10 of its
12), whole masks, mean angular error in degrees averaged over four subsets (seeds 0-3).
``--weights F``: a second network beside the shipped one (e.g. the one before the
interface model, ``experiments/ps_net_interface.py``'s ``second_stage.pt``).

    python experiments/ps_sparse_lights.py [--weights F]

Measured (2026-12-05): docs/learned-ps.md, "Few lights".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.ps import get_solver

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import real_sets, selection_root  # noqa: E402

COUNTS = (6, 10, 20)
SEEDS = (0, 1, 2, 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = selection_root()
    solvers = [("ls", {}), ("robust", {}), ("net", {}), ("auto", {})]
    if args.weights:
        solvers.append(("net", {"weights": args.weights}))
    names = [n if not kw else f"net ({args.weights})" for n, kw in solvers]
    print("| data | lights | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for rel, img, lights, m, gt in real_sets(root):
        for k in COUNTS:
            if k >= len(img):
                continue
            errs = np.zeros(len(solvers))
            for seed in SEEDS:
                sel = np.sort(np.random.default_rng(seed).choice(len(img), k, replace=False))
                errs += [angular_error_deg(get_solver(name)(img[sel], lights[sel], m, **kw)
                                           .normals[m], gt[m]).mean()
                         for name, kw in solvers]
            errs /= len(SEEDS)
            print(f"| {rel} | {k} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
