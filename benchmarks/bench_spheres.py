"""The Deep Lambertian spheres run against the seed's algorithm: time, memory, accuracy.

    python benchmarks/bench_spheres.py [--noise 0] [--repeats 1] [--core N]
                                       [--seed-dtypes float32,float64] [--perpixel]
                                       [--out results.json]

Runs, each in its own fresh process on one thread (torch and BLAS), pinned to one core
(``--core``, default the last core this process may use; ``--core -1``: not pinned):

- ``default``: ``lambertian spheres train`` with its defaults (data generation,
  training, inference with the prior, the closed-form baselines, the results JSON);
- ``seed_numpy_<dtype>``: ``benchmarks/seed_spheres_numpy.py``, the seed document's
  NumPy algorithm (per-pixel MLP, manual backprop, 120 epochs of SGD) with its
  settings, in float32 (the faster, stricter peer) and, with ``--seed-dtypes``,
  float64 (NumPy's default type);
- ``perpixel`` (``--perpixel``): our torch stand-in for the seed, ``--model perpixel``.

For each: wall-clock, CPU time and peak resident memory of that process alone
(``os.wait4``'s resource usage: the child's own ``ru_maxrss``), and the final mean
normal error on the 64 test spheres. With ``--repeats`` the runs alternate (default,
seed, default, seed, ...) so that a change of the machine's load hits both; the time
ratios are computed per repeat and their median printed. The machine may be shared:
compare the ratios, not the seconds. The load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure(argv: list[str], core: int, noise: float) -> dict:
    """Run ``argv`` (+ --results-json) in a fresh process; its time, memory and error."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        env = {**os.environ, **ONE_THREAD}

        def pin() -> None:
            if core >= 0:
                os.sched_setaffinity(0, {core})

        w = time.perf_counter()
        p = subprocess.Popen([*argv, "--results-json", str(out)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=pin)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - w
        err = p.stderr.read().decode() if p.stderr else ""
        if status != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({status}): {err[-2000:]}")
        res = json.loads(out.read_text())
    final = res["final_test"]
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024.0,
            "mean_deg": final["normal_angular_error_deg_mean"],
            "median_deg": final["normal_angular_error_deg_median"],
            "albedo_mse": final["albedo_mse"], "noise": noise}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--core", type=int, default=None,
                    help="core to pin every run to (default: the last allowed; -1: none)")
    ap.add_argument("--seed-dtypes", default="float32",
                    help="comma-separated dtypes of the seed NumPy runs (float32, float64)")
    ap.add_argument("--perpixel", action="store_true",
                    help="also run our torch stand-in for the seed (--model perpixel)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    core = max(os.sched_getaffinity(0)) if args.core is None else args.core
    py = sys.executable
    noise = ["--noise", str(args.noise)]
    runs = {"default": [py, "-m", "lambertian.cli.main", "spheres", "train", "--threads",
                        "1", *noise]}
    for dt in args.seed_dtypes.split(","):
        if args.noise:
            raise SystemExit("the seed's algorithm is defined on noise-free images: --noise 0")
        runs[f"seed_numpy_{dt}"] = [py, str(HERE / "seed_spheres_numpy.py"), "--dtype", dt]
    if args.perpixel:
        runs["perpixel"] = [*runs["default"], "--model", "perpixel"]
    rows: dict = {"load_average_start": os.getloadavg(), "core": core, "noise": args.noise,
                  "runs": {name: [] for name in runs}}
    for rep in range(args.repeats):
        for name, argv in runs.items():
            r = measure(argv, core, args.noise)
            rows["runs"][name].append(r)
            print(f"[{rep + 1}/{args.repeats}] {name}: wall {r['wall_s']:.1f} s, cpu "
                  f"{r['cpu_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB, mean "
                  f"{r['mean_deg']:.2f} deg (median {r['median_deg']:.2f})", flush=True)
    rows["load_average_end"] = os.getloadavg()
    ratios = {}
    for name in runs:
        if name == "default":
            continue
        for key in ("wall_s", "cpu_s"):
            per = [d[key] / s[key] for d, s in zip(rows["runs"]["default"],
                                                   rows["runs"][name], strict=True)]
            ratios[f"default_over_{name}_{key[:-2]}"] = statistics.median(per)
    rows["ratios"] = ratios
    print("\n| run | wall (s) | CPU (s) | peak RSS (MB) | mean / median error (deg) |")
    print("|---|---|---|---|---|")
    for name, rs in rows["runs"].items():
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        print(f"| {name} | {med['wall_s']:.1f} | {med['cpu_s']:.1f} | "
              f"{med['peak_rss_mb']:.0f} | {med['mean_deg']:.2f} / {med['median_deg']:.2f} |")
    print()
    for k, v in ratios.items():
        print(f"{k}: {v:.3f}")
    print(f"load average: start {rows['load_average_start']}, end "
          f"{rows['load_average_end']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
