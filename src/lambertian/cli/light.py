"""``lambertian light IMAGE --normals N.npy [--mask M.png] --out light.json``, or
``lambertian light IMAGE --model faces|objects|WEIGHTS.pt [--mask M.png] --out light.json``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("light", help="one image (known normals or a learned model) -> "
                                     "ambient + directional light",
                       description="Estimate ambient + directional light (direction, intensity "
                                   "relative to the albedo) from one linear image whose normals "
                                   "are known; shadows and highlights are treated as outliers.")
    p.add_argument("image", help="the image (PNG/TIFF/EXR/...; 16-bit stays 16-bit)")
    p.add_argument("--normals", help="(H, W, 3) .npy normals, project frame")
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

    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.io import read_image, read_mask
    from lambertian.io.checks import check_normal_map, check_shading, load_npy
    from lambertian.io.output_dir import output_file
    from lambertian.lights.sh import fit_sh9
    from lambertian.lights.single_image import estimate_light
    from lambertian.ps.inputs import to_grey

    if (args.normals is None) == (args.model is None):
        raise InputError(args.image, "give exactly one of --normals N.npy or --model NAME")
    from lambertian.io.output_dir import check_outputs

    # Every input (image, normals, mask, weights file) is compared with --out.
    check_outputs(args.out, [args.image, args.normals, args.mask,
                             args.model if args.model and Path(args.model).exists() else None],
                  folder=False)
    img = read_image(args.image)[0]
    if args.model is not None:
        return _run_model(args, img)
    normals = load_npy(args.normals, "normal map")
    grey = to_grey(img[None])[0]
    if normals.shape != grey.shape + (3,):
        raise InputError(args.normals, f"normals are {normals.shape}, the image is {grey.shape}")
    mask = None
    if args.mask:
        mask = read_mask(args.mask, grey.shape)
    # The checks `integrate` makes (float, finite, unit length where the mask says), so
    # the two commands accept the same normal maps; then enough shading to fit.
    normals, used, _ = check_normal_map(normals, mask, source=args.normals,
                                        mask_source=args.mask)
    check_shading(img, used, source=args.image)
    # The colour image, when there is one: its chromaticity groups pixels by albedo.
    light = estimate_light(img if img.shape[2] == 3 else grey, normals, mask,
                           ambient=not args.no_ambient, source=args.image)
    out = light.to_dict()
    if args.sh:
        out["sh9"] = fit_sh9(grey, normals, mask, source=args.image).tolist()
    with output_file(args.out, [args.image, args.normals, args.mask]) as tmp:
        write_json(tmp, out)
    print(f"light: direction {np.round(light.direction, 4).tolist()}, intensity "
          f"{light.intensity:.4g}, ambient {light.ambient:.4g} -> {args.out}")
    return 0


def _run_model(args: argparse.Namespace, img) -> int:
    from pathlib import Path

    import numpy as np

    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.io import read_mask
    from lambertian.io.checks import check_shading
    from lambertian.io.output_dir import output_file
    from lambertian.learn.train_light import WEIGHTS, estimate_light_learned

    if args.model not in WEIGHTS and not Path(args.model).is_file():
        raise InputError(args.model, "unknown model: use 'faces', 'objects' or a weights file")
    mask = read_mask(args.mask, img.shape[:2]) if args.mask else None
    check_shading(img, mask, source=args.image)  # too small or dark: unidentifiable
    out = estimate_light_learned(img, args.model, mask)
    with output_file(args.out, [args.image, args.mask, args.model]) as tmp:
        write_json(tmp, out)
    print(f"light ({args.model}): direction {np.round(out['direction'], 4).tolist()}, "
          f"uncertainty ~{out['uncertainty_deg']:.1f} deg -> {args.out}")
    return 0
