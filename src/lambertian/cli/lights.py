"""``lambertian lights DIR [--chrome CHROME_DIR [--camera K.txt]] [--out OUT] [--ps]``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
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
                   help="then run least-squares photometric stereo with these lights")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from lambertian.cli.common import write_json
    from lambertian.core.errors import InputError
    from lambertian.io import read_capture
    from lambertian.io.detect import read_capture_images
    from lambertian.io.output_dir import check_outputs, output_folder

    if args.camera and not args.chrome:
        raise InputError(args.camera, "--camera is used by the chrome-sphere calibration "
                                      "only (give --chrome)")
    final = Path(args.out)
    check_outputs(final, [args.dir, args.chrome, args.camera])
    # The capture's own lights are never read here (they are what is estimated), so a
    # plain folder of images without a light file is accepted.
    cap = read_capture_images(args.dir)
    # Every output appears at once in OUT when complete (or not at all).
    with output_folder(final, [args.dir, args.chrome, args.camera]) as out:
        intensities = np.ones(cap.num_images)
        if args.chrome:
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
                                              camera=camera, skip_missing=args.skip_missing,
                                              source=args.chrome)
            method = "chrome sphere" + (" (perspective)" if camera is not None else "")
            for name in info["missing"]:
                print(f"warning: {name}: no highlight, light left null")
        elif cap.meta.get("normals_source", "").startswith("analytic sphere"):
            from lambertian.lights.matte_sphere import matte_sphere_lights

            dirs, intensities, _ = matte_sphere_lights(cap.images, cap.mask, ambient=False,
                                                       names=cap.files, source=args.dir)
            intensities = intensities / intensities.mean()
            method = "matte sphere"
        else:
            from lambertian.lights.uncalibrated import uncalibrated_lights

            print(f"uncalibrated estimation on {cap.num_images} images ...")
            unc = uncalibrated_lights(cap.images, cap.mask, source=args.dir)
            dirs, intensities = unc.directions, unc.intensities
            method = "uncalibrated"
            write_json(out / "ambiguity.json", {"resolved": unc.resolved, "gbr": unc.gbr,
                                                **unc.info})
            print(("" if unc.resolved else "warning: ") + unc.info["ambiguity"])
        rows = []
        for f, d, e in zip(cap.files, dirs, intensities, strict=True):
            ok = bool(np.all(np.isfinite(d)))
            rows.append({"file": f, "direction": [float(v) for v in d] if ok else None,
                         "intensity": float(e) if ok else None})
        write_json(out / "lights.json", rows)
        print(f"{method}: {len(rows)} lights -> {final / 'lights.json'}")
        if args.ps:
            from lambertian.ps.least_squares import least_squares

            good = np.all(np.isfinite(dirs), axis=1)
            img = cap.images[good] / np.asarray(intensities)[good, None, None, None]
            res = least_squares(img, dirs[good], cap.mask, source=args.dir)
            np.save(out / "normals.npy", res.normals)
            summary = {"method": f"ls with {method} lights", "images": int(good.sum())}
            if cap.normals is not None:
                from lambertian.core.metrics import normal_error_stats

                summary["normal_error"] = normal_error_stats(res.normals, cap.normals, cap.mask)
                mean = summary["normal_error"]["mean"]
                print(f"photometric stereo: mean normal error {mean:.2f} deg")
            write_json(out / "ps.json", summary)
    return 0
