"""The solvers on 8-bit crops of the selection objects, as some unseen DiLiGenT objects are
judged: each image quantised to 8 bits over the stack's stored range, then a 120 x 120
window around the object's centre, divided by the light intensities. Mean angular error
in degrees over the window's mask.

    python experiments/ps_8bit_crops.py

Measured (2026-12-05): docs/learned-ps.md, "The default solver".
"""

from __future__ import annotations

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io import read_capture
from lambertian.io.data_root import data_root
from lambertian.ps import get_solver

METHODS = ("ls", "robust", "net", "auto")
HALF = 60


def main() -> int:
    torch.set_num_threads(1)
    root = data_root()
    if root is None:
        raise SystemExit("needs ../shared/data")
    print("| data | pixels | " + " | ".join(METHODS) + " |")
    print("|---|---|" + "---|" * len(METHODS))
    for rel in ("diligent/ball", "diligent/bear", "diligent/reading"):
        cap = read_capture(root / rel)
        top = cap.images.max()
        q = np.round(np.clip(cap.images / top, 0, 1) * 255) / 255 * top
        ys, xs = np.nonzero(cap.mask)
        cy, cx = int(ys.mean()), int(xs.mean())
        win = (slice(max(0, cy - HALF), cy + HALF), slice(max(0, cx - HALF), cx + HALF))
        img = (q / cap.intensities[:, None, None, :].astype(np.float32))[:, win[0], win[1]]
        m, gt = cap.mask[win], cap.normals[win]
        errs = [angular_error_deg(get_solver(k)(img, cap.lights, m).normals[m], gt[m]).mean()
                for k in METHODS]
        print(f"| {rel}, 8-bit crop | {int(m.sum())} | "
              + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
