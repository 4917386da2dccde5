"""How the default solver (``lambertian.ps.auto``) was chosen: least squares, robust, the
learned solver and ``auto`` (robust's and the network's normals summed, or the network
alone where robust's own check finds broad specular reflectance) on the selection data:
generated pixels of every material family and of coloured metals and a metallic paint
(the cases of ``experiments/robust_broad_specular.py``, on DiLiGenT ball's 96 lights),
DiLiGenT ball / bear / reading and UW psm gray. Mean angular error in degrees; ``solver``
is what auto ran.

    python experiments/ps_auto.py [--pixels N]

Measured (2026-12-05, this commit): see docs/learned-ps.md, "The default solver".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io import read_capture
from lambertian.io.data_root import data_root
from lambertian.ps import get_solver

# The cases of the experiment that chose robust's broad-specular threshold, the same pixels.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from robust_broad_specular import generated_cases  # noqa: E402

METHODS = ("ls", "robust", "net", "auto")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixels", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = data_root()
    if root is None:
        raise SystemExit("needs ../shared/data (DiLiGenT ball's lights and the real sets)")
    L = np.loadtxt(root / "diligent/ball/light_directions.txt")
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    cases = generated_cases(L, args.pixels)
    for rel in ("diligent/ball", "diligent/bear", "diligent/reading", "psm/gray"):
        cap = read_capture(root / rel)
        cases[rel] = (cap.normalized_images(), cap.normals, cap.lights, cap.mask)
    print("| data | " + " | ".join(METHODS) + " | solver |")
    print("|---|" + "---|" * (len(METHODS) + 1))
    for name, (img, gt, LL, m) in cases.items():
        errs, solver = [], ""
        for method in METHODS:
            res = get_solver(method)(img, LL, m)
            errs.append(angular_error_deg(res.normals[m], gt[m]).mean())
            solver = res.info.get("solver", solver)
        print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in errs) + f" | {solver} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
