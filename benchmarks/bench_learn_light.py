"""Single-image light models: inference time per image and the validation numbers.

    python benchmarks/bench_learn_light.py [--faces] [--model FILE] [--temperature T]

Prints the time of one image's inference (preprocessing and prediction, model loaded
once) against the known-normals estimator on the same image as a baseline ratio, for the
plain mirrored pair and, for the face model, with its calibration (test-time shifts and
the spread uncertainty, ``train_light.CALIBRATION``, as ``estimate_light_learned`` runs
it); with ``--faces`` the Yale B validation errors of the shipped face model both ways,
and how far its uncertainty can be trusted (``faces.uncertainty_summary``), overall and
per subject. ``--model`` evaluates another face weights file (e.g. a fresh ``lambertian
train-light --model faces --out FILE``) in place of the shipped one, ``--temperature`` its
calibration temperature (default: the file's, else ``CALIBRATION["faces"]``).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", action="store_true", help="also evaluate on subjects 23-28")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--model", help="face weights file (default: the shipped faces.pt)")
    ap.add_argument("--temperature", type=float, help="calibration temperature of --model")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.core.metrics import angular_error_deg
    from lambertian.io import data_root, read_yaleb
    from lambertian.learn.faces import (
        VAL_SUBJECTS,
        error_summary,
        format_uncertainty,
        subject_dir,
        uncertainty_summary,
    )
    from lambertian.learn.train_light import (
        CALIBRATION,
        load_model,
        predict,
        predict_calibrated,
        prepare_for_model,
        shipped_weights,
    )
    from lambertian.lights.single_image import estimate_light

    root = data_root() / "yaleb"
    cap = read_yaleb(subject_dir(root, VAL_SUBJECTS[0]))
    img = cap.images[0, ..., 0]
    face_file = args.model or shipped_weights("faces")
    face_cal = dict(CALIBRATION["faces"])
    face_cal.update(load_model(face_file)[0].calibration or {})
    if args.temperature is not None:
        face_cal["temperature"] = args.temperature
    for name in ("faces", "objects"):
        model, size = load_model(face_file if name == "faces" else shipped_weights(name))
        kinds = [("mirrored pair", {})]
        if name == "faces":
            cal = face_cal
            kinds.append(("calibrated: spread kappa over test-time shifts",
                          {"shift": cal["shift"], "temperature": cal["temperature"]}))
        for label, kw in kinds:
            run = partial(predict_calibrated, **kw) if kw else predict
            run(model, prepare_for_model(img, size, None, model.norm)[0])  # warm up
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                run(model, prepare_for_model(img, size, None, model.norm)[0])
            ms = 1e3 * (time.perf_counter() - t0) / args.repeat
            print(f"{name}: {ms:.2f} ms per image ({label}, preprocessing included, 1 thread)")
    # a hemisphere's normals over the crop: the known-geometry estimator's work per image
    h, w = img.shape
    y, x = np.mgrid[0:h, 0:w]
    nx, ny = (x - w / 2) / (0.6 * w), -(y - h / 2) / (0.6 * h)
    normals = np.stack([nx, ny, np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0.05, None))], -1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    t0 = time.perf_counter()
    for _ in range(5):
        estimate_light(img, normals)
    print(f"known-normals estimate_light, same image: {1e3 * (time.perf_counter() - t0) / 5:.2f}"
          " ms (reference in the same run)")
    if args.faces:
        model, size = load_model(face_file)
        cal = face_cal
        print(f"faces model {face_file}, temperature {cal['temperature']:.2f}")
        x, truth, dark, subj = [], [], [], []
        for s in VAL_SUBJECTS:
            c = read_yaleb(subject_dir(root, s))
            x.append(torch.cat([prepare_for_model(c.images[k, ..., 0], size, None,
                                                  model.norm)[0]
                                for k in range(c.num_images)]))
            truth.append(c.lights)
            dark += [f in set(c.meta["near_black"]) for f in c.files]
            subj += [s] * c.num_images
        x, truth, dark, subj = torch.cat(x), np.concatenate(truth), np.asarray(dark), \
            np.asarray(subj)
        for label, out in (
                ("mirrored pair", predict(model, x)),
                ("calibrated", predict_calibrated(model, x, cal["shift"],
                                                  cal["temperature"]))):
            err = angular_error_deg(out.direction.numpy(), truth)
            print(f"faces model ({label}), validation subjects 23-28:", error_summary(err))
            print(f"  near-black share {100 * dark.mean():.1f}%; without them:",
                  error_summary(err[~dark]))
            print(format_uncertainty("  kappa", uncertainty_summary(out.kappa.numpy(), err)))
            print("  per subject (mean, near-black mean):", " ".join(
                f"{s}:{err[subj == s].mean():.2f}/{err[(subj == s) & dark].mean():.2f}"
                for s in VAL_SUBJECTS))


if __name__ == "__main__":
    main()
