"""``lambertian train-light --model faces|objects [--seed S] [--out FILE] [--workers N]``:
reproduce the shipped single-image light models."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-light", help="train the single-image light models (faces, objects)",
                       description="Train a single-image light regressor. 'objects': a CNN on "
                                   "the seeded synthetic corpus (also the pretrained backbone); "
                                   "'faces': an ensemble of that backbone fine-tuned on Yale B "
                                   "subjects 01-22 (validation on 23-28 is printed and stored "
                                   "with the weights). With the default seed and settings this "
                                   "reproduces the shipped weights.")
    p.add_argument("--model", choices=("faces", "objects"), required=True)
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--out", help="weights file to write (default: <model>.pt here)")
    p.add_argument("--data", help="Yale B folder with yaleBNN subjects (default: the data root's "
                                  "yaleb)")
    p.add_argument("--backbone", help="objects weights to fine-tune for faces (default: the "
                                      "shipped objects model)")
    p.add_argument("--epochs", type=int, help="epochs (default 30 objects, 2560 faces)")
    p.add_argument("--workers", type=int, default=2,
                   help="faces: ensemble members trained at once, one process and one thread "
                        "each (default 2; the weights do not depend on it)")
    p.add_argument("--cache", help="faces: folder to keep the training subjects' photometric "
                                   "stereo in between runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.learn.train_light import (
        CALIBRATION,
        FACE_RECIPE,
        LightTrainConfig,
        direction_errors,
        load_model,
        objects_config,
        save_model,
        shipped_weights,
        train_face_ensemble,
        train_objects,
    )

    if args.workers < 1:
        raise InputError("--workers", f"must be at least 1, got {args.workers}")
    if args.epochs is not None and args.epochs < 1:
        raise InputError("--epochs", f"must be at least 1, got {args.epochs}")
    from lambertian.io.output_dir import check_outputs, output_file

    torch.set_num_threads(1)  # deterministic, and fastest for these small nets
    out = Path(args.out or f"{args.model}.pt")
    inputs = [args.data, args.backbone]
    check_outputs(out, inputs, folder=False)  # before hours of training, not after
    if args.model == "faces":
        check_outputs(out.with_suffix(".json"), inputs, folder=False)
    if args.model == "objects":
        cfg = objects_config(args.seed, args.epochs or 30)
        model, info = train_objects(cfg)
        # the recipe's calibration travels with the file, so the file alone answers as
        # the shipped model does (fitted for this recipe, see CALIBRATION)
        with output_file(out, inputs) as tmp:  # a complete weights file, or none
            save_model(tmp, model, "cnn", cfg.size, {"seconds": info["seconds"],
                                                     "seed": args.seed},
                       norm=(cfg.norm_percentile, cfg.norm_clip),
                       calibration=CALIBRATION["objects"])
        print(f"objects model -> {out} ({info['seconds']:.0f} s)")
        return 0

    import time

    from lambertian.io import data_root
    from lambertian.learn.faces import (
        TRAIN_SUBJECTS,
        VAL_SUBJECTS,
        error_summary,
        load_faces,
        relit_faces,
        subject_dir,
        subject_normals,
    )

    root = Path(args.data) if args.data else (data_root() / "yaleb" if data_root() else None)
    if root is None or not root.is_dir():
        raise InputError(args.data or "yaleb", "Yale B folder not found (give --data)")
    t0 = time.perf_counter()
    size = tuple(FACE_RECIPE["size"])
    backbone, _ = load_model(args.backbone or shipped_weights("objects"))
    train = load_faces(root, TRAIN_SUBJECTS, size)
    val = load_faces(root, VAL_SUBJECTS, size)
    extra = None
    if FACE_RECIPE["relit"]:
        print(f"photometric stereo of the {len(TRAIN_SUBJECTS)} training subjects ...",
              flush=True)
        ps = [subject_normals(subject_dir(root, s), args.cache) for s in TRAIN_SUBJECTS]
        extra = relit_faces([p[0] for p in ps], [p[1] for p in ps],
                            FACE_RECIPE["relit"] * len(train.images), size, seed=args.seed)
    cfg = LightTrainConfig(epochs=args.epochs or FACE_RECIPE["epochs"], seed=args.seed,
                           lr=FACE_RECIPE["lr"], size=size,
                           angle_weight=FACE_RECIPE["angle_weight"])
    model, info = train_face_ensemble(train, cfg, backbone, FACE_RECIPE["members"], extra=extra,
                                      workers=args.workers)
    seconds = time.perf_counter() - t0
    err = direction_errors(model, val.images, val.directions)
    stats = error_summary(err)
    stats_lit = error_summary(err[~val.near_black])
    print(f"validation (subjects 23-28, {stats['count']} images): mean {stats['mean']:.2f}, "
          f"median {stats['median']:.2f} deg, {stats['under_10']:.1f}% under 10 deg; without "
          f"the {int(val.near_black.sum())} near-black: mean {stats_lit['mean']:.2f}")
    with output_file(out, inputs) as tmp:
        save_model(tmp, model, "ensemble", size,
                   {"seconds": seconds, "seed": args.seed, "validation": stats,
                    "validation_not_near_black": stats_lit}, calibration=CALIBRATION["faces"])
    with output_file(out.with_suffix(".json"), inputs) as tmp:
        write_json(tmp, {"validation": stats, "validation_not_near_black": stats_lit,
                         "seconds": seconds})
    print(f"faces model -> {out} ({seconds:.0f} s, all steps)")
    return 0
