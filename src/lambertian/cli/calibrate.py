"""``lambertian calibrate SPHERE_DIR [--camera K.txt] [--out OUT]``: the lights of a
capture from a mirror (chrome) sphere photographed under them."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="light directions from a mirror (chrome) sphere",
                       description="Read each image's light direction (project frame) off the "
                                   "highlight of a mirror sphere: SPHERE_DIR is a capture "
                                   "folder of the sphere (its mask is the sphere's disc), one "
                                   "image per light. Writes OUT/lights.json, one {file, "
                                   "direction, intensity, ambient} per image; give it to a "
                                   "capture as its lights ('lambertian lights DIR --chrome "
                                   "SPHERE_DIR' does both at once).")
    p.add_argument("dir", metavar="SPHERE_DIR", help="capture folder of the chrome sphere")
    p.add_argument("--camera", metavar="K.txt",
                   help="3 x 3 intrinsics (OpenCV convention, pixels): perspective mirror-sphere "
                        "model (default orthographic)")
    p.add_argument("--out", default="calibrate_out", help="output folder (default calibrate_out)")
    p.add_argument("--skip-missing", action="store_true",
                   help="an image with no highlight is skipped (null) instead of an error")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lambertian.app.lights import calibrate_lights
    from lambertian.core.errors import InputError
    from lambertian.io import read_capture
    from lambertian.io.light_json import write_light_json
    from lambertian.io.matrix import read_camera

    out = Path(args.out)
    if out.resolve() == Path(args.dir).resolve():
        raise InputError(args.out, "refusing to write into the input folder")
    lights = calibrate_lights(read_capture(args.dir), skip_missing=args.skip_missing,
                              camera=read_camera(args.camera) if args.camera else None)
    for name in lights.notes["missing"]:
        print(f"warning: {name}: no highlight, light left null")
    write_light_json(out / "lights.json", lights)
    print(f"{lights.method}: {int(lights.known.sum())} of {len(lights)} lights -> "
          f"{out / 'lights.json'}")
    return 0
