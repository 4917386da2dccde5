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

import cv2
import numpy as np
import torch


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """The forward sRGB curve (IEC 61966-2-1), what a camera applies before JPEG."""
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def write_folder(folder: Path, scene, kind: str, mask: bool = True) -> None:
    folder.mkdir()
    np.savetxt(folder / "lights.txt", scene.lights)
    np.savetxt(folder / "intensities.txt", scene.intensities)
    if mask:
        cv2.imwrite(str(folder / "mask.png"), scene.mask.astype(np.uint8) * 255)
    for k, img in enumerate(scene.images):
        bgr = np.clip(img[..., ::-1], 0, 1)
        if kind == "png16":
            cv2.imwrite(str(folder / f"{k:03d}.png"), np.rint(bgr * 65535).astype(np.uint16))
        else:
            code = np.rint(linear_to_srgb(bgr) * 255).astype(np.uint8)
            cv2.imwrite(str(folder / f"{k:03d}.jpg"), code,
                        [cv2.IMWRITE_JPEG_QUALITY, 95,
                         cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])


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
    from lambertian.synth.capture import make_capture

    scene = make_capture(size=args.size, num_lights=args.lights, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for kind in ("png16", "jpeg"):
            write_folder(root / kind, scene, kind)
        write_folder(root / "nomask", scene, "png16", mask=False)
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
