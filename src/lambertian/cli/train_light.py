"""``lambertian train-light --model faces|objects [--seed S] [--out FILE]``: reproduce the
shipped single-image light models."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-light", help="train the single-image light models (faces, objects)",
                       description="Train a single-image light regressor. 'objects': a CNN on "
                                   "the seeded synthetic corpus (also the pretrained backbone); "
                                   "'faces': that backbone fine-tuned on Yale B subjects 01-22 "
                                   "(validation on 23-28 is printed and stored with the "
                                   "weights). With the default seed and settings this "
                                   "reproduces the shipped weights.")
    p.add_argument("--model", choices=("faces", "objects"), required=True)
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--out", help="weights file to write (default: <model>.pt here)")
    p.add_argument("--data", help="Yale B folder with yaleBNN subjects (default: the data root's "
                                  "yaleb)")
    p.add_argument("--backbone", help="objects weights to fine-tune for faces (default: the "
                                      "shipped objects model)")
    p.add_argument("--epochs", type=int, help="epochs (default 30 objects, 40 faces)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.learn.train_light import (
        LightTrainConfig,
        direction_errors,
        load_model,
        save_model,
        shipped_weights,
        train_faces,
        train_objects,
    )

    torch.set_num_threads(1)  # deterministic, and fastest for these small nets
    out = Path(args.out or f"{args.model}.pt")
    if args.model == "objects":
        cfg = LightTrainConfig(epochs=args.epochs or 30, seed=args.seed)
        model, info = train_objects(cfg)
        save_model(out, model, "cnn", cfg.size, {"seconds": info["seconds"], "seed": args.seed})
        print(f"objects model -> {out} ({info['seconds']:.0f} s)")
        return 0

    from lambertian.io import data_root
    from lambertian.learn.faces import (
        FACE_SIZE,
        TRAIN_SUBJECTS,
        VAL_SUBJECTS,
        error_summary,
        load_faces,
    )

    root = Path(args.data) if args.data else (data_root() / "yaleb" if data_root() else None)
    if root is None or not root.is_dir():
        raise InputError(args.data or "yaleb", "Yale B folder not found (give --data)")
    backbone, _ = load_model(args.backbone or shipped_weights("objects"))
    train = load_faces(root, TRAIN_SUBJECTS)
    val = load_faces(root, VAL_SUBJECTS)
    cfg = LightTrainConfig(epochs=args.epochs or 40, seed=args.seed, lr=1e-3)
    model, info = train_faces("pretrained", train, cfg, backbone=backbone)
    stats = error_summary(direction_errors(model, val.images, val.directions))
    print(f"validation (subjects 23-28, {stats['count']} images): mean {stats['mean']:.2f}, "
          f"median {stats['median']:.2f} deg, {stats['under_10']:.1f}% under 10 deg")
    save_model(out, model, "pretrained", FACE_SIZE,
               {"seconds": info["seconds"], "seed": args.seed, "validation": stats})
    write_json(out.with_suffix(".json"), {"validation": stats, "seconds": info["seconds"]})
    print(f"faces model -> {out} ({info['seconds']:.0f} s)")
    return 0
