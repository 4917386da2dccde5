"""Leave-subjects-out cross-validation of face light recipes inside the training subjects.

    python benchmarks/light_faces_cv.py --recipe NAME [--epochs N] [--folds K] [--seed S]

The 21 training subjects (01-22, no 14) are split, by a seeded permutation, into K folds
of whole subjects; each fold is held out in turn while a single pretrained-backbone
network (the shipped recipe's member, see ``train_light.FACE_RECIPE``) is trained on the
others. Prints the held-out mean / median error per fold, per subject and over all held-out
images. Recipes are compared by this number; the validation subjects 23-28 are never read.

Recipes:
- ``base``: the shipped member (real images, :class:`FaceAugment`, angle loss).
- ``relit``: plus one relit training face per real image (:func:`relit_faces`, the
  fold's training subjects' photometric stereo only).
- ``gbr``: as ``relit`` with the relief of each relit face scaled by ``exp(+-0.4)``
  (bas-relief, ``relit_faces(depth=...)``): faces flatter or deeper than the training ones.

Results (3 folds, 80 epochs, seed 0, one member; mean / median over the 1344 held-out
images): base 6.52 / 5.10, relit 6.90 / 5.11, gbr 6.96 / 5.21. Subject 05 (the flattest
training face, 12 near-black images, the training subjects' analogue of validation 27) is
the worst held-out subject in every recipe: 14.85, 20.22, 20.80. So the shipped recipe
stays.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

RECIPES = {"base": (0, 0.0), "relit": (1, 0.0), "gbr": (1, 0.4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", required=True, choices=sorted(RECIPES))
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="folder for the per-subject photometric stereo")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.io import data_root
    from lambertian.learn import train_light as tl
    from lambertian.learn.faces import (
        TRAIN_SUBJECTS,
        error_summary,
        load_faces,
        relit_faces,
        subject_dir,
        subject_normals,
    )

    relit, depth = RECIPES[args.recipe]
    root = data_root() / "yaleb"
    size = tuple(tl.FACE_RECIPE["size"])
    backbone = tl.load_model(tl.shipped_weights("objects"))[0]
    order = np.random.default_rng(args.seed).permutation(TRAIN_SUBJECTS)
    folds = [tuple(int(s) for s in order[k::args.folds]) for k in range(args.folds)]
    everything = load_faces(root, TRAIN_SUBJECTS, size)
    errs, subj = [], []
    t0 = time.perf_counter()
    for k, held in enumerate(folds):
        keep = ~np.isin(everything.subjects, held)
        train = load_faces(root, tuple(s for s in TRAIN_SUBJECTS if s not in held), size)
        extra = None
        if relit:
            ps = [subject_normals(subject_dir(root, s), args.cache)
                  for s in TRAIN_SUBJECTS if s not in held]
            extra = relit_faces([p[0] for p in ps], [p[1] for p in ps],
                                relit * len(train.images), size, seed=args.seed, depth=depth)
        cfg = tl.LightTrainConfig(epochs=args.epochs, seed=args.seed, lr=tl.FACE_RECIPE["lr"],
                                  size=size, angle_weight=tl.FACE_RECIPE["angle_weight"])
        model, _ = tl.train_faces("pretrained", train, cfg, backbone=backbone,
                                  augment=tl.FaceAugment(), extra=extra, log=None)
        e = tl.direction_errors(model, everything.images[~keep], everything.directions[~keep])
        s = error_summary(e)
        print(f"{args.recipe} fold {k} held {held}: mean {s['mean']:.2f} median "
              f"{s['median']:.2f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        errs.append(e)
        subj.append(everything.subjects[~keep])
    e, sj = np.concatenate(errs), np.concatenate(subj)
    per = " ".join(f"{s}:{e[sj == s].mean():.2f}" for s in TRAIN_SUBJECTS)
    s = error_summary(e)
    print(f"{args.recipe} CV epochs {args.epochs} folds {args.folds} seed {args.seed}: mean "
          f"{s['mean']:.2f} median {s['median']:.2f} under10 {s['under_10']:.1f}% "
          f"| per subject {per}", flush=True)


if __name__ == "__main__":
    main()
