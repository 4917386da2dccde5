"""Solve one capture and write the standard outputs of ``lambertian ps``.

OUT/normals.npy (H x W x 3 float32, project frame, zeros outside the mask),
OUT/albedo.npy, OUT/normal.png (16-bit, (n + 1) / 2), OUT/albedo.png (16-bit),
OUT/metrics.json when the capture has ground-truth normals, and OUT/ps.json (summary).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.metrics import normal_error_stats
from lambertian.io import Capture, write_albedo_png, write_normal_png
from lambertian.io.json_file import write_json
from lambertian.ps import get_solver
from lambertian.ps.result import PSResult


def solve_capture(cap: Capture, method: str, out: str | Path, source: str | None = None,
                  progress: bool = False) -> tuple[PSResult, dict[str, Any]]:
    """Run ``method`` on ``cap`` and write the outputs listed above into ``out``.

    Returns the result and the summary written to OUT/ps.json.
    """
    source = source or str(cap.root)
    res = get_solver(method)(cap.normalized_images(), cap.lights, cap.mask, source=source,
                             progress=progress)
    return res, write_ps_outputs(cap, res, method, out, source)


def write_ps_outputs(cap: Capture, res: PSResult, method: str, out: str | Path,
                     source: str | None = None) -> dict[str, Any]:
    """Write a solved capture's outputs (listed above) into ``out``; returns the summary
    written to OUT/ps.json."""
    out = Path(out)
    source = source or str(cap.root)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "normals.npy", res.normals.astype(np.float32))
    np.save(out / "albedo.npy", res.albedo.astype(np.float32))
    write_normal_png(out / "normal.png", res.normals, res.mask)
    albedo_scale = write_albedo_png(out / "albedo.png", res.albedo, res.mask)
    summary: dict[str, Any] = {
        "capture": source, "name": cap.name, "method": method, "images": cap.num_images,
        "size": [cap.shape[1], cap.shape[0]], "bit_depth": cap.bit_depth,
        "pixels": int(res.mask.sum()), "seconds": res.info.get("seconds"),
        "albedo_png_scale": albedo_scale,
        "settings": {k: v for k, v in res.info.items() if k not in ("seconds", "normal_error")}}
    if cap.normals is not None:
        metrics = normal_error_stats(res.normals, cap.normals, cap.mask)
        metrics.update(method=method, capture=cap.name)
        write_json(out / "metrics.json", metrics)
        summary["metrics"] = metrics
    write_json(out / "ps.json", summary)
    return summary
