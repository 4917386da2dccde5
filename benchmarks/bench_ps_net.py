"""The learned photometric-stereo solver against least squares, robust and auto (the
default: robust + net, or net alone on broad specular reflectance), on the
selection data: generated pixels of every material family (a fixed 96-light rig, the
lights of DiLiGenT ball), the real DiLiGenT crops in ../shared/data, and UW psm gray;
plus the inference time of ``net`` on a 96-image DiLiGenT object, one thread, as a ratio
to least squares in the same process.

    python benchmarks/bench_ps_net.py [--weights FILE] [--pixels N] [--rotations R]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg, normal_error_stats
from lambertian.io import read_capture
from lambertian.io.data_root import data_root
from lambertian.learn.ps_net_recipe import RECIPE
from lambertian.ps import get_solver
from lambertian.synth.pixel_observations import FAMILIES, observation_batch

METHODS = ("ls", "robust", "net", "auto")
GROOVES = RECIPE["grooves"]  # the training's share of pixels in V-grooves


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--pixels", type=int, default=4000, help="generated pixels per family")
    ap.add_argument("--rotations", type=int, default=1)
    ap.add_argument("--estimated-lights", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = data_root()
    kw = {"net": {"weights": args.weights, "rotations": args.rotations},
          "auto": {"weights": args.weights}}
    print("| data | " + " | ".join(METHODS) + " |")
    print("|---|" + "---|" * len(METHODS))
    if root is not None:
        L = np.loadtxt(root / "diligent" / "ball" / "light_directions.txt")
        L /= np.linalg.norm(L, axis=1, keepdims=True)
        for fam, grooves in [(f, 0.0) for f in (*FAMILIES, None)] + [(None, GROOVES)]:
            b = observation_batch(args.pixels, len(L), torch.Generator().manual_seed(7),
                                  lights=torch.from_numpy(L).float(), family=fam,
                                  grooves=grooves)
            img = b.obs.numpy().T[:, None, :]
            errs = [angular_error_deg(get_solver(m)(img, L, **kw.get(m, {})).normals[0],
                         b.normals.numpy()).mean() for m in METHODS]
            name = f"generated: {fam or 'every family, blends'}"
            if grooves:
                name += f", {grooves:.0%} in grooves"
            print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)
        for rel in ("diligent/ball", "diligent/bear", "diligent/reading", "psm/gray"):
            cap = read_capture(root / rel)
            img = cap.normalized_images()
            errs, secs = [], {}
            for m in METHODS:
                t = time.perf_counter()
                res = get_solver(m)(img, cap.lights, cap.mask, **kw.get(m, {}))
                secs[m] = time.perf_counter() - t
                errs.append(normal_error_stats(res.normals, cap.normals, cap.mask)["mean"])
            print(f"| {rel} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)
            if rel == "diligent/bear":
                px = int(cap.mask.sum())
                print(f"\nbear, {cap.num_images} images, {px} pixels, one thread: net "
                      f"{secs['net']:.1f} s ({secs['net'] / px * 1e3:.3f} s per 1000 px); "
                      f"{secs['net'] / secs['ls']:.0f}x least squares, "
                      f"{secs['net'] / secs['robust']:.1f}x robust\n", flush=True)
    if root is not None and args.estimated_lights:
        estimated_lights_table(root, kw)
    return 0


def estimated_lights_table(root, kw: dict) -> None:
    """Each solver's mean error with the uncalibrated estimator's (auto) lights."""
    from lambertian.lights.uncalibrated import uncalibrated_lights

    print("\nwith the uncalibrated estimator's lights (lights --ps):\n")
    print("| data | " + " | ".join(METHODS) + " |")
    print("|---|" + "---|" * len(METHODS))
    for rel in ("diligent/ball", "diligent/bear", "diligent/reading"):
        cap = read_capture(root / rel)
        est = uncalibrated_lights(cap.images, cap.mask, source=rel)
        img = cap.images / np.asarray(est.intensities, np.float32)[:, None, None, None]
        errs = [normal_error_stats(get_solver(m)(img, est.directions, cap.mask,
                                                 **kw.get(m, {})).normals,
                                   cap.normals, cap.mask)["mean"] for m in METHODS]
        print(f"| {rel} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
