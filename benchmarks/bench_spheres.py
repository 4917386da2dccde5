"""Wall-clock of the Deep Lambertian spheres runs on one core, and the closed forms.

    python benchmarks/bench_spheres.py [--noise 0] [--no-perpixel] [--closed-form-only]
                                       [--out results.json]

Times (wall-clock and this process's CPU time, torch on 1 thread) the default
``lambertian spheres train`` run (data generation, training, prior inference, the
closed-form baselines), the seed-equivalent per-pixel run as a baseline measured in the
same process (the machine is shared: compare ratios, not seconds), and the two
closed-form solvers alone (least squares, the maximum-likelihood shadow-aware fit and
its shared-albedo variant). The load average is printed so the numbers can be judged.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--no-perpixel", action="store_true", help="skip the seed baseline")
    ap.add_argument("--closed-form-only", action="store_true",
                    help="time only the closed-form solvers (no training)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.learn.dln_spheres import TrainConfig, closed_form_baselines, run_spheres
    from lambertian.synth.spheres import make_spheres

    rows = {"load_average_start": os.getloadavg(), "noise": args.noise}

    def run(model: str, prior: str):
        def go():
            train = make_spheres(400, 6, 32, 0, args.noise)
            test = make_spheres(64, 6, 32, 10000, args.noise)
            res = run_spheres(TrainConfig(model=model, prior=prior), train, test,
                              log=lambda _m: None)
            return res["final_test"], closed_form_baselines(test)
        (final, base), wall, cpu = timed(go)
        print(f"{model}+{prior}: wall {wall:.1f} s, cpu {cpu:.1f} s, mean "
              f"{final['normal_angular_error_deg_mean']:.2f} deg", flush=True)
        return {"wall_s": wall, "cpu_s": cpu, "final_test": final}, base

    if not args.closed_form_only:
        rows["default_conv_grbm"], _ = run("conv", "grbm")
    if not (args.no_perpixel or args.closed_form_only):
        rows["seed_perpixel"], _ = run("perpixel", "none")
        rows["wall_ratio_default_over_perpixel"] = (rows["default_conv_grbm"]["wall_s"]
                                                    / rows["seed_perpixel"]["wall_s"])
        rows["cpu_ratio_default_over_perpixel"] = (rows["default_conv_grbm"]["cpu_s"]
                                                   / rows["seed_perpixel"]["cpu_s"])
    test = make_spheres(64, 6, 32, 10000, args.noise)
    base, wall, cpu = timed(lambda: closed_form_baselines(test, shared_albedo=True))
    rows["closed_form"] = {**base, "all_wall_s": wall, "all_cpu_s": cpu}
    for k, v in base.items():
        print(f"{k}: mean {v['normal_angular_error_deg_mean']:.2f} deg, "
              f"{v['seconds']:.3f} s")
    rows["load_average_end"] = os.getloadavg()
    print(json.dumps({k: v for k, v in rows.items() if "ratio" in k or "load" in k}))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
