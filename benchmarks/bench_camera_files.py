"""sRGB JPEG captures against linear 16-bit ones: how far apart their normals are.

    python benchmarks/bench_camera_files.py [--size 64] [--lights 12] [--seed 3]

The generated demo object is written twice as a capture folder (lights.txt,
intensities.txt, mask.png): 16-bit linear PNG, and 8-bit sRGB JPEG written by OpenCV
(quality 95, 4:4:4 chroma), as a camera would. Each JPEG capture is read linearised (the
default) and as if linear (``--linear``), solved by every photometric-stereo method, and
compared with the PNG capture's normals (mean and max angle over the mask, degrees). A
third folder without mask.png shows the computed mask (intersection over union with the
true one).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--lights", type=int, default=12)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.app import photometric_stereo
    from lambertian.core.metrics import angular_error_deg
    from lambertian.io import read_capture
    from lambertian.ps import METHODS
    from lambertian.synth.capture import make_capture, write_camera_folder

    scene = make_capture(size=args.size, num_lights=args.lights, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for kind in ("png16", "jpeg"):
            write_camera_folder(root / kind, scene, kind)
        write_camera_folder(root / "nomask", scene, "png16", mask=False)
        m = scene.mask
        print("| solver | JPEG linearised (default) | JPEG read as linear (--linear) |")
        print("|---|---|---|")
        for method in METHODS:
            ref = photometric_stereo(read_capture(root / "png16"), method=method)
            cells = []
            for enc in ("auto", "linear"):
                res = photometric_stereo(read_capture(root / "jpeg", encoding=enc),
                                         method=method)
                d = angular_error_deg(res.normals[m], ref.normals[m])
                cells.append(f"{d.mean():.3f} (max {d.max():.1f})")
            print(f"| {method} | {cells[0]} | {cells[1]} |", flush=True)
        cap = read_capture(root / "nomask")
        iou = (cap.mask & m).sum() / (cap.mask | m).sum()
        print(f"\ncomputed mask: intersection over union {iou:.3f} ({cap.meta['mask_note']})")


if __name__ == "__main__":
    main()
