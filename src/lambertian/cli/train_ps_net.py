"""``lambertian train-ps-net [--steps N] [--lsq-steps N] [--interface-steps N] [--seed S]
[--out FILE]``: reproduce
the shipped weights of the learned photometric-stereo solver (``lambertian ps --method net``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from lambertian.learn.ps_net_recipe import INTERFACE_STAGE, LSQ_STAGE, RECIPE

    p = sub.add_parser(
        "train-ps-net", help="train the learned photometric-stereo network (--method net)",
        description="Train the per-pixel set network of `lambertian ps --method net` on "
                    "observations generated on the fly (lambertian.synth.pixel_observations: "
                    "Lambertian, Oren-Nayar, GGX dielectrics and metals, paints, blends, "
                    "cast shadows, V-grooves with their interreflection, noise, 8/16-bit "
                    "quantisation), then its "
                    "least-squares head, then that head's model of a surface under a "
                    "smooth interface (Wolff 1994). With the default settings this "
                    "reproduces the shipped weights (one thread, about 70 minutes).")
    p.add_argument("--steps", type=int, default=RECIPE["steps"],
                   help=f"optimiser steps of the first stage (default {RECIPE['steps']})")
    p.add_argument("--lsq-steps", type=int, default=LSQ_STAGE["steps"],
                   help="optimiser steps of the second stage, the least-squares head "
                        f"(default {LSQ_STAGE['steps']}; 0: no such head)")
    p.add_argument("--interface-steps", type=int, default=INTERFACE_STAGE["steps"],
                   help="optimiser steps of the third stage, the least-squares head's "
                        f"interface weight (default {INTERFACE_STAGE['steps']}; 0: no such "
                        "model; needs the second stage)")
    p.add_argument("--batch", type=int, default=RECIPE["batch"],
                   help=f"generated pixels per step (default {RECIPE['batch']})")
    p.add_argument("--seed", type=int, default=RECIPE["seed"],
                   help=f"seed of every random choice (default {RECIPE['seed']}; the second "
                        "and third stages use the next two)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1, as the shipped weights were trained; "
                        "the weights are reproducible for the same machine and thread count)")
    p.add_argument("--out", default="ps_net.pt", help="weights file to write (default ps_net.pt)")
    p.set_defaults(func=run)


# Largest --batch: 64 times the recipe's. Every generated pixel carries up to 96 lights
# through the set network, so memory grows with the batch; a typo of 10**9 pixels would
# allocate until the machine ran out of memory instead of failing.
MAX_BATCH = 1 << 15


def run(args: argparse.Namespace) -> int:
    from lambertian.cli.common import check_seed, set_threads
    from lambertian.core.errors import InputError
    from lambertian.io.output_dir import check_outputs, output_file
    from lambertian.learn.ps_net_training import train_shipped_ps_net, validate
    from lambertian.ps.net import save_ps_net

    for name in ("steps", "batch", "lsq_steps", "interface_steps"):
        least = 0 if name.endswith("_steps") else 1
        if getattr(args, name) < least:
            raise InputError(f"--{name.replace('_', '-')}", f"must be at least {least}")
    if args.batch > MAX_BATCH:
        raise InputError("--batch", f"must be at most {MAX_BATCH}, got {args.batch}")
    check_seed(args.seed)
    if args.interface_steps > 0 and args.lsq_steps == 0:
        raise InputError("--interface-steps", "the third stage refines the second's "
                         "least-squares head: give --lsq-steps > 0 or --interface-steps 0")
    set_threads(args.threads)  # checks the count too; deterministic for a given count
    out = check_outputs(args.out, folder=False)  # before the training, not after
    net, info = train_shipped_ps_net(args.steps, args.lsq_steps, args.batch, args.seed,
                                     log=lambda s: print(s, flush=True),
                                     interface_steps=args.interface_steps)
    if args.threads != 1:
        info["threads"] = args.threads
    held = validate(net)
    print("held-out generated pixels: " + ", ".join(
        f"{k} lights {e:.2f} deg" for k, e in held.items()), flush=True)
    # written beside OUT, then renamed: an interrupted run leaves an earlier file as it was
    with output_file(out) as tmp:
        save_ps_net(net, tmp, {**info, "held_out_deg": {str(k): round(e, 3)
                                                        for k, e in held.items()}})
    print(f"wrote {out}")
    return 0
