"""Light estimators on the real data (python benchmarks/bench_lights.py [DATA_ROOT]).

Prints one Markdown row per (estimator, data set); timings on one thread.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from lambertian.bench.lights import lights_suite
from lambertian.io import data_root


def main() -> int:
    torch.set_num_threads(1)
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else data_root()
    if root is None:
        print("no data root found", file=sys.stderr)
        return 2
    rows = lights_suite(root)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = [f"{r.get(k):.3f}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                 for k in keys]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
