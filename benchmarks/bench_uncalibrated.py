"""Uncalibrated photometric stereo on the real data, every method side by side
(python benchmarks/bench_uncalibrated.py [DATA_ROOT] [--no-yaleb] [--weights PATH]).

One Markdown row per object and method (``entropy``: integrability + albedo-entropy GBR;
``network``: the factorisation's 3x3 ambiguity chosen by the learned light prior;
``auto``: the default): light direction error (mean, max, degrees), scale-invariant
intensity error, the ``resolved`` flag, and seconds of one estimate on one thread. Also the
network's own lights before the projection (``net_raw_deg``). Ground-truth lights are used
for the errors only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg, scale_invariant_intensity_error
from lambertian.io import data_root, read_capture
from lambertian.lights.light_net import load_light_net, predict_lights
from lambertian.lights.uncalibrated import uncalibrated_lights
from lambertian.ps.inputs import check_images, to_grey

GREY = np.array([0.2989, 0.5870, 0.1140])
METHODS = ("entropy", "network", "auto")


def main() -> int:
    torch.set_num_threads(1)
    argv = sys.argv[1:]
    weights = None
    if "--weights" in argv:
        weights = argv[argv.index("--weights") + 1]
        argv.remove("--weights")
        argv.remove(weights)
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0]) if args else data_root()
    if root is None:
        print("no data root found", file=sys.stderr)
        return 2
    sets = [root / "diligent" / o for o in ("ball", "bear", "reading")]
    sets += [root / "diligent_test" / o for o in ("buddha", "pot2")]
    if "--no-yaleb" not in argv and (root / "yaleb").is_dir():
        sets += sorted(p for p in (root / "yaleb").iterdir() if p.is_dir())
    net = load_light_net(weights)
    print("| object | method | dir_mean_deg | dir_max_deg | intensity_err | resolved | "
          "net_raw_deg | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    means: dict[str, list[float]] = {m: [] for m in METHODS}
    for folder in sets:
        if not folder.is_dir():
            continue
        cap = read_capture(folder)
        truth_e = (cap.intensities @ GREY if cap.intensities.shape[1] == 3
                   else cap.intensities[:, 0])
        d_raw, _ = predict_lights(to_grey(check_images(cap.images)), cap.mask, net)
        raw = float(angular_error_deg(d_raw, cap.lights).mean())
        for method in METHODS:
            t = time.perf_counter()
            est = uncalibrated_lights(cap.images, cap.mask, method=method, weights=weights,
                                      source=folder.name)
            sec = time.perf_counter() - t
            err = angular_error_deg(est.directions, cap.lights)
            ie = scale_invariant_intensity_error(est.intensities, truth_e)
            name = f"{folder.parent.name}/{folder.name}"
            if folder.parent.name.startswith("diligent"):
                means[method].append(float(err.mean()))
            print(f"| {name} | {method} | {err.mean():.2f} | {err.max():.2f} | {ie:.3f} | "
                  f"{est.resolved} | {raw:.2f} | {sec:.1f} |", flush=True)
    for method, v in means.items():
        if v:
            print(f"\nDiLiGenT average of per-object mean direction errors, {method}: "
                  f"{np.mean(v):.2f} deg over {len(v)} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
