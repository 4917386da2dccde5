"""The known-geometry baseline on Yale B validation subjects 23-28, and why its first
version was bad.

    python benchmarks/light_faces_baseline.py [--cache DIR]

A generic face (mean of the photometric-stereo normals and albedos of subjects 01-22)
and :func:`lambertian.lights.single_image.estimate_light` on each of the 384 validation
images, in four variants: the estimator's defaults (uniform albedo, ambient term), then
no ambient, then the mean albedo, then the face mask. Unidentifiable images count as a
frontal estimate. Also prints the mean error vector (estimate - truth), which shows the
+y bias of the uniform-albedo variants.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", help="folder for the per-subject photometric stereo")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.core.metrics import angular_error_deg
    from lambertian.io import data_root
    from lambertian.learn.faces import (
        VAL_SUBJECTS,
        error_summary,
        known_geometry_directions,
        mean_face,
    )

    root = data_root() / "yaleb"
    face = mean_face(root, cache_dir=args.cache)
    variants = [("defaults: uniform albedo, ambient", None, None, True),
                ("no ambient", None, None, False),
                ("mean albedo, ambient", face.albedo, None, True),
                ("mean albedo, no ambient", face.albedo, None, False),
                ("mean albedo, no ambient, face mask (shipped)", face.albedo, face.mask, False)]
    for name, albedo, mask, ambient in variants:
        t0 = time.perf_counter()
        est, true, failed = known_geometry_directions(root, VAL_SUBJECTS, face.normals,
                                                      albedo, mask, ambient)
        err = angular_error_deg(est, true)
        dark = np.asarray([t[2] < 0 for t in true])  # lights behind the face plane
        s = error_summary(err)
        print(f"{name}: mean {s['mean']:.2f} median {s['median']:.2f} under10 "
              f"{s['under_10']:.1f}% | unidentifiable {int(failed.sum())} | mean without them "
              f"{err[~failed].mean():.2f} | bias (est - true) "
              f"{np.round((est - true)[~failed].mean(0), 3).tolist()} | lights behind "
              f"({int(dark.sum())}) {err[dark].mean():.1f} | {time.perf_counter() - t0:.0f} s",
              flush=True)


if __name__ == "__main__":
    main()
