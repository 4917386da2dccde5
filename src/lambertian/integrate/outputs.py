"""One entry point over the integrators, and the files a depth result is written to.

``OUT/depth.npy`` (float32, NaN outside the mask), ``OUT/depth.png`` (16-bit: 0 outside the
mask, the masked depth range mapped linearly to 1..65535, nearer is darker),
``OUT/depth.exr`` (float32 channel Y, NaN outside), ``OUT/mesh.ply`` (binary PLY with
vertex normals and albedo colours) and ``OUT/depth.json`` (how to read the PNG back, the
projection, K, the method and its notes).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.errors import InputError
from lambertian.integrate.mesh import depth_to_mesh, write_ply
from lambertian.integrate.result import DepthResult

# method name -> module holding the integrator of that name; imported on use, so that
# the command line's --help does not load SciPy's sparse solvers
METHODS: dict[str, str] = {
    "bilateral": "lambertian.integrate.bilateral",
    "poisson": "lambertian.integrate.poisson",
    "frankot_chellappa": "lambertian.integrate.frankot_chellappa",
}
# Bilateral by default: on DiLiGenT's ground-truth normals it is 3x (bear) to 13x
# (reading) closer to the true depth than plain least squares (benchmarks/bench_integrate.py).
DEFAULT_METHOD = "bilateral"


def integrate_normals(normals: np.ndarray, mask: np.ndarray | None = None,
                      K: np.ndarray | None = None, method: str = DEFAULT_METHOD,
                      **kwargs: Any) -> DepthResult:
    """Depth from a normal map with the named method (see :data:`METHODS`).

    normals : (H, W, 3) unit normals, project frame; mask : (H, W) bool or None;
    K : (3, 3) intrinsics or None (orthographic). Extra keywords go to the method.
    """
    if method not in METHODS:
        raise InputError("--method", f"unknown integration method {method!r}; choose from "
                                     f"{', '.join(METHODS)}")
    integrator = getattr(importlib.import_module(METHODS[method]), method)
    return integrator(normals, mask, K, **kwargs)


def depth_to_png16(depth: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(H, W) depth, NaN outside -> (uint16 image, depth at code 1, depth at code 65535)."""
    d = np.asarray(depth, np.float64)
    v = np.isfinite(d)
    lo, hi = float(d[v].min()), float(d[v].max())
    span = hi - lo if hi > lo else 1.0
    code = np.zeros(d.shape, np.uint16)
    code[v] = np.rint(1.0 + (d[v] - lo) / span * 65534.0).astype(np.uint16)
    return code, lo, hi


def write_depth(out: str | os.PathLike[str], result: DepthResult,
                normals: np.ndarray | None = None, albedo: np.ndarray | None = None
                ) -> dict[str, Path]:
    """Write depth.npy, depth.png, depth.exr, mesh.ply and depth.json into ``out``.

    Parameters
    ----------
    out : output folder (created).
    result : what an integrator returned.
    normals : optional (H, W, 3) unit normals for the mesh's vertex normals.
    albedo : optional (H, W[, C]) albedo for the mesh's vertex colours.

    Returns the paths written, by kind.
    """
    from lambertian.io import write_exr
    from lambertian.io.json_file import write_json
    from lambertian.io.writers import write_png16

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    depth = np.asarray(result.depth, np.float32)
    paths = {"npy": folder / "depth.npy", "png": folder / "depth.png",
             "exr": folder / "depth.exr", "ply": folder / "mesh.ply",
             "json": folder / "depth.json"}
    np.save(paths["npy"], depth)
    code, lo, hi = depth_to_png16(depth)
    write_png16(paths["png"], code)
    write_exr(paths["exr"], depth)
    if normals is not None:
        normals = np.where(result.mask[..., None], np.asarray(normals, np.float64), 0.0)
    write_ply(paths["ply"], depth_to_mesh(depth, result.K, normals, albedo))
    meta = {
        "method": result.info.get("method"),
        "projection": result.info.get("projection"),
        "units": "depth along the optical axis, true scale unknown: each region's median "
        "is info.median_depth" if result.K is not None
        else "pixels along the optical axis, up to one unknown offset per region",
        "K": None if result.K is None else np.asarray(result.K).tolist(),
        "png": {"0": "outside the mask", "1": lo, "65535": hi,
                "decode": "depth = png_1 + (code - 1) * (png_65535 - png_1) / 65534"},
        "pixels": int(result.mask.sum()),
        "info": {k: v for k, v in result.info.items()},
    }
    write_json(paths["json"], meta)
    return paths


def integrate_to_folder(result_like: Any, out: str | os.PathLike[str],
                        K: np.ndarray | None = None, method: str = DEFAULT_METHOD,
                        **kwargs: Any) -> DepthResult:
    """What ``lambertian ps DIR --depth`` calls: integrate a PSResult-like object and
    write the depth files (see the module docstring) into ``out``.

    Parameters
    ----------
    result_like : anything with ``normals`` (H, W, 3, project frame) and ``mask`` (H, W),
        optionally ``albedo`` (H, W[, C]) for the mesh colours and ``K``.
    out : output folder.
    K : (3, 3) intrinsics (perspective) or None; defaults to ``result_like.K`` if present.
    method : one of :data:`METHODS`.

    Returns the DepthResult; its ``notes`` say what a user should know (regions, dropped
    pixels).
    """
    if K is None:
        K = getattr(result_like, "K", None)
    res = integrate_normals(result_like.normals, result_like.mask, K, method, **kwargs)
    write_depth(out, res, result_like.normals, getattr(result_like, "albedo", None))
    return res


def write_depth_outputs(out: str | os.PathLike[str], normals: np.ndarray, mask: np.ndarray,
                        K: np.ndarray | None = None, albedo: np.ndarray | None = None,
                        method: str = DEFAULT_METHOD, **kwargs: Any) -> dict[str, Any]:
    """Integrate ``normals`` over ``mask`` and write the depth files into ``out``.

    The call behind ``lambertian ps DIR --depth``: (H, W, 3) project-frame normals,
    (H, W) bool mask, optional (3, 3) intrinsics (perspective) and (H, W[, C]) albedo for
    the mesh colours. Returns a JSON-ready summary (files, method, regions, notes, time);
    the notes are also printed, since a user should know about them.
    """
    res = integrate_normals(normals, mask, K, method, **kwargs)
    return depth_summary(res, write_depth(out, res, normals, albedo))


def depth_summary(res: DepthResult, paths: dict[str, Path]) -> dict[str, Any]:
    """JSON-ready summary of a written depth result (files, method, regions, notes, time);
    the notes are also printed, since a user should know about them."""
    for note in res.notes:
        print(f"integrate: {note}", flush=True)
    return {"files": {k: str(v) for k, v in paths.items()}, "method": res.info["method"],
            "projection": res.info["projection"], "components": res.info["components"],
            "notes": res.notes, "seconds": res.info["seconds"]}
