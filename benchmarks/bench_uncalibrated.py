"""Uncalibrated photometric stereo on the real data (python benchmarks/bench_uncalibrated.py
[DATA_ROOT] [--no-yaleb] [--no-normals]).

One Markdown row per object: light direction error (mean, max, degrees), scale-invariant
intensity error, seconds of one estimate on one thread (the target is under 30 s), and on
objects with ground truth the normals of robust photometric stereo with these lights
against those with the calibrated lights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from lambertian.bench.lights import uncalibrated_rows
from lambertian.io import data_root


def main() -> int:
    torch.set_num_threads(1)
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = Path(args[0]) if args else data_root()
    if root is None:
        print("no data root found", file=sys.stderr)
        return 2
    rows = uncalibrated_rows(root, yaleb="--no-yaleb" not in sys.argv,
                             normals_check="--no-normals" not in sys.argv)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = [f"{r.get(k):.3f}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                 for k in keys]
        print("| " + " | ".join(cells) + " |")
    diligent = [r for r in rows if r["dataset"].startswith("diligent")]
    if diligent:
        mean = sum(r["dir_mean_deg"] for r in diligent) / len(diligent)
        print(f"\nDiLiGenT average of per-object mean direction errors: {mean:.2f} deg "
              f"over {len(diligent)} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
