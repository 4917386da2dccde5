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

    from lambertian.app.train_light import train_light_model
    from lambertian.cli.common import check_seed, write_json
    from lambertian.io.output_dir import check_outputs, output_file
    from lambertian.learn.train_light import save_model

    check_seed(args.seed)  # before hours of training, not inside them
    _check_faces_options(args)
    out = Path(args.out or f"{args.model}.pt")
    inputs = [args.data, args.backbone]
    check_outputs(out, inputs, folder=False)  # before hours of training, not after
    if args.model == "faces":
        check_outputs(out.with_suffix(".json"), inputs, folder=False)
    res = train_light_model(args.model, seed=args.seed, epochs=args.epochs, data=args.data,
                            backbone=args.backbone, workers=args.workers, cache=args.cache,
                            log=lambda line: print(line, flush=True))
    # the recipe's calibration travels with the file, so the file alone answers as the
    # shipped model does (fitted for this recipe, see CALIBRATION)
    with output_file(out, inputs) as tmp:  # a complete weights file, or none
        save_model(tmp, res.model, res.arch, res.size, res.info, calibration=res.calibration,
                   **({"norm": res.norm} if res.norm else {}))
    if res.kind == "objects":
        print(f"objects model -> {out} ({res.info['seconds']:.0f} s)")
        return 0
    stats, lit = res.info["validation"], res.info["validation_not_near_black"]
    print(f"validation (subjects 23-28, {stats['count']} images): mean {stats['mean']:.2f}, "
          f"median {stats['median']:.2f} deg, {stats['under_10']:.1f}% under 10 deg; without "
          f"the {res.info['near_black']} near-black: mean {lit['mean']:.2f}")
    with output_file(out.with_suffix(".json"), inputs) as tmp:
        write_json(tmp, {k: res.info[k] for k in ("validation", "validation_not_near_black",
                                                  "seconds")})
    print(f"faces model -> {out} ({res.info['seconds']:.0f} s, all steps)")
    return 0


def _check_faces_options(args: argparse.Namespace) -> None:
    """The faces recipe's inputs: refused with --model objects (else silently unused),
    and a --cache that is a file (else found only when written)."""
    from pathlib import Path

    from lambertian.core.errors import InputError

    if args.model == "objects":
        for option in ("data", "backbone", "cache"):
            if getattr(args, option) is not None:
                raise InputError(f"--{option}", "applies to --model faces only")
    if args.cache is not None and Path(args.cache).exists() and not Path(args.cache).is_dir():
        raise InputError(args.cache, "--cache names a file; a folder is wanted")
