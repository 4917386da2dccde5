"""``lambertian relight DIR --out VIEWER/ [--model ours|ptm|hsh9|hsh16]``: a web viewer."""

from __future__ import annotations

import argparse

MODELS = ("ours", "ptm", "hsh9", "hsh16")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("relight", help="fit a relighting model and write a web viewer",
                       description="Fit a per-pixel relighting model to a capture and write "
                                   "a self-contained web viewer (open VIEWER/index.html from "
                                   "disk or any static server): drag the light, zoom and pan, "
                                   "see normals, albedo, specular enhancement and, with "
                                   "--depth, a shaded 3D view. Lights come from the capture "
                                   "(lights.txt, DiLiGenT files), a chrome sphere (--chrome) "
                                   "or the images alone (--uncalibrated). Optionally also "
                                   "writes RTIViewer files (--ptm, --rti).")
    p.add_argument("dir", help="capture folder (DiLiGenT, psm, Yale B, images + lights.txt)")
    p.add_argument("--out", required=True, help="viewer folder (replaced only when complete)")
    p.add_argument("--model", choices=MODELS, default="ours",
                   help="ours: photometric-stereo normals + albedo + a Blinn-Phong lobe (10 "
                        "numbers per pixel); ptm: 6 per channel; hsh9/hsh16: hemispherical "
                        "harmonics (default ours)")
    p.add_argument("--method", choices=("ls", "robust"), default="robust",
                   help="photometric-stereo solver for the normals (default robust)")
    light = p.add_mutually_exclusive_group()
    light.add_argument("--chrome", help="folder of a mirror sphere under the same lights")
    light.add_argument("--uncalibrated", action="store_true",
                       help="estimate the lights from the images (as `lambertian lights`)")
    p.add_argument("--camera", metavar="K.txt", help="intrinsics of the chrome images")
    p.add_argument("--depth", action="store_true",
                   help="integrate the normals (bilateral) for the shaded 3D view")
    p.add_argument("--ptm", metavar="FILE.ptm", help="also write a PTM (PTM_FORMAT_LRGB)")
    p.add_argument("--rti", metavar="FILE.rti", help="also write an HSH .rti (9 terms unless "
                                                     "--model hsh16)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.set_defaults(func=run)


def _lights(args, cap):
    """(K, 3) directions, (K, C) intensities and a note, from the chosen source; images
    whose light could not be found are dropped (their index list is returned)."""
    import numpy as np

    from lambertian.core.errors import InputError

    if args.camera and not args.chrome:
        raise InputError(args.camera, "--camera is used by the chrome-sphere calibration "
                                      "only (give --chrome)")
    if args.chrome:
        from lambertian.io import read_capture
        from lambertian.lights.chrome_sphere import chrome_sphere_lights

        chrome = read_capture(args.chrome)
        if chrome.num_images != cap.num_images:
            raise InputError(args.chrome, f"{chrome.num_images} chrome images for "
                                          f"{cap.num_images} capture images")
        camera = None
        if args.camera:
            from lambertian.integrate.checks import read_camera

            camera = read_camera(args.camera)
        dirs, info = chrome_sphere_lights(chrome.images, chrome.mask, names=chrome.files,
                                          camera=camera, skip_missing=True,
                                          source=args.chrome)
        for name in info["missing"]:
            print(f"warning: {name}: no highlight on the chrome sphere, image left out")
        return dirs, cap.intensities, "chrome sphere"
    if args.uncalibrated:
        from lambertian.lights.uncalibrated import uncalibrated_lights

        print(f"uncalibrated light estimation on {cap.num_images} images ...", flush=True)
        unc = uncalibrated_lights(cap.images, cap.mask, source=args.dir)
        if not unc.resolved:
            print("warning: " + unc.info["ambiguity"])
        e = np.asarray(unc.intensities, np.float64)
        e = np.where(np.isfinite(e) & (e > 0), e, 1.0)
        return unc.directions, np.repeat(e[:, None], cap.images.shape[-1], 1), "uncalibrated"
    return cap.lights, cap.intensities, "capture files"


def _write_file(path: str, write) -> None:
    """Write through a temporary name beside ``path``, renamed when complete."""
    import os
    from pathlib import Path

    p = Path(path)
    tmp = p.with_name(f".{p.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    import numpy as np

    from lambertian.cli.common import set_threads
    from lambertian.core.errors import InputError
    from lambertian.io import read_capture
    from lambertian.relight import fit_model
    from lambertian.relight.lobe import saturated_observations
    from lambertian.viz.viewer import check_output, write_viewer

    set_threads(args.threads)
    t0 = time.perf_counter()
    inputs = [args.dir] + ([args.chrome] if args.chrome else [])
    out = check_output(args.out, inputs)
    for f in (args.ptm, args.rti):
        if f and any(Path(i).resolve() in Path(f).resolve().parents or
                     Path(i).resolve() == Path(f).resolve() for i in inputs):
            raise InputError(f, "refusing to write into an input folder")
    cap = read_capture(args.dir)
    dirs, intensities, source = _lights(args, cap)
    keep = np.all(np.isfinite(dirs), axis=1)
    img = (cap.images[keep] / np.asarray(intensities)[keep, None, None, :]).astype(np.float32)
    L = np.asarray(dirs)[keep]
    h, w = cap.shape
    print(f"{int(keep.sum())} images of {w}x{h} ({cap.bit_depth}-bit), lights from {source}; "
          f"fitting {args.model} ...", flush=True)
    kw = {}
    if args.model == "ours":
        kw = {"method": args.method, "progress": True,
              "valid": ~saturated_observations(cap.images[keep], cap.bit_depth)}
    model = fit_model(args.model, img, L, cap.mask, source=str(args.dir), **kw)
    print(f"fit: {model.info['seconds']:.2f} s, {model.numbers_per_pixel()} numbers per pixel",
          flush=True)
    if args.model == "ours":
        normals, albedo = model.normals, model.albedo
    else:
        from lambertian.ps import get_solver

        print(f"normals and albedo for the viewer's other modes ({args.method}) ...",
              flush=True)
        ps = get_solver(args.method)(img, L, cap.mask, source=str(args.dir), progress=True)
        normals, albedo = ps.normals, ps.albedo
    depth = None
    if args.depth:
        from lambertian.integrate import integrate_normals

        print("integrating the normals for the 3D view ...", flush=True)
        depth = integrate_normals(normals, cap.mask).depth
    info = {"capture": str(args.dir), "images": int(keep.sum()), "lights": source,
            "model": model.info, "bit_depth": cap.bit_depth}
    write_viewer(out, model, normals=normals, albedo=albedo, depth=depth, title=cap.name,
                 info=info)
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"viewer: {out / 'index.html'} ({size / 1e6:.2f} MB)")
    if args.ptm:
        from lambertian.relight.files import save_ptm

        ptm = model if model.kind == "ptm" else fit_model("ptm", img, L, cap.mask,
                                                          source=str(args.dir))
        _write_file(args.ptm, lambda p: save_ptm(p, ptm, lrgb=True))
        print(f"PTM (LRGB): {args.ptm}")
    if args.rti:
        from lambertian.relight.files import save_rti

        hsh = model if model.kind in ("hsh9", "hsh16") else fit_model(
            "hsh9", img, L, cap.mask, source=str(args.dir))
        _write_file(args.rti, lambda p: save_rti(p, hsh))
        print(f"HSH ({hsh.kind}): {args.rti}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
