"""Robust photometric stereo on DiLiGenT ball, bear, reading: error and time on one core.

Loads each object (all 96 lights, images divided by light_intensities.txt, 16-bit kept
until converted to float), runs least squares and the robust solver (and its variants),
and prints a Markdown table of mean / median angular error (degrees, over mask.png vs
Normal_gt.mat) and seconds. With --sweep it prints the settings grid used to choose the
defaults (chosen on ball + bear, reading held out).

    python benchmarks/ps_robust_experiments.py [--objects ball bear reading] [--sweep]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import normal_error_stats
from lambertian.io import data_root, read_capture
from lambertian.ps.least_squares import least_squares
from lambertian.ps.robust import robust


def load_diligent(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(K, H, W, 3) float32 images / intensities, (K, 3) lights, (H, W) mask, (H, W, 3) gt."""
    cap = read_capture(folder)
    return cap.normalized_images(), cap.lights, cap.mask, cap.normals


VARIANTS = {
    "robust (default)": {},
    "robust, grey only": {"colour": False},
    "robust, no image check": {"image_check": False},
    "robust, no refinement": {"iters": 0},
    "robust, no trimming": {"low": 0.0, "high": 0.0},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", nargs="+", default=["ball", "bear", "reading"])
    ap.add_argument("--sweep", action="store_true", help="print the tau/select_tol grid")
    ap.add_argument("--variants", action="store_true", help="also run the ablations")
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = data_root()
    if root is None:
        raise SystemExit("real data not found: set $LAMBERTIAN_DATA")
    data = {o: load_diligent(root / "diligent" / o) for o in args.objects}
    print("| method | " + " | ".join(f"{o} mean / median / s" for o in args.objects) + " |")
    print("|---|" + "---|" * len(args.objects))
    methods = {"least squares": None, **({"robust (default)": {}} if not args.variants
                                         else VARIANTS)}
    for name, kw in methods.items():
        cells = []
        for o, (imgs, lights, mask, gt) in data.items():
            t0 = time.perf_counter()
            res = (least_squares(imgs, lights, mask) if kw is None
                   else robust(imgs, lights, mask, **kw))
            sec = time.perf_counter() - t0
            st = normal_error_stats(res.normals, gt, mask)
            cells.append(f"{st['mean']:.2f} / {st['median']:.2f} / {sec:.2f}")
            if kw == {}:
                print(f"<!-- {o}: dropped {res.info['dropped_images']}, specular-free share "
                      f"{res.info['specular_free_share']:.2f} -->")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    if args.sweep:
        print("\n| tau | select_tol | " + " | ".join(args.objects) + " |")
        print("|---|---|" + "---|" * len(args.objects))
        for tau in (0.15, 0.2, 0.25):
            for tol in (0.1, 0.15, 0.2):
                cells = []
                for imgs, lights, mask, gt in data.values():
                    res = robust(imgs, lights, mask, tau=tau, select_tol=tol)
                    cells.append(f"{normal_error_stats(res.normals, gt, mask)['mean']:.2f}")
                print(f"| {tau} | {tol} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
