"""Normal integration: accuracy against DiLiGenT's depth_gt, and speed on a 612 x 512 mask.

    python benchmarks/bench_integrate.py [--figure OUT.png] [--repeat 3] [--speed-only]

Accuracy: mean absolute depth error (mm) after the best scale-and-offset alignment to
depth_gt.npy, perspective with K.txt, for the ground-truth normals and for the
least-squares and robust normals (lambertian.ps, all 96 images). Speed: seconds on one
core for a full 612 x 512 rectangle (313,344 pixels) of a smooth synthetic surface, the
best of ``--repeat`` runs (wall clock and CPU time of this
single-threaded process), with Frankot-Chellappa (one FFT) as the baseline measured in
the same run, since timings on a shared machine are noisy.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, before NumPy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lambertian.bench.integrate import integrate_suite  # noqa: E402
from lambertian.integrate import integrate_normals  # noqa: E402
from lambertian.integrate.geometry import normals_from_depth  # noqa: E402
from lambertian.io import data_root  # noqa: E402
from lambertian.io.markdown import markdown_table  # noqa: E402

METHODS = ("poisson", "bilateral", "frankot_chellappa")


def accuracy_rows() -> list[dict]:
    root = data_root()
    if root is None:
        print("real data not found: accuracy skipped")
        return []
    return integrate_suite(root)


def speed_rows(repeat: int) -> list[dict]:
    h, w = 512, 612
    r, c = np.mgrid[0:h, 0:w].astype(np.float64)
    depth = 30.0 * np.sin(c / 40.0) * np.cos(r / 55.0) + 1e-3 * (c - 300) ** 2
    n = normals_from_depth(depth)
    mask = np.isfinite(n).all(-1)
    n = np.nan_to_num(n)
    times, cpu = {}, {}
    for method in ("frankot_chellappa", *METHODS[:2]):
        times[method] = cpu[method] = np.inf
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            integrate_normals(n, mask, None, method)
            times[method] = min(times[method], time.perf_counter() - t0)
            cpu[method] = min(cpu[method], time.process_time() - c0)
    base = times["frankot_chellappa"]
    # CPU seconds of this single-threaded process: what one idle core would take, even
    # when other jobs share the machine and stretch the wall-clock time.
    return [{"method": m, "pixels": int(mask.sum()), "wall seconds": round(t, 3),
             "CPU seconds": round(cpu[m], 3), "x Frankot-Chellappa (wall)": round(t / base, 1)}
            for m, t in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", default=None, help="bar chart of the accuracy table")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--speed-only", action="store_true", help="skip the real-data part")
    args = parser.parse_args()
    torch.set_num_threads(1)
    speed = speed_rows(args.repeat)
    print("## speed, 612 x 512 rectangle, one core\n")
    print(markdown_table(speed))
    rows = [] if args.speed_only else accuracy_rows()
    if rows:
        print("\n## depth error after scale-and-offset alignment (perspective, K.txt)\n")
        print(markdown_table(rows))
        if args.figure:
            from lambertian.viz.figures import bar_chart

            gt = [dict(r, object=f"{r['object']} ({r['normals']})") for r in rows]
            bar_chart(args.figure, gt, "MAE mm", label="method", group="object",
                      title="depth error after alignment (mm)")
            print(f"\nwrote {args.figure}")


if __name__ == "__main__":
    main()
