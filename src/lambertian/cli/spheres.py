"""``lambertian spheres``: the Deep Lambertian synthetic-spheres experiment.

Subcommands: ``train`` (one run, results JSON), ``viz`` (the seed's five figures),
``gif`` (training animation), ``sweep`` (lights x noise table and plot).
"""

from __future__ import annotations

import argparse


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=("conv", "perpixel"), default="conv",
                   help="encoder: conv (default, the best model) or perpixel (the seed's)")
    p.add_argument("--prior", choices=("grbm", "none"), default=None,
                   help="latent prior used for inference (default: grbm for conv, none "
                        "for perpixel)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-spheres", type=int, default=400)
    p.add_argument("--n-test-spheres", type=int, default=64)
    p.add_argument("--test-seed", type=int, default=10000)
    p.add_argument("--n-lights-per-sphere", type=int, default=6, help="3 to 8")
    p.add_argument("--n-epochs", type=int, default=None,
                   help="default 120 (perpixel) or the conv model's default")
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--hidden", type=int, default=192, help="perpixel hidden units")
    p.add_argument("--batch-size", type=int, default=None,
                   help="pixels (perpixel, 1024) or spheres (conv, 16)")
    p.add_argument("--lr", type=float, default=None,
                   help="peak learning rate (perpixel SGD 0.02, conv Adam 3e-3)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--init", choices=("he", "torch"), default="he",
                   help="perpixel weight initialisation: he (He-normal, zero biases, as a "
                        "NumPy script like the seed's) or torch (PyTorch's default)")
    p.add_argument("--noise", type=float, default=0.0,
                   help="Gaussian noise sigma on train and test images")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("spheres", help="the Deep Lambertian spheres experiment",
                            description=__doc__)
    ssub = parser.add_subparsers(dest="spheres_command", metavar="SUBCOMMAND")
    t = ssub.add_parser("train", help="train one model, write the results JSON")
    _add_common(t)
    t.add_argument("--results-json", default=None, help="where to write the results")
    t.set_defaults(func=_train)
    v = ssub.add_parser("viz", help="train, then draw the five figures")
    _add_common(v)
    v.add_argument("--outdir", required=True)
    v.set_defaults(func=_viz)
    g = ssub.add_parser("gif", help="train with snapshots, write the training GIF")
    _add_common(g)
    g.add_argument("--out", required=True, help="GIF path")
    g.add_argument("--snapshot-every", type=int, default=4,
                   help="epochs between frames (default 4; 0: the final frame only)")
    g.add_argument("--fps", type=int, default=10, help="frames per second, 1-100 (default 10)")
    g.add_argument("--dpi", type=int, default=75, help="resolution, 10-1200 (default 75)")
    g.set_defaults(func=_gif)
    w = ssub.add_parser("sweep", help="n_lights x noise sweep: table (Markdown, JSON), plot")
    _add_common(w)
    w.add_argument("--lights", default="3,4,6,8")
    w.add_argument("--sigmas", default="0,0.01,0.05,0.1")
    w.add_argument("--outdir", required=True)
    w.set_defaults(func=_sweep)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _setup(args: argparse.Namespace, noise: float | None = None, n_lights: int | None = None):
    from lambertian.cli.common import check_seed, set_threads
    from lambertian.core.errors import InputError
    from lambertian.learn.dln_spheres import TrainConfig
    from lambertian.synth.spheres import make_spheres

    set_threads(args.threads)
    prior = args.prior or ("grbm" if args.model == "conv" else "none")
    if args.model == "perpixel" and prior != "none":
        raise InputError("--prior", "the GRBM prior needs latent maps: use --model conv")
    if args.n_epochs is not None and args.n_epochs < 1:
        raise InputError("--n-epochs", f"must be at least 1, got {args.n_epochs}")
    if args.n_test_spheres < 1:
        raise InputError("--n-test-spheres", f"must be at least 1, got {args.n_test_spheres}")
    for name in ("seed", "test_seed"):  # NumPy's generators take no negative seed
        check_seed(getattr(args, name), f"--{name.replace('_', '-')}")
    for name in ("n_spheres", "hidden", "batch_size", "resolution"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise InputError(f"--{name.replace('_', '-')}", f"must be at least 1, got {v}")
    if args.lr is not None and not 0 < args.lr < float("inf"):  # also refuses NaN
        raise InputError("--lr", f"must be a finite number > 0, got {args.lr}")
    if not 0 <= args.momentum < 1:
        raise InputError("--momentum", f"must be in [0, 1), got {args.momentum}")
    noise = args.noise if noise is None else noise
    k = args.n_lights_per_sphere if n_lights is None else n_lights
    _check_memory(args.n_spheres + args.n_test_spheres, k, args.resolution)
    # float32 training images: float16 storage (half the memory) raised the error on
    # noisy images (sigma 0.1: 3.6 -> 5.2 degrees; docs/results.md)
    train = make_spheres(args.n_spheres, k, args.resolution, args.seed, noise)
    test = make_spheres(args.n_test_spheres, k, args.resolution, args.test_seed, noise)
    cfg = TrainConfig(model=args.model, prior=prior, n_epochs=args.n_epochs,
                      hidden=args.hidden, batch_size=args.batch_size, lr=args.lr,
                      momentum=args.momentum, init=args.init, seed=args.seed)
    return cfg, train, test


# Bytes per pixel of the sphere geometry (float64 normals, the int64 pixel grid and its
# float64 copies), allocated once whatever the number of spheres.
GEOMETRY_BYTES_PER_PIXEL = 64


def _check_memory(n_spheres: int, n_lights: int, resolution: int) -> None:
    """InputError naming the options when the float32 sphere images alone would not fit
    in the memory available (a typo such as --resolution 100000 otherwise ends in an
    unexpected MemoryError, or in the machine's out-of-memory killer)."""
    from lambertian.cli.ps import available_memory
    from lambertian.core.errors import InputError

    avail = available_memory()
    if avail is None:
        return
    pixels = resolution * resolution
    need = 4 * 3 * n_lights * pixels * n_spheres + GEOMETRY_BYTES_PER_PIXEL * pixels
    if need > avail:
        raise InputError("--n-spheres/--resolution",
                         f"{n_spheres} spheres (train and test) of {resolution}x{resolution} "
                         f"pixels under {n_lights} lights need about {need / 2**30:.1f} GB, "
                         f"{avail / 2**30:.1f} GB are available")


def _public(res: dict, args: argparse.Namespace, baselines: dict) -> dict:
    out = {k: v for k, v in res.items() if k not in ("albedo", "normals")}
    out["args"] = {k: v for k, v in vars(args).items() if k != "func"}
    out["closed_form"] = baselines
    return out


def _train(args: argparse.Namespace) -> int:
    import time

    from lambertian.cli.common import write_json
    from lambertian.core.heap import bound_heap
    from lambertian.learn.dln_spheres import closed_form_baselines, run_spheres

    t0 = time.perf_counter()
    bound_heap()  # the run's peak memory (docs/results.md)
    cfg, train, test = _setup(args)
    res = run_spheres(cfg, train, test, release_train=True)  # train is not used below
    del train
    base = closed_form_baselines(test)
    out = _public(res, args, base)
    out["wallclock_seconds"] = time.perf_counter() - t0
    f = out["final_test"]
    print(f"{cfg.model}+{cfg.prior}: mean {f['normal_angular_error_deg_mean']:.2f} deg, "
          f"median {f['normal_angular_error_deg_median']:.2f} deg, albedo mse "
          f"{f['albedo_mse']:.4f}, recon mse {f['recon_mse']:.5f}; "
          f"shadow-aware {base['shadow_aware']['normal_angular_error_deg_mean']:.2f} deg, "
          f"least squares {base['least_squares']['normal_angular_error_deg_mean']:.2f} deg; "
          f"{out['wallclock_seconds']:.1f} s")
    if args.results_json:
        from lambertian.io.output_dir import output_file

        with output_file(args.results_json) as tmp:
            write_json(tmp, out)
        print(f"wrote {args.results_json}")
    return 0


def _viz(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lambertian.cli.common import write_json
    from lambertian.learn.dln_spheres import closed_form_baselines, run_spheres
    from lambertian.viz.spheres import draw_all

    cfg, train, test = _setup(args)
    res = run_spheres(cfg, train, test)
    from lambertian.io.output_dir import output_folder

    with output_folder(args.outdir, option="--outdir") as tmp:  # appears whole
        for p in draw_all(res, train, test, tmp):
            print(f"wrote {Path(args.outdir) / p.name}")
        write_json(tmp / "run.json", _public(res, args, closed_form_baselines(test)))
    print(f"wrote {Path(args.outdir) / 'run.json'}")
    return 0


# GIF frame rates: a GIF stores each frame's delay in hundredths of a second, so above
# 100 frames per second the delay rounds to 0 (players then pick their own rate).
MAX_FPS = 100
# Figure resolutions: below 10 dpi the figure has no pixels left; 1200 dpi (print) makes
# 5760 x 2400 frames already, and far larger ones fail inside matplotlib.
MIN_DPI, MAX_DPI = 10, 1200


def _check_gif_options(args: argparse.Namespace) -> None:
    """The GIF's options and --out, refused before the training rather than after it
    (where --fps 0 was a ZeroDivisionError and --dpi 0 an IndexError)."""
    from lambertian.core.errors import InputError
    from lambertian.io.output_dir import check_outputs

    if not 1 <= args.fps <= MAX_FPS:
        raise InputError("--fps", f"must be between 1 and {MAX_FPS}, got {args.fps}")
    if not MIN_DPI <= args.dpi <= MAX_DPI:
        raise InputError("--dpi", f"must be between {MIN_DPI} and {MAX_DPI}, got {args.dpi}")
    if args.snapshot_every < 0:
        raise InputError("--snapshot-every", f"must be 0 (the final frame only) or more, got "
                                             f"{args.snapshot_every}")
    check_outputs(args.out, folder=False)


def _gif(args: argparse.Namespace) -> int:
    from lambertian.learn.dln_spheres import run_spheres
    from lambertian.viz.spheres import TrainingAnimation

    _check_gif_options(args)
    cfg, train, test = _setup(args)
    cfg.snapshot_every = args.snapshot_every
    anim = TrainingAnimation(test)
    res = run_spheres(cfg, train, test, snapshot=anim.add)
    anim.add(-1, res["albedo"], res["normals"])  # the final (after the prior, if any)
    from pathlib import Path

    from lambertian.io.output_dir import output_file

    with output_file(args.out) as tmp:
        anim.save(tmp, fps=args.fps, dpi=args.dpi)
    path = Path(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(anim.frames)} frames)")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.learn.dln_spheres import closed_form_baselines, run_spheres
    from lambertian.viz.spheres import sweep_plot

    try:
        ks = [int(x) for x in args.lights.split(",")]
        sigmas = [float(x) for x in args.sigmas.split(",")]
    except ValueError as err:
        raise InputError("--lights/--sigmas", f"comma-separated numbers expected ({err})") \
            from None
    from lambertian.synth.spheres import check_sphere_args

    for k in ks:  # refuse bad settings before hours of training, not in the middle
        for s in sigmas:
            check_sphere_args(args.n_spheres, k, args.resolution, s)
    rows = []
    for k in ks:
        for s in sigmas:
            cfg, train, test = _setup(args, noise=s, n_lights=k)
            res = run_spheres(cfg, train, test, log=lambda _m: None)
            base = closed_form_baselines(test)
            row = {"n_lights": k, "sigma": s, "model": f"{cfg.model}+{cfg.prior}",
                   "model_mean": res["final_test"]["normal_angular_error_deg_mean"],
                   "model_median": res["final_test"]["normal_angular_error_deg_median"],
                   "model_albedo_mse": res["final_test"]["albedo_mse"],
                   "shadow_aware_mean": base["shadow_aware"]["normal_angular_error_deg_mean"],
                   "least_squares_mean":
                       base["least_squares"]["normal_angular_error_deg_mean"],
                   "train_seconds": res["train_seconds"]}
            rows.append(row)
            print(f"K={k} sigma={s:g}: model {row['model_mean']:.2f} deg, shadow-aware "
                  f"{row['shadow_aware_mean']:.2f}, least squares "
                  f"{row['least_squares_mean']:.2f} ({row['train_seconds']:.0f} s)", flush=True)
    out = Path(args.outdir)
    head = ("| lights | sigma | model mean (deg) | model median | albedo MSE | shadow-aware "
            "mean | least squares mean |\n|---|---|---|---|---|---|---|\n")
    table = head + "".join(
        f"| {r['n_lights']} | {r['sigma']:g} | {r['model_mean']:.2f} | {r['model_median']:.2f}"
        f" | {r['model_albedo_mse']:.4f} | {r['shadow_aware_mean']:.2f} | "
        f"{r['least_squares_mean']:.2f} |\n" for r in rows)
    from lambertian.io.output_dir import output_folder

    with output_folder(out, option="--outdir") as tmp:  # the three files appear together
        (tmp / "sweep.md").write_text(table)
        write_json(tmp / "sweep.json", {"args": {k: v for k, v in vars(args).items()
                                                 if k != "func"}, "rows": rows})
        sweep_plot(rows, tmp / "sweep.png")
    print(table)
    print(f"wrote {out / 'sweep.md'}, {out / 'sweep.json'}, {out / 'sweep.png'}")
    return 0
