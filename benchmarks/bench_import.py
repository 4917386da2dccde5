"""How long ``import lambertian`` and ``lambertian --help`` take (the front door must stay
light: torch loads with the first real work, not with the import).

    python benchmarks/bench_import.py [--repeat 5]

Each command runs in a fresh interpreter ``--repeat`` times (one thread); the median is
printed with that of a bare ``python -c pass`` measured in the same run, since the
machines are shared and noisy, and with ``import torch`` for scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "import lambertian": [sys.executable, "-c", "import lambertian"],
    "import lambertian.core, lambertian.app": [sys.executable, "-c",
                                               "import lambertian.core, lambertian.app"],
    "lambertian --help": [sys.executable, "-m", "lambertian.cli.main", "--help"],
    "lambertian ps --help": [sys.executable, "-m", "lambertian.cli.main", "ps", "--help"],
    "import torch (for scale)": [sys.executable, "-c", "import torch"],
}


def median_seconds(cmd: list[str], repeat: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    base = None
    print("| command | median s | / baseline |")
    print("|---|---|---|")
    for name, cmd in COMMANDS.items():
        t = median_seconds(cmd, args.repeat)
        base = base or t
        print(f"| {name} | {t:.3f} | {t / base:.1f} |", flush=True)


if __name__ == "__main__":
    main()
