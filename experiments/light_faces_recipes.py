"""Recipes for the Yale B face light model: the experiments behind the shipped choice.

    python experiments/light_faces_recipes.py --recipe NAME [--recipe NAME ...] [--epochs N]

Each recipe trains on subjects 01-22 only and prints the error on the validation subjects
23-28 (all 384 images, and without the near-black ones), with its training time on one
thread. The shipped recipe was chosen among these few by that validation error (the only
use of the validation subjects); nothing else is tuned on them.
"""

from __future__ import annotations

import argparse
import time

import torch

RECIPES = {
    # name: (model kind, input size, augmentation, pretrained backbone)
    "prev": ("pretrained", (48, 42), "flip", True),
    "aug48": ("pretrained", (48, 42), "full", True),
    "aug64": ("pretrained", (64, 56), "full", True),
    "aug96": ("pretrained", (96, 84), "full", True),
    "scratch64": ("cnn", (64, 56), "full", False),
    "mlp": ("mlp", (48, 42), "full", False),
    "cnn": ("cnn", (48, 42), "full", False),
    "relit64": ("pretrained", (64, 56), "relit", True),
    "relit48": ("pretrained", (48, 42), "relit", True),
    "ens64": ("ensemble", (64, 56), "full", True),
    "ensrelit64": ("ensemble", (64, 56), "relit", True),
    "ens48": ("ensemble", (48, 42), "full", True),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", action="append", required=True, choices=sorted(RECIPES))
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--members", type=int, default=3, help="ensemble members")
    ap.add_argument("--angle", type=float, default=0.0, help="weight of the angle loss")
    ap.add_argument("--albedo-aug", type=float, default=0.0,
                    help="log-amplitude of the random albedo field (FaceAugment.albedo)")
    ap.add_argument("--backbone", help="objects weights (default: the shipped ones)")
    ap.add_argument("--relit", type=int, default=2, help="relit images per real image")
    ap.add_argument("--cache", help="folder for the per-subject photometric stereo")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.app.train_light import train_light_model
    from lambertian.io import data_root
    from lambertian.learn import train_light as tl
    from lambertian.learn.faces import (
        TRAIN_SUBJECTS,
        VAL_SUBJECTS,
        error_summary,
        load_faces,
        relit_faces,
        subject_dir,
        subject_normals,
    )

    root = data_root() / "yaleb"
    backbone = tl.load_model(args.backbone or tl.shipped_weights("objects"))[0]
    for name in args.recipe:
        kind, size, aug, pre = RECIPES[name]
        t0 = time.perf_counter()
        if kind == "ensemble":  # the shipped recipe's steps, with this recipe's settings
            recipe = {"size": size, "epochs": args.epochs, "lr": args.lr,
                      "members": args.members, "relit": args.relit if aug == "relit" else 0,
                      "angle_weight": args.angle, "augment": {"albedo": args.albedo_aug},
                      "options": {}}
            res = train_light_model("faces", seed=args.seed, epochs=args.epochs,
                                    backbone=args.backbone, cache=args.cache, recipe=recipe,
                                    workers=1, log=None)
            s, sn = res.info["validation"], res.info["validation_not_near_black"]
            near_black_share = res.info["near_black"] / s["count"]
        else:
            train = load_faces(root, TRAIN_SUBJECTS, size)
            val = load_faces(root, VAL_SUBJECTS, size)
            cfg = tl.LightTrainConfig(epochs=args.epochs, seed=args.seed, lr=args.lr,
                                      size=size, angle_weight=args.angle)
            extra = None
            if aug == "relit":  # training subjects re-rendered under new lights
                ps = [subject_normals(subject_dir(root, s), args.cache) for s in TRAIN_SUBJECTS]
                extra = relit_faces([p[0] for p in ps], [p[1] for p in ps],
                                    args.relit * len(train.images), size, seed=args.seed)
            model, _ = tl.train_faces(kind, train, cfg, backbone=backbone if pre else None,
                                      augment=None if aug == "flip" else tl.FaceAugment(
                                          albedo=args.albedo_aug),
                                      extra=extra, log=None)
            err = tl.direction_errors(model, val.images, val.directions)
            s, sn = error_summary(err), error_summary(err[~val.near_black])
            near_black_share = val.near_black.mean()
        sec = time.perf_counter() - t0
        print(f"{name}: epochs {args.epochs} seed {args.seed} angle {args.angle} albedo-aug "
              f"{args.albedo_aug} | all "
              f"{s['count']}: mean {s['mean']:.2f} median {s['median']:.2f} under10 "
              f"{s['under_10']:.1f}% | "
              f"not near-black {sn['count']}: mean {sn['mean']:.2f} median {sn['median']:.2f} "
              f"| near-black share {100 * near_black_share:.1f}% | {sec:.0f} s", flush=True)

if __name__ == "__main__":
    main()
