"""``lambertian light IMAGE --normals N.npy [--mask M.png] --out light.json``, or
``lambertian light IMAGE --model faces|objects|WEIGHTS.pt [--mask M.png] --out light.json``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    # "light" was this command's first name, kept as an alias for one release
    p = sub.add_parser("light-of-image", aliases=["light"],
                       help="one image (known normals or a learned model) -> ambient + "
                            "directional light",
                       description="Estimate ambient + directional light (direction, intensity "
                                   "relative to the albedo) from one linear image whose normals "
                                   "are known; shadows and highlights are treated as outliers.")
    p.add_argument("image", help="the image (PNG/TIFF/EXR/...; 16-bit stays 16-bit)")
    p.add_argument("--normals", help="(H, W, 3) .npy normals, project frame, or a 16-bit "
                                     "normal PNG as `ps` writes ((n + 1) / 2)")
    p.add_argument("--model", help="no normals: a learned single-image model, 'faces' or "
                                   "'objects' (shipped) or a weights file; the JSON adds its "
                                   "vMF concentration 'kappa' and 'uncertainty_deg'")
    p.add_argument("--mask", help="mask image (default: pixels with non-zero normals)")
    p.add_argument("--out", default="light.json", help="output light JSON (default light.json)")
    p.add_argument("--no-ambient", action="store_true", help="fit no ambient term")
    p.add_argument("--sh", action="store_true", help="also fit 9 spherical-harmonic terms")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from lambertian.app.light_of_image import light_of_image
    from lambertian.cli.integrate import read_normals
    from lambertian.core.errors import InputError
    from lambertian.io import read_image, read_mask
    from lambertian.io.light_json import write_light_json
    from lambertian.io.output_dir import check_outputs, output_file

    if (args.normals is None) == (args.model is None):
        raise InputError(args.image, "give exactly one of --normals N.npy or --model NAME")
    # Every input (image, normals, mask, weights file) is compared with --out.
    inputs = [args.image, args.normals, args.mask,
              args.model if args.model and Path(args.model).exists() else None]
    check_outputs(args.out, inputs, folder=False)
    img = read_image(args.image)[0]
    # the loader of `integrate`: the two take the same normal maps (ps's normal.png too)
    normals = read_normals(Path(args.normals)) if args.normals is not None else None
    if normals is not None and normals.shape != img.shape[:2] + (3,):
        raise InputError(args.normals, f"normals are {normals.shape}, the image is "
                                       f"{img.shape[:2]}")
    mask = read_mask(args.mask, img.shape[:2]) if args.mask else None
    light = light_of_image(img[..., 0] if img.shape[2] == 1 else img, normals=normals,
                           model=args.model, mask=mask, ambient=not args.no_ambient,
                           sh=args.sh, source=args.image, normals_source=args.normals,
                           mask_source=args.mask)
    with output_file(args.out, inputs) as tmp:
        write_light_json(tmp, light)
    how = f" ({args.model})" if args.model else ""
    more = (f"uncertainty ~{light.uncertainty_deg:.1f} deg" if light.uncertainty_deg is not None
            else f"intensity {light.intensity:.4g}, ambient {light.ambient:.4g}")
    print(f"light{how}: direction {np.round(light.direction, 4).tolist()}, {more} -> {args.out}")
    return 0
