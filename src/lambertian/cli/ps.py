"""``lambertian ps DIR``: calibrated photometric stereo on a capture folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from lambertian.cli.common import add_encoding_options
    from lambertian.ps import DEFAULT_METHOD, METHODS

    p = sub.add_parser(
        "ps", help="normals and albedo from images under known lights",
        description="Calibrated photometric stereo. DIR is a DiLiGenT-layout folder, a UW psm "
                    "object folder, a Yale B subject folder, the CMU face folder, or any "
                    "folder of images with lights.txt [intensities.txt] [mask.png]. Writes "
                    "normals.npy, albedo.npy, normal.png, albedo.png, ps.json and, when "
                    "ground truth is present, metrics.json.")
    p.add_argument("dir", type=Path, metavar="DIR", help="capture folder")
    p.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                   help=f"solver (default: {DEFAULT_METHOD}: robust's and net's normals "
                        "summed, or net alone where robust finds broad specular "
                        "reflectance such as metals)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: ./ps_out/<capture name>)")
    p.add_argument("--depth", action="store_true",
                   help="also integrate the normals: depth.npy/.png/.exr and mesh.ply")
    p.add_argument("--figure", action="store_true",
                   help="also write figure.png (input, normals, albedo, error, depth)")
    p.add_argument("--stream", action="store_true",
                   help="for captures larger than memory: decode one image at a time and "
                        "solve band by band (DiLiGenT-layout or generic folders; the same "
                        "numbers as without it)")
    p.add_argument("--band-mb", type=int, default=32,
                   help="image data held per band with --stream, in MB (default 32)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: fastest for per-pixel work)")
    p.add_argument("--lights", type=Path, metavar="LIGHTS.json",
                   help="the images' lights from a light file (e.g. 'lambertian calibrate' "
                        "or 'lambertian lights'), in the capture's image order, instead of "
                        "the capture's own")
    add_encoding_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lambertian.cli.common import encoding_of, set_threads
    from lambertian.io import read_capture
    from lambertian.io.output_dir import output_folder

    set_threads(args.threads)
    out = args.out or Path("ps_out") / args.dir.resolve().name
    if not args.stream:
        args.stream = _too_large_for_memory(args)
    # Every output goes to a temporary folder that becomes OUT only when complete.
    with output_folder(out, [args.dir, args.lights]) as tmp:
        if args.stream:
            run_streamed(args, tmp)
        else:
            print(f"reading {args.dir} ...", flush=True)
            cap = read_capture(args.dir, encoding=encoding_of(args))
            if args.lights:
                cap = with_lights(cap, args.lights)
            solve_and_write(cap, args.method, tmp, source=str(args.dir), depth=args.depth,
                            figure=args.figure)
    print(f"wrote {out}/")
    return 0


# In memory, photometric stereo holds a capture's float32 images two to three times over
# (the decoded stack, its intensity-divided copy, the solvers' per-block work: a 2.1 GB
# stack peaked at 4.9 GB, docs/results.md "Scale out"); 3 leaves a margin.
MEMORY_COPIES = 3


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``); None where
    unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _too_large_for_memory(args: argparse.Namespace) -> bool:
    """Whether the capture must be solved band by band (as ``--stream``): it would need
    more memory than is available. Says so; a run that needs the whole capture (--depth,
    --figure, --lights) is refused in one line instead of being killed."""
    from lambertian.core.errors import InputError
    from lambertian.io.detect import capture_shape

    avail = available_memory()
    shape = capture_shape(args.dir) if avail is not None else None
    if shape is None:
        return False
    k, h, w, c = shape
    need = MEMORY_COPIES * 4 * k * h * w * c
    if need <= avail:
        return False
    sizes = (f"{k} images of {w}x{h} need about {need / 2**30:.1f} GB in memory, "
             f"{avail / 2**30:.1f} GB are available")
    if args.depth or args.figure or args.lights:
        raise InputError(args.dir, f"{sizes}; --depth, --figure and --lights need the whole "
                                   "capture in memory (without them it is solved band by band)")
    print(f"{args.dir}: {sizes}: solving it band by band (as --stream)", flush=True)
    return True


def with_lights(cap, path: Path):
    """The capture with the lights (and intensities) of a light file; images whose light
    is unknown (null) are left out."""
    from dataclasses import replace

    import numpy as np

    from lambertian.core.errors import InputError
    from lambertian.core.light import LightSet
    from lambertian.io.light_json import read_light_json

    lights = read_light_json(path)
    if not isinstance(lights, LightSet) or len(lights) != cap.num_images:
        raise InputError(path, f"needs one light per image ({cap.num_images}), in their order")
    if lights.names is not None:  # each light names its image: they must be this capture's
        names = [Path(n).name for n in lights.names]
        files = [Path(f).name for f in cap.files]
        if names != files:
            if sorted(names) != sorted(files):
                extra = next(n for n in names if n not in files or names.count(n) > 1)
                raise InputError(path, f"its light for {extra!r} matches no image of "
                                       f"{cap.name} (or names one twice)")
            order = [names.index(f) for f in files]  # the images' order
            unc = lights.uncertainty_deg
            lights = replace(lights, directions=lights.directions[order],
                             intensities=lights.intensities[order],
                             ambient=lights.ambient[order],
                             uncertainty_deg=None if unc is None else unc[order],
                             names=[lights.names[i] for i in order])
    keep = np.flatnonzero(lights.known)
    if len(keep) < len(lights):
        left = [cap.files[i] for i in np.flatnonzero(~lights.known)]
        print(f"warning: {path}: no light for {len(left)} image(s) (null), left out: "
              f"{', '.join(left[:5])}{' ...' if len(left) > 5 else ''}", file=sys.stderr)
    cap = cap.select(keep)
    cap.lights = lights.directions[keep]
    cap.intensities = np.repeat(lights.intensities[keep, None], cap.images.shape[-1], axis=1)
    return cap


def run_streamed(args: argparse.Namespace, out: Path) -> int:
    """``ps --stream``: band-by-band solve of a capture too large to load, into ``out``
    (the temporary folder of :func:`~lambertian.io.output_dir.output_folder`)."""
    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.io import capture_files
    from lambertian.ps.inputs import check_capture_lights
    from lambertian.scale.stream import stream_ps

    if args.band_mb < 1:
        raise InputError("--band-mb", f"must be at least 1, got {args.band_mb}")
    if args.depth or args.figure or args.lights:
        raise InputError(args.dir, "--depth, --figure and --lights need the whole capture in "
                                   "memory; run them without --stream")
    files, lights, intensities, mask, mask_note, lights_file = capture_files(args.dir)
    # the in-memory path's checks: unknown lights said as such, unusable ones (coplanar,
    # all behind) naming the light file
    check_capture_lights(lights, len(files), lights_file, str(args.dir))
    if mask_note is not None:
        print(mask_note)
    print(f"streaming {len(files)} images with {args.method} ...", flush=True)
    info = stream_ps(files, lights, intensities, mask, out, method=args.method,
                     band_bytes=args.band_mb << 20, progress=True, source=str(args.dir))
    write_json(out / "ps.json", {"capture": str(args.dir), "streamed": True, **info})
    print(f"{info['bands']} bands of {info['rows_per_band']} rows in {info['seconds']:.1f} s")
    return 0


def solve_and_write(cap, method: str, out: Path, source: str, depth: bool = False,
                    figure: bool = False) -> dict:
    """Solve one capture, write the outputs listed in ``ps --help`` and report them."""
    from lambertian.app.photometric_stereo import photometric_stereo
    from lambertian.cli.common import write_json
    from lambertian.ps.outputs import write_ps_outputs

    if "mask_note" in cap.meta:
        print(cap.meta["mask_note"])
    print(f"{cap.num_images} images of {cap.shape[1]}x{cap.shape[0]} ({cap.bit_depth}-bit), "
          f"{int(cap.mask.sum())} pixels in the mask; solving with {method} ...", flush=True)
    res = photometric_stereo(cap, method=method, progress=True, source=source)
    summary = write_ps_outputs(cap, res, method, out, source=source)
    if "metrics" in summary:
        m = summary["metrics"]
        print(f"{method}: mean angular error {m['mean']:.2f} deg, median {m['median']:.2f} deg, "
              f"{m['below_11.25']:.1f}% below 11.25 deg")
    if depth:
        from lambertian.integrate import write_depth_outputs

        summary["depth"] = write_depth_outputs(out, res.normals, res.mask, K=cap.K,
                                               albedo=res.albedo)
    if figure:
        import numpy as np

        from lambertian.viz.figures import ps_panel

        # Reuse the depth just integrated; without --depth the panel integrates itself.
        z = np.load(out / "depth.npy") if depth else None
        ps_panel(out / "figure.png", cap.grey(), res.normals, res.albedo, res.mask,
                 normals_gt=cap.normals, depth=z, K=cap.K, title=f"{cap.name}: {method}")
    if depth or figure:
        write_json(out / "ps.json", summary)
    return summary
