"""``lambertian calibrate SPHERE_DIR [--camera K.txt] [--out OUT]``: the lights of a
capture from a mirror (chrome) sphere photographed under them."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from lambertian.cli.common import add_encoding_options

    p = sub.add_parser(
        "calibrate", help="light directions from a mirror (chrome) sphere",
        description="Read each image's light direction (project frame) off the highlight of "
                    "a mirror sphere. SPHERE_DIR is a folder of photos, one per light, whose "
                    "mask is the sphere's disc (or give --sphere-mask when the ball shares "
                    "the photos with the object). Writes OUT/lights.json, one {file, "
                    "direction, intensity, ambient} per image: give it to 'lambertian ps DIR "
                    "--lights OUT/lights.json' ('lambertian lights DIR --chrome SPHERE_DIR' "
                    "does both at once).")
    p.add_argument("dir", metavar="SPHERE_DIR", help="capture folder of the chrome sphere")
    p.add_argument("--camera", metavar="K.txt",
                   help="3 x 3 intrinsics (OpenCV convention, pixels): perspective mirror-sphere "
                        "model (default orthographic)")
    p.add_argument("--out", default="calibrate_out", help="output folder (default calibrate_out)")
    p.add_argument("--sphere-mask", metavar="M.png",
                   help="mask of the sphere in the photos (default: the folder's mask)")
    p.add_argument("--skip-missing", action="store_true",
                   help="an image with no highlight is skipped (null) instead of an error")
    add_encoding_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lambertian.app.lights import calibrate_lights
    from lambertian.cli.common import encoding_of
    from lambertian.io import read_capture, read_mask
    from lambertian.io.light_json import write_light_json
    from lambertian.io.matrix import read_camera
    from lambertian.io.output_dir import check_outputs, output_folder

    inputs = [args.dir, args.sphere_mask, args.camera]
    final = check_outputs(args.out, inputs)
    sphere = read_capture(args.dir, encoding=encoding_of(args))
    mask = read_mask(args.sphere_mask, sphere.shape) if args.sphere_mask else None
    # a mask's problems (too small, cut by the frame, not a disc) name the mask file
    lights = calibrate_lights(sphere, skip_missing=args.skip_missing, mask=mask,
                              camera=read_camera(args.camera) if args.camera else None,
                              mask_source=args.sphere_mask)
    for name in lights.notes["missing"]:
        print(f"warning: {name}: no single highlight (none, or several), light left null")
    with output_folder(final, inputs) as out:  # appears whole when complete
        write_light_json(out / "lights.json", lights)
    print(f"{lights.method}: {int(lights.known.sum())} of {len(lights)} lights -> "
          f"{final / 'lights.json'}")
    return 0
