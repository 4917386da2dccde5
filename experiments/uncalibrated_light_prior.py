"""The learned light prior as a term of the uncalibrated GBR criterion: light direction
error of ``uncalibrated_lights(method="auto")`` by the prior's weight
(``lambertian.lights.uncalibrated.PRIOR_WEIGHT``; 0 is the criterion without it).

    python experiments/uncalibrated_light_prior.py [--weights 0,0.3] [--sets psm,synth,glossy]
        [--synthetic 6] [--glossy 6]

Sets: ``psm`` (UW psm, six objects), ``synth`` (``synth.make_capture``, seeds 0..N-1),
``glossy`` (``synth.glossy_capture``, 32 float and 12 8-bit images, seeds 0..N-1): the
selection data; ``diligent`` (ball, bear, reading and the test views buddha, pot2) is
reported, never chosen on. One row per capture (the network's own error, then one column
per weight), then each group's mean. One thread.
"""

from __future__ import annotations

import argparse
import importlib

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io import data_root, read_capture
from lambertian.lights.light_net import load_light_net, predict_lights
from lambertian.ps.inputs import check_images, to_grey
from lambertian.synth.capture import make_capture
from lambertian.synth.glossy_capture import make_glossy_capture

# the module, not the function the package exports under the same name
U = importlib.import_module("lambertian.lights.uncalibrated")


def captures(sets: list[str], synthetic: int, glossy: int):
    """(group, name, images, mask, lights) of every capture asked for."""
    root = data_root()
    if "psm" in sets and root is not None:
        for o in ("buddha", "cat", "horse", "owl", "rock", "gray"):
            cap = read_capture(root / "psm" / o)
            yield "UW psm", f"psm/{o}", cap.images, cap.mask, cap.lights
    if "synth" in sets:
        for seed in range(synthetic):
            cap = make_capture(size=128, num_lights=32, noise=0.005, seed=seed)
            yield "generated", f"synth seed {seed}", cap.images, cap.mask, cap.lights
    if "glossy" in sets:
        for seed in range(glossy):
            for k, bits in ((32, None), (12, 8)):
                cap = make_glossy_capture(size=128, num_lights=k, bits=bits, seed=seed)
                yield (f"glossy {k}", f"glossy {k} seed {seed}", cap.images, cap.mask,
                       cap.lights)
    if "diligent" in sets and root is not None:
        for o in ("diligent/ball", "diligent/bear", "diligent/reading",
                  "diligent_test/buddha", "diligent_test/pot2"):
            cap = read_capture(root / o)
            yield "DiLiGenT (reported)", o, cap.images, cap.mask, cap.lights


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default="0,0.3")
    ap.add_argument("--sets", default="psm,synth,glossy")
    ap.add_argument("--synthetic", type=int, default=6)
    ap.add_argument("--glossy", type=int, default=6)
    args = ap.parse_args()
    torch.set_num_threads(1)
    weights = [float(w) for w in args.weights.split(",")]
    net = load_light_net(None)
    print("| capture | network alone | " + " | ".join(f"weight {w:g}" for w in weights)
          + " |")
    print("|---" * (2 + len(weights)) + "|")
    groups: dict[str, list[list[float]]] = {}
    for group, name, images, mask, lights in captures(args.sets.split(","),
                                                       args.synthetic, args.glossy):
        d, _ = predict_lights(to_grey(check_images(images)), mask, net)
        row = []
        for w in weights:
            U.PRIOR_WEIGHT = w
            est = U.uncalibrated_lights(images, mask, method="auto", source=name)
            row.append(float(angular_error_deg(est.directions, lights).mean()))
        groups.setdefault(group, []).append(row)
        print(f"| {name} | {float(angular_error_deg(d, lights).mean()):.2f} | "
              + " | ".join(f"{v:.2f}" for v in row) + " |", flush=True)
    for group, rows in groups.items():
        print(f"| mean, {group} ({len(rows)}) | | "
              + " | ".join(f"{v:.2f}" for v in np.mean(rows, axis=0)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
