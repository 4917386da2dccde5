"""Solve one capture and write the standard outputs of ``lambertian ps``.

OUT/normals.npy (H x W x 3 float32, project frame, zeros outside the mask),
OUT/albedo.npy, OUT/normal.png (16-bit, (n + 1) / 2), OUT/albedo.png (16-bit),
OUT/metrics.json when the capture has ground-truth normals, and OUT/ps.json (summary).

A mask pixel that is black in every image (a dead pixel, a crevice never lit) has no
normal: the least-squares solvers leave it a zero vector, written as such (0 in
normals.npy and albedo.npy, "no normal" in normal.png), counted in ps.json's
``unknown_pixels`` and said in one warning line; it does not stop the run.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.errors import InputError, InputWarning
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
    from lambertian.ps.inputs import check_capture_lights

    source = source or str(cap.root)
    # the checks of `ps` (batch solves here): unknown lights said as such, not "non-finite"
    check_capture_lights(cap.lights, cap.num_images, cap.meta.get("lights_file"), source)
    res = get_solver(method)(cap.normalized_images(), cap.lights, cap.mask, source=source,
                             progress=progress)
    return res, write_ps_outputs(cap, res, method, out, source)


def write_ps_outputs(cap: Capture, res: PSResult, method: str, out: str | Path,
                     source: str | None = None) -> dict[str, Any]:
    """Write a solved capture's outputs (listed above) into ``out``; returns the summary
    written to OUT/ps.json."""
    out = Path(out)
    source = source or str(cap.root)
    # Judged before anything is written, so that an error names the capture, not a file
    # in the temporary output folder.
    unknown = unknown_normals(cap, res, source)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "normals.npy", res.normals.astype(np.float32))
    np.save(out / "albedo.npy", res.albedo.astype(np.float32))
    write_normal_png(out / "normal.png", res.normals, res.mask)
    albedo_scale = write_albedo_png(out / "albedo.png", res.albedo, res.mask)
    summary: dict[str, Any] = {
        "capture": source, "name": cap.name, "method": method, "images": cap.num_images,
        "size": [cap.shape[1], cap.shape[0]], "bit_depth": cap.bit_depth,
        "pixels": int(res.mask.sum()), "seconds": res.info.get("seconds"),
        "albedo_png_scale": albedo_scale, "unknown_pixels": unknown,
        "settings": {k: v for k, v in res.info.items() if k not in ("seconds", "normal_error")}}
    if cap.normals is not None:
        metrics = normal_error_stats(res.normals, cap.normals, cap.mask)
        metrics.update(method=method, capture=cap.name)
        write_json(out / "metrics.json", metrics)
        summary["metrics"] = metrics
    write_json(out / "ps.json", summary)
    return summary


def unknown_normals(cap: Capture, res: PSResult, source: str) -> int:
    """Number of mask pixels without a normal (zero vector) that are black in every image.

    Such a pixel carries no information: its normal is unknown, not wrong, and one dead
    pixel must not fail a solve, so it is said in a warning line and written as "no
    normal". A zero or non-finite normal anywhere else means the solve broke down (values
    beyond what its arithmetic handles): InputError naming the capture ``source``.
    """
    n = np.asarray(res.normals, np.float64)
    m = np.asarray(res.mask, bool)
    bad = m & ~np.isfinite(n).all(axis=-1)
    if bad.any():
        raise InputError(source, f"the solver gave NaN or infinite normals at "
                                 f"{int(bad.sum())} of {int(m.sum())} mask pixels")
    zero = m & ~n.any(axis=-1)
    if not zero.any():
        return 0
    images = np.asarray(cap.images)
    black = ~images[:, zero].reshape(images.shape[0], int(zero.sum()), -1).any(axis=(0, 2))
    if not black.all():
        raise InputError(source, f"the solver found no normal at {int((~black).sum())} of "
                                 f"{int(m.sum())} mask pixels that are not black")
    count = int(zero.sum())
    r, c = (int(v) for v in np.argwhere(zero)[0])
    what = (f"mask pixel (row {r}, column {c}) is black in every image: its normal is"
            if count == 1 else f"{count} mask pixels are black in every image (the first at "
                               f"row {r}, column {c}): their normals are")
    warnings.warn(InputWarning(source, f"{what} unknown (zero in normals.npy, none in "
                                       "normal.png)"), stacklevel=2)
    return count
