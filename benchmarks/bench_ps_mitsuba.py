"""Photometric stereo on an independent renderer's images: every solver (and the
uncalibrated light estimator) on Mitsuba 3 path-traced captures
(:mod:`lambertian.synth.mitsuba_ps_capture`: cast shadows, one bounce of
interreflection, Mitsuba's own rough dielectrics, conductors and principled paint) of a
lumpy sphere, a torus tilted toward the camera and a folded sheet, under DiLiGenT ball's
96 lights, recorded by a 16-bit camera exposed so that the 99th percentile of the
object's values sits at half scale (brighter highlights clip).

    python benchmarks/bench_ps_mitsuba.py [--size 128] [--spp 32] [--cache DIR]
        [--no-lights] [--grey] [--weights F ...]

Mean angular error (degrees) over the mask; ``lights`` is the uncalibrated estimator's
mean light direction error (``lambertian lights DIR``, nothing known). Renders are cached
in ``--cache`` (the first run renders 18 x 96 images: about 15 minutes on one thread,
solvers included).
One thread each (torch and Mitsuba).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io.data_root import data_root
from lambertian.lights.uncalibrated import uncalibrated_lights
from lambertian.ps import get_solver
from lambertian.render.mesh import Mesh
from lambertian.synth import meshes
from lambertian.synth.mitsuba_ps_capture import MATERIALS, expose, render_ps_capture
from lambertian.synth.mitsuba_setup import load_mitsuba

METHODS = ("ls", "robust", "net", "auto")


def _tilted(mesh: Mesh, degrees: float) -> Mesh:
    """The mesh turned about the x axis (its top toward the camera)."""
    a = math.radians(degrees)
    R = torch.tensor([[1.0, 0.0, 0.0], [0.0, math.cos(a), -math.sin(a)],
                      [0.0, math.sin(a), math.cos(a)]], dtype=mesh.vertices.dtype)
    return Mesh.create(mesh.vertices @ R.T, mesh.faces)


def objects() -> dict[str, Mesh]:
    """The three shapes, scaled into the orthographic window (half-width 1.15)."""
    torus = meshes.torus(major=0.7, minor=0.3)
    blob = meshes.blob(seed=3)
    return {"blob": Mesh.create(blob.vertices * 0.85, blob.faces),
            "torus": _tilted(torus, -55.0),
            "sheet": meshes.folded_sheet()}


def capture(name: str, mesh: Mesh, material: str, lights: np.ndarray, args) -> dict:
    """The rendered capture (cached as .npz under ``args.cache``)."""
    key = f"{name}-{material.replace(', ', '-').replace(' ', '_')}-{args.size}-{args.spp}.npz"
    path = Path(args.cache) / key
    if path.is_file():
        return dict(np.load(path))
    cap = render_ps_capture(mesh, MATERIALS[material], lights, size=args.size, spp=args.spp)
    out = {"images": cap.images, "lights": cap.lights, "normals": cap.normals,
           "mask": cap.mask}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **out)
    return out


def light_error(est: np.ndarray, true: np.ndarray) -> float:
    ok = np.all(np.isfinite(est), axis=1)
    return float(angular_error_deg(est[ok], true[ok]).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--spp", type=int, default=32)
    ap.add_argument("--cache", default=".cache/mitsuba_ps")
    ap.add_argument("--objects", default="blob,torus,sheet")
    ap.add_argument("--materials", default=",".join(MATERIALS), help="comma-separated "
                    "(names contain ', ': separate with ';' instead)")
    ap.add_argument("--no-lights", action="store_true", help="skip the uncalibrated column")
    ap.add_argument("--grey", action="store_true",
                    help="one more column: robust on the grey image alone (colour=False)")
    ap.add_argument("--weights", nargs="*", default=[],
                    help="more columns: the learned solver with these weights files")
    args = ap.parse_args()
    torch.set_num_threads(1)
    import drjit as dr

    load_mitsuba()
    dr.set_thread_count(1)
    root = data_root()
    if root is None:
        raise SystemExit("needs ../shared/data (DiLiGenT ball's 96 lights)")
    L = np.loadtxt(root / "diligent/ball/light_directions.txt")
    shapes = objects()
    names = [s for s in args.objects.split(",") if s]
    mats = args.materials.split(";") if ";" in args.materials else [
        m for m in MATERIALS if m in args.materials]
    cols = list(METHODS) + (["robust, grey only"] if args.grey else []) + [
        f"net ({w})" for w in args.weights] + (
        [] if args.no_lights else ["lights"])
    print("| object | material | " + " | ".join(cols) + " | auto ran |")
    print("|---|---|" + "---|" * (len(cols) + 1))
    sums = {c: [] for c in cols}
    for name in names:
        for mat in mats:
            cap = capture(name, shapes[name], mat, L, args)
            m = cap["mask"]
            img = expose(cap["images"], m)
            runs = [(method, {}) for method in METHODS]
            runs += [("robust", {"colour": False})] if args.grey else []
            runs += [("net", {"weights": w}) for w in args.weights]
            row, solver = [], ""
            for method, options in runs:
                res = get_solver(method)(img, cap["lights"], m, **options)
                row.append(float(angular_error_deg(res.normals[m], cap["normals"][m]).mean()))
                if method == "auto":
                    solver = res.info["solver"]
            if not args.no_lights:
                est = uncalibrated_lights(img, m, seed=0)
                row.append(light_error(est.directions, cap["lights"]))
            for c, v in zip(cols, row, strict=True):
                sums[c].append(v)
            print(f"| {name} | {mat} | " + " | ".join(f"{v:.2f}" for v in row)
                  + f" | {solver} |", flush=True)
    print("| mean | | " + " | ".join(f"{np.mean(v):.2f}" for v in sums.values()) + " | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
