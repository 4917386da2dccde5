"""``lambertian lights DIR [--chrome CHROME_DIR [--camera K.txt]] [--out OUT] [--ps]``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from lambertian.cli.common import add_encoding_options
    from lambertian.ps import ESTIMATED_LIGHTS_METHOD, METHODS

    p = sub.add_parser("lights", help="light directions/intensities of a capture",
                       description="Estimate each image's light (project frame) and write "
                                   "OUT/lights.json, one {file, direction, intensity} per image "
                                   "in the capture's own order. With --chrome the lights come "
                                   "from a mirror sphere captured under the same lights; a "
                                   "matte-sphere capture (known analytic normals, e.g. psm/gray) "
                                   "calibrates itself. Without either, the lights are estimated "
                                   "from the images alone (uncalibrated photometric stereo: "
                                   "rank-3 factorisation, integrability, GBR from specular "
                                   "highlights); OUT/ambiguity.json says what stays unknown.")
    p.add_argument("dir", help="capture folder (DiLiGenT, psm, Yale B, images + lights.txt)")
    p.add_argument("--chrome", help="folder of the mirror sphere under the same lights")
    p.add_argument("--camera", metavar="K.txt",
                   help="3 x 3 intrinsics (OpenCV convention, pixels) of the chrome images: "
                        "perspective mirror-sphere model (default orthographic)")
    p.add_argument("--out", default="lights_out", help="output folder (default lights_out)")
    p.add_argument("--skip-missing", action="store_true",
                   help="a chrome image with no highlight is skipped (null) instead of an error")
    p.add_argument("--ps", action="store_true",
                   help="then run photometric stereo with these lights")
    p.add_argument("--method", choices=METHODS, default=None,
                   help=f"the solver of --ps (default: {ESTIMATED_LIGHTS_METHOD}, the most "
                        "accurate with estimated lights)")
    add_encoding_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lambertian.app.lights import capture_lights, is_matte_sphere
    from lambertian.cli.common import encoding_of, write_json
    from lambertian.io import read_capture
    from lambertian.io.light_json import write_light_json
    from lambertian.io.matrix import read_camera
    from lambertian.io.output_dir import check_outputs, output_folder
    from lambertian.ps import ESTIMATED_LIGHTS_METHOD

    inputs = [args.dir, args.chrome, args.camera]
    final = check_outputs(args.out, inputs)
    _check_options(args)
    # The capture's own lights are never read here (they are what is estimated): a plain
    # folder of images without a light file is a capture with unknown lights.
    cap = read_capture(args.dir, encoding=encoding_of(args))
    chrome = read_capture(args.chrome, encoding=encoding_of(args)) if args.chrome else None
    if "mask_note" in cap.meta:
        print(cap.meta["mask_note"])
    if chrome is None and not is_matte_sphere(cap):
        print(f"uncalibrated estimation on {cap.num_images} images ...")
    lights = capture_lights(cap, chrome=chrome, skip_missing=args.skip_missing,
                            camera=read_camera(args.camera) if args.camera else None)
    for name in lights.notes.get("missing", []):
        print(f"warning: {name}: no single highlight (none, or several), light left null")
    # Every output appears at once in OUT when complete (or not at all).
    with output_folder(final, inputs) as out:
        if lights.method == "uncalibrated":
            write_json(out / "ambiguity.json", {"resolved": lights.resolved, "gbr": lights.gbr,
                                                **lights.notes})
            print(("" if lights.resolved else "warning: ") + lights.notes["ambiguity"])
        write_light_json(out / "lights.json", lights)
        print(f"{lights.method}: {len(lights)} lights -> {final / 'lights.json'}")
        if args.ps:
            _ps_with_lights(cap, lights, out, args.dir,
                            args.method or ESTIMATED_LIGHTS_METHOD)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """Options that would go unused without the one they serve are refused."""
    from lambertian.core.errors import InputError

    if args.camera and not args.chrome:
        raise InputError(args.camera, "--camera is used by the chrome-sphere calibration "
                                      "only (give --chrome)")
    if args.method is not None and not args.ps:
        raise InputError("--method", "is the solver of --ps: give --ps too")


def _ps_with_lights(cap, lights, out, source: str, method: str) -> None:
    """``--ps``: photometric stereo with the estimated lights."""
    import numpy as np

    from lambertian.app.photometric_stereo import photometric_stereo
    from lambertian.cli.common import write_json

    res = photometric_stereo(cap.images, lights, cap.mask, method=method, source=source)
    summary = {"method": f"{method} with {lights.method} lights",
               "images": int(lights.known.sum())}
    if cap.normals is not None:
        from lambertian.core.metrics import normal_error_stats

        summary["normal_error"] = normal_error_stats(res.normals, cap.normals, cap.mask)
        print(f"photometric stereo: mean normal error {summary['normal_error']['mean']:.2f} "
              "deg")
    np.save(out / "normals.npy", res.normals)
    write_json(out / "ps.json", summary)
