"""Pilot: does training under miscalibrated lights help the learned solver on real data?

Trains the first stage of the recipe briefly (4000 steps, batch 512, seed 0, width 32,
grooves 0.3, no least-squares head) twice: with the generator's lights exact, and with
the observations rendered under lights turned by a per-sample spread of up to
``--error`` degrees from the ones the network is given
(``observation_batch(light_error_deg=)``). Then compares the two networks' regressed
normals on the selection data (the sets of ``experiments/ps_net_width.py``).

    python experiments/ps_net_light_error.py [--error 3] [--threads 1] [--out DIR]

Measured (2026-12-05, one thread, 580-1320 s per network, quiet or busy machine):
docs/learned-ps.md, "Training under miscalibrated lights".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io.data_root import data_root
from lambertian.learn.ps_net_training import train_ps_net
from lambertian.ps import get_solver

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import _sets  # noqa: E402

PILOT = {"steps": 4000, "batch": 512, "seed": 0, "lr": 1e-3, "width": 32, "blocks": 2,
         "hidden": 96, "grooves": 0.3}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--error", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("light_error_pilot"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    compare_pilots({f"lights off by up to {err:g} deg":
                    (args.out / f"pilot_error_{err:g}.pt", {"light_error_deg": err})
                    for err in (0.0, args.error)})
    return 0


def compare_pilots(variants: dict[str, tuple[Path, dict]]) -> None:
    """Train each variant's pilot (:data:`PILOT` with its generator options) unless its file
    exists, then print the networks' mean errors on the selection sets, a column each."""
    for file, options in variants.values():
        if not file.exists():
            train_ps_net(**PILOT, **options, out=file, every=500)
    torch.set_num_threads(1)
    print("| data | " + " | ".join(variants) + " |")
    print("|---|" + "---|" * len(variants))
    for name, img, L, m, gt in _sets(data_root()):
        row = [float(angular_error_deg(get_solver("net")(img, L, m, weights=f).normals[m],
                                       gt[m]).mean()) for f, _ in variants.values()]
        print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in row) + " |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
