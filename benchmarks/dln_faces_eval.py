"""Deep Lambertian Network on Yale B faces: one image -> normals, albedo, light.

    python benchmarks/dln_faces_eval.py [--every N] [--cache DIR] [--figure PNG] [--refine-light]

The prior is learned from the photometric-stereo albedo and normal maps of subjects
01-22; each validation image (subjects 23-28; every N-th with ``--every``) is explained
by :func:`lambertian.learn.dln_faces.infer_face` under the shipped face light model's
estimate (the recognition model of the light; refining the light through the decoder
made it worse). Normals are compared with photometric stereo on all of that subject's
(not near-black) images, at the network's 48 x 42 resolution, over the face mask of the
training subjects (:func:`lambertian.learn.faces.mean_face`) and over the whole crop;
albedo up to scale (correlation); the light against the file name.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--every", type=int, default=1, help="use every N-th validation image")
    ap.add_argument("--cache", help="folder for the per-subject photometric stereo")
    ap.add_argument("--figure", help="write a relighting figure of the first image here")
    ap.add_argument("--refine-light", action="store_true",
                    help="let the DLN refine the regressor's light (worse: 11.6 against 6.3 "
                         "degrees on every 4th image)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.core.metrics import angular_error_deg, normal_error_stats
    from lambertian.io import data_root, read_yaleb
    from lambertian.learn.dln_faces import (
        DLN_SIZE,
        downsample,
        downsample_normals,
        fit_prior,
        infer_face,
        relight_figure,
    )
    from lambertian.learn.faces import (
        TRAIN_SUBJECTS,
        VAL_SUBJECTS,
        mean_face,
        subject_dir,
        subject_normals,
    )
    from lambertian.learn.train_light import estimate_light_learned

    root = data_root() / "yaleb"
    t0 = time.perf_counter()
    ps = [subject_normals(subject_dir(root, s), args.cache) for s in TRAIN_SUBJECTS]
    prior = fit_prior([p[1] for p in ps], [p[0] for p in ps])
    mask = downsample(mean_face(root, cache_dir=args.cache).mask.astype(np.float32)) > 0.5
    full = np.ones(DLN_SIZE, bool)
    print(f"prior: {len(prior.var)} components ({time.perf_counter() - t0:.0f} s)", flush=True)
    n_err, n_err_full, n_err_mean, light_err, light_err_reg, alb_corr = [], [], [], [], [], []
    mean_n = prior.surface(torch.zeros(len(prior.var)), torch.zeros(3, *DLN_SIZE))[1].numpy()
    count = 0
    for s in VAL_SUBJECTS:
        cap = read_yaleb(subject_dir(root, s))
        ref_n, ref_a = subject_normals(subject_dir(root, s), args.cache)
        ref_n, ref_a = downsample_normals(ref_n), downsample(ref_a)
        for k in range(cap.num_images):
            if count % args.every:
                count += 1
                continue
            count += 1
            img = cap.images[k, ..., 0]
            reg = estimate_light_learned(img, "faces").direction
            inf = infer_face(downsample(img), prior, reg, fit_light=args.refine_light)
            n_err.append(normal_error_stats(inf.normals, ref_n, mask)["mean"])
            n_err_full.append(normal_error_stats(inf.normals, ref_n, full)["mean"])
            n_err_mean.append(normal_error_stats(mean_n, ref_n, mask)["mean"])
            light_err.append(float(angular_error_deg(inf.light, cap.lights[k])))
            light_err_reg.append(float(angular_error_deg(reg, cap.lights[k])))
            alb_corr.append(float(np.corrcoef(inf.albedo[mask], ref_a[mask])[0, 1]))
            if args.figure and len(n_err) == 1:
                lights = cap.lights[[i for i in range(cap.num_images)
                                     if cap.meta["angles"][i, 1] == 0][:6]]
                relight_figure(args.figure, downsample(img), inf, lights)
    print(f"{len(n_err)} validation images ({time.perf_counter() - t0:.0f} s)")
    print(f"normals vs PS, face mask: mean {np.mean(n_err):.2f} deg (median over images "
          f"{np.median(n_err):.2f}); whole crop {np.mean(n_err_full):.2f}; the prior's mean "
          f"face alone {np.mean(n_err_mean):.2f}")
    print(f"light: DLN {np.mean(light_err):.2f} mean / {np.median(light_err):.2f} median deg; "
          f"its starting regressor {np.mean(light_err_reg):.2f} / {np.median(light_err_reg):.2f}")
    print(f"albedo vs PS (correlation over the face mask): {np.mean(alb_corr):.3f}")


if __name__ == "__main__":
    main()
