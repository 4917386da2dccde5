"""Pilot: does Wolff's diffuse under an interface in the generator help the learned solver
on real data?

Trains the first stage of the recipe briefly (the pilot of
``experiments/ps_net_light_error.py``: 4000 steps, batch 512, seed 0, width 32, grooves
0.3, no least-squares head) with the generator as shipped and with
``observation_batch(fresnel_diffuse=True)``: the diffuse term of dielectrics and paints
carries the Fresnel transmittance of the incoming light (Wolff 1994), darker than
Lambert's cosine toward grazing light. Then compares the two networks' regressed normals
on the selection data (the sets of ``experiments/ps_net_width.py``), and, with
``--light-error E``, a third network trained with both.

    python experiments/ps_net_fresnel_diffuse.py [--threads 1] [--out DIR] [--light-error 3]
    python experiments/ps_net_fresnel_diffuse.py --full FILE

``--full FILE`` trains the shipped recipe's first two stages (the whole recipe when this
was measured, before its third stage; one thread: 67 minutes) with the option on and
writes the weights to FILE, for ``experiments/ps_net_lsq_misfit.py --weights FILE``,
``benchmarks/bench_ps_net.py --weights FILE`` and ``benchmarks/bench_ps_mitsuba.py
--weights FILE``.

Measured (2026-12-05, one thread): docs/learned-ps.md, "Diffuse under an interface".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from lambertian.learn.ps_net_recipe import LSQ_STAGE, RECIPE
from lambertian.learn.ps_net_training import train_shipped_ps_net
from lambertian.ps.net import save_ps_net

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_light_error import compare_pilots  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("fresnel_diffuse_pilot"))
    ap.add_argument("--light-error", type=float, default=0.0)
    ap.add_argument("--full", type=Path, default=None,
                    help="train the whole shipped recipe with the option into this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.full is not None:
        net, info = train_shipped_ps_net(RECIPE["steps"], LSQ_STAGE["steps"], RECIPE["batch"],
                                         RECIPE["seed"], overrides={"fresnel_diffuse": True},
                                         interface_steps=0)
        save_ps_net(net, args.full, info)
        return 0
    variants = {"as shipped": {}, "Fresnel diffuse": {"fresnel_diffuse": True}}
    if args.light_error > 0:
        variants[f"both, lights off by up to {args.light_error:g} deg"] = {
            "fresnel_diffuse": True, "light_error_deg": args.light_error}
    compare_pilots({name: (args.out / f"pilot_{i}.pt", options)
                    for i, (name, options) in enumerate(variants.items())})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
