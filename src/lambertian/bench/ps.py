"""The ``ps`` suite: every photometric-stereo method on every real set with ground truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

# Real captures with ground-truth normals (relative to the data root).
PS_SETS = ("diligent/ball", "diligent/bear", "diligent/reading", "psm/gray")


def ps_suite(data_root: Path, methods: tuple[str, ...] | None = None,
             sets: tuple[str, ...] = PS_SETS, log=print) -> list[dict[str, Any]]:
    """One row per (capture, method): mean/median angular error and compute seconds.

    Seconds count the solve only (after loading), on the threads torch is set to.
    """
    from lambertian.core.metrics import normal_error_stats
    from lambertian.io import read_capture
    from lambertian.ps import METHODS, get_solver

    rows = []
    for rel in sets:
        path = data_root / rel
        if not path.exists():
            log(f"skipping {rel}: not found under {data_root}")
            continue
        cap = read_capture(path)
        images = cap.normalized_images()
        for method in methods or METHODS:
            t0 = time.perf_counter()
            res = get_solver(method)(images, cap.lights, cap.mask, source=str(path))
            seconds = time.perf_counter() - t0
            err = normal_error_stats(res.normals, cap.normals, cap.mask)
            rows.append({"set": rel, "method": method, "images": cap.num_images,
                         "pixels": err["pixels"], "mean_deg": err["mean"],
                         "median_deg": err["median"], "below_11.25_pct": err["below_11.25"],
                         "seconds": seconds})
            log(f"{rel:20s} {method:8s} mean {err['mean']:6.2f} deg  "
                f"median {err['median']:6.2f} deg  {seconds:6.2f} s")
    return rows
