"""The ``integrate`` suite: normal integration against DiLiGenT's depth_gt.npy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

METHODS = ("poisson", "bilateral", "frankot_chellappa")
OBJECTS = ("bear", "reading")  # the DiLiGenT objects published with depth_gt and K


def integrate_suite(data_root: Path, log=print) -> list[dict[str, Any]]:
    """One row per (object, normals, method): mean absolute and RMS depth error in mm after
    the best scale-and-offset alignment, perspective with K.txt, for the ground-truth
    normals and for the least-squares and robust solvers' normals (all 96 images)."""
    from lambertian.integrate import aligned_depth_error, integrate_normals
    from lambertian.io import read_capture
    from lambertian.ps import least_squares, robust

    rows = []
    for name in OBJECTS:
        folder = Path(data_root) / "diligent" / name
        if not folder.is_dir():
            log(f"skipping diligent/{name}: not found under {data_root}")
            continue
        cap = read_capture(folder)
        images = cap.normalized_images()
        solved = {"least squares": least_squares(images, cap.lights, cap.mask).normals,
                  "robust": robust(images, cap.lights, cap.mask).normals}
        for normals_name, normals in (("ground truth", cap.normals), *solved.items()):
            for method in METHODS:
                res = integrate_normals(normals, cap.mask, cap.K, method)
                err = aligned_depth_error(res.depth, cap.depth)
                rows.append({"object": name, "normals": normals_name, "method": method,
                             "MAE mm": round(err["mae"], 3), "RMSE mm": round(err["rmse"], 3),
                             "seconds": round(res.info["seconds"], 2),
                             "iterations": res.info.get("iterations", "")})
                log(f"{name:8s} {normals_name:14s} {method:18s} MAE {err['mae']:.3f} mm")
    return rows
