"""``lambertian relight DIR --out VIEWER/ [--model ours|ptm|hsh9|hsh16]``: a web viewer
(of a capture, or of an RTI file: ``lambertian relight FILE.ptm|FILE.rti --out VIEWER/``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

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
                                   "writes RTIViewer files (--ptm, --rti). Given a .ptm or "
                                   ".rti file instead of a capture, writes a viewer of it.")
    p.add_argument("dir", help="capture folder (DiLiGenT, psm, Yale B, images + lights.txt), "
                               "or an RTI file to view (.ptm: PTM 1.2 RGB/LRGB; .rti: HSH)")
    p.add_argument("--out", required=True, help="viewer folder (replaced only when complete)")
    p.add_argument("--model", choices=MODELS, default="ours",
                   help="ours: photometric-stereo normals + albedo + a diffuse ratio + a "
                        "Blinn-Phong lobe about its own axis (16 numbers per pixel); ptm: "
                        "6 per channel; "
                        "hsh9/hsh16: hemispherical harmonics (default ours)")
    p.add_argument("--method", choices=("ls", "robust"), default=None,
                   help="photometric-stereo solver for the normals (default robust; ls for "
                        "an RTI file, whose model is smooth)")
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


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from lambertian.app.lights import capture_lights
    from lambertian.app.relight import relight_capture
    from lambertian.cli.common import set_threads
    from lambertian.io import read_capture

    set_threads(args.threads)
    t0 = time.perf_counter()
    out = _check_arguments(args)
    if Path(args.dir).suffix.lower() in (".ptm", ".rti"):
        return _run_file(args, out, t0)
    cap = read_capture(args.dir)
    lights = None
    if args.chrome or args.uncalibrated:
        lights = capture_lights(cap, chrome=read_capture(args.chrome) if args.chrome else None,
                                camera=_camera(args.camera), skip_missing=True)
    also = (("ptm",) if args.ptm else ()) + ((_hsh_kind(args.model),) if args.rti else ())
    res = relight_capture(cap, lights, model=args.model, method=args.method or "robust",
                          depth=args.depth, also=also, log=lambda s: print(s, flush=True))
    info = {"capture": str(args.dir), "images": res.images, "model": res.model.info,
            "lights": lights.method if lights is not None else "capture files",
            "bit_depth": cap.bit_depth}
    _write_outputs(args, out, res, title=cap.name, info=info)
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _check_arguments(args: argparse.Namespace) -> Path:
    """Check every output target (--out, --ptm, --rti) before any work; return OUT.

    Each is refused with one line naming its option when it is an input or lies in an
    input folder, is an existing folder where a file is wanted (or a file where a folder
    is), lies below a file or in a folder that does not exist (--ptm, --rti) or cannot be
    written, or when two outputs collide: a failure found only after the fit would come
    after earlier outputs were replaced.
    """
    from pathlib import Path

    from lambertian.core.errors import InputError
    from lambertian.viz.viewer import check_output

    inputs = [args.dir] + [i for i in (args.chrome, args.camera) if i]
    _check_target(args.out, inputs, folder=True, option="--out")
    out = check_output(args.out, inputs)  # an existing OUT must be a viewer
    for flag, f in (("--ptm", args.ptm), ("--rti", args.rti)):
        if not f:
            continue
        target = Path(f).resolve()
        for i in inputs:
            if Path(i).resolve() == target:
                raise InputError(f, f"{flag} is the input {i}: refusing to write over an input")
            if Path(i).resolve() in target.parents:
                raise InputError(f, f"{flag}: refusing to write into the input folder {i}")
        if target == out or out in target.parents:
            raise InputError(f, f"{flag} lies inside the viewer folder --out {args.out}, "
                                "which is replaced whole; choose another place")
        parent = Path(f).parent
        if not parent.is_dir():  # the file outputs' folder is not created for them
            what = "is a file" if parent.exists() else "does not exist"
            raise InputError(f, f"{flag}: cannot write the file: the folder {parent} {what}")
        _check_target(f, inputs, folder=False, option=flag)
    if args.ptm and args.rti and Path(args.ptm).resolve() == Path(args.rti).resolve():
        raise InputError(args.rti, "--ptm and --rti name the same file: one would replace "
                                   "the other")
    if args.camera and not args.chrome:
        raise InputError(args.camera, "--camera is used by the chrome-sphere calibration "
                                      "only (give --chrome)")
    return out


def _check_target(path: str, inputs: list[str], *, folder: bool, option: str) -> None:
    """:func:`lambertian.io.output_dir.check_outputs`, its message always naming the
    option (a user given several outputs must know which one is wrong)."""
    from lambertian.core.errors import InputError
    from lambertian.io.output_dir import check_outputs

    try:
        check_outputs(path, inputs, folder=folder, option=option)
    except InputError as err:
        if option in err.problem:
            raise
        raise InputError(err.source, f"{option}: {err.problem}") from None


def _run_file(args: argparse.Namespace, out, t0: float) -> int:
    """``lambertian relight FILE.ptm|FILE.rti --out VIEWER``: a viewer of an RTI file."""
    import time
    from pathlib import Path

    from lambertian.app.relight import relight_file
    from lambertian.core.errors import InputError
    from lambertian.viz.viewer import write_viewer

    for flag, given in (("--chrome", args.chrome), ("--uncalibrated", args.uncalibrated),
                        ("--ptm", args.ptm), ("--rti", args.rti),
                        ("--model", args.model != "ours")):
        if given:
            raise InputError(flag, f"applies to a capture folder, not to the file {args.dir}")
    res = relight_file(args.dir, method=args.method or "ls", depth=args.depth,
                       log=lambda s: print(s, flush=True))
    info = {"file": str(args.dir), "model": res.model.info, "lights": "the file's model"}
    write_viewer(out, res.model, normals=res.normals, albedo=res.albedo, depth=res.depth,
                 title=Path(args.dir).stem, info=info)
    print(f"viewer: {out / 'index.html'}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _camera(path: str | None):
    if path is None:
        return None
    from lambertian.io.matrix import read_camera

    return read_camera(path)


def _hsh_kind(model: str) -> str:
    return model if model in ("hsh9", "hsh16") else "hsh9"


def _write_outputs(args: argparse.Namespace, out: Path, res: Any, *, title: str,
                   info: dict[str, Any]) -> None:
    """The viewer (--out) and the RTIViewer files asked for (--ptm, --rti), all or none.

    Each is written under a temporary name beside its target first; only when all are
    complete are they renamed into place
    (:func:`lambertian.io.output_dir.replace_together`), so a failure in the last one
    leaves every earlier output as it was.
    """
    from pathlib import Path

    from lambertian.core.errors import InputError
    from lambertian.io.output_dir import remove_path, replace_together, temporary_sibling
    from lambertian.relight.files import save_ptm, save_rti
    from lambertian.viz.viewer import write_viewer

    hsh = res.extra[_hsh_kind(args.model)] if args.rti else None
    files = [(flag, Path(f), write) for flag, f, write in (
        ("--ptm", args.ptm, lambda p: save_ptm(p, res.extra["ptm"], lrgb=True)),
        ("--rti", args.rti, lambda p: save_rti(p, hsh))) if f]
    pairs = []
    try:
        for flag, final, write in files:
            tmp = temporary_sibling(final)
            pairs.append((tmp, final))
            try:
                write(tmp)
            except OSError as exc:  # a place that cannot be written after all
                raise InputError(final, f"{flag}: cannot write the file: "
                                        f"{exc.strerror or exc}") from None
        view_tmp = temporary_sibling(out)  # write_viewer creates it, whole or not at all
        pairs.append((view_tmp, out))
        write_viewer(view_tmp, res.model, normals=res.normals, albedo=res.albedo,
                     depth=res.depth, title=title, info=info)
        replace_together(pairs)
    finally:
        for tmp, _ in pairs:
            remove_path(tmp)
    print(f"viewer: {out / 'index.html'}")
    if args.ptm:
        print(f"PTM (LRGB): {args.ptm}")
    if hsh is not None:
        print(f"HSH ({hsh.kind}): {args.rti}")
