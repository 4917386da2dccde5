"""``lambertian demo``: the main job on generated data, with its ground truth.

Writes a synthetic capture (attached and cast shadows, noise, per-channel light
intensities) in the DiLiGenT layout, reads it back like real data, runs every
photometric-stereo method on it and prints the errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# Largest generated capture of the demo (pixels per side).
MAX_SIZE = 4096


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="generate a synthetic capture and run photometric stereo",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--out", type=Path, default=Path("demo_out"),
                   help="output folder (default: ./demo_out)")
    p.add_argument("--size", type=int, default=128, help="image size in pixels (default 128)")
    p.add_argument("--lights", type=int, default=32,
                   help="number of images, at least 6 (default 32)")
    p.add_argument("--noise", type=float, default=0.002,
                   help="Gaussian noise sigma on [0, 1] images (default 0.002)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lambertian.cli.common import set_threads, write_json
    from lambertian.cli.ps import solve_and_write
    from lambertian.io import read_capture
    from lambertian.io.output_dir import output_folder
    from lambertian.ps import METHODS
    from lambertian.synth.capture import make_capture, write_capture

    _check_options(args)
    set_threads(args.threads)
    # The whole demo folder (capture and results) appears at once, or not at all.
    with output_folder(args.out) as tmp:
        capture_dir = tmp / "capture"
        print(f"rendering a {args.size}x{args.size} capture under {args.lights} lights "
              f"(seed {args.seed}) ...", flush=True)
        synth = make_capture(args.size, args.lights, args.noise, args.seed)
        write_capture(capture_dir, synth, overwrite=True)
        print(f"wrote {args.out / 'capture'}/ (DiLiGenT layout, 16-bit PNG, with "
              "Normal_gt.mat)")
        cap = read_capture(capture_dir)
        rows = []
        for method in METHODS:
            s = solve_and_write(cap, method, tmp / method, source=str(args.out / "capture"),
                                depth=True, figure=True)
            rows.append({"method": method, **s["metrics"], "seconds": s["seconds"]})
        print("\n| method | mean error (deg) | median (deg) | < 11.25 deg | seconds |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['method']} | {r['mean']:.2f} | {r['median']:.2f} | "
                  f"{r['below_11.25']:.1f}% | {r['seconds']:.2f} |")
        settings = {k: v for k, v in vars(args).items() if k != "func"}
        write_json(tmp / "demo.json", {"args": settings, "results": rows,
                                       "cast_shadow_fraction": float(
                                           synth.cast_shadow[:, synth.mask].mean())})
    print(f"\nresults in {args.out}/demo.json; figures in {args.out}/<method>/figure.png")
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """The options' ranges, each refused in one line naming it."""
    from lambertian.cli.common import check_seed
    from lambertian.core.errors import InputError
    from lambertian.ps.net import MIN_LIGHTS

    if args.size < 16:
        raise InputError("--size", f"must be at least 16, got {args.size}")
    # every method runs, the network too: fewer lights failed after the first methods
    if args.lights < MIN_LIGHTS:
        raise InputError("--lights", f"must be at least {MIN_LIGHTS} (the learned solver's "
                                     f"minimum), got {args.lights}")
    if args.size > MAX_SIZE:  # 32 images of 4096 x 4096 are already 6 GB in float32
        raise InputError("--size", f"at most {MAX_SIZE}, got {args.size}")
    check_seed(args.seed)
    if not args.noise >= 0 or args.noise == float("inf"):  # also refuses NaN
        raise InputError("--noise", f"must be a finite number >= 0, got {args.noise}")
