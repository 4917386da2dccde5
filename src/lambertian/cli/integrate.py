"""``lambertian integrate NORMALS``: depth map and mesh from a normal map."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from lambertian.integrate.outputs import DEFAULT_METHOD, METHODS

    p = sub.add_parser(
        "integrate", help="depth map and a mesh (PLY) from normals",
        description="Integrate a normal map (project frame: x right, y up, z toward the "
                    "camera) into depth. NORMALS is our normals.npy (H x W x 3 float, zeros "
                    "outside the mask) or a 16-bit normal PNG ((n + 1) / 2). Writes "
                    "depth.npy (float32, NaN outside the mask), depth.png (16-bit), "
                    "depth.exr, mesh.ply and depth.json into OUT. With --camera the depth is "
                    "perspective, metric up to one unknown scale; without, orthographic in "
                    "pixels up to an offset.")
    p.add_argument("normals", type=Path, metavar="NORMALS", help="normals.npy or normal PNG")
    p.add_argument("--mask", type=Path, default=None,
                   help="mask image (default: the pixels with a non-zero normal)")
    p.add_argument("--camera", type=Path, default=None, metavar="K.txt",
                   help="3 x 3 intrinsics (OpenCV convention, pixels) for perspective depth")
    p.add_argument("--method", choices=sorted(METHODS), default=DEFAULT_METHOD,
                   help=f"integrator (default: {DEFAULT_METHOD}, keeps depth discontinuities)")
    p.add_argument("--albedo", type=Path, default=None,
                   help="optional albedo.npy or image for the mesh's vertex colours")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=run)


def read_normals(path: Path):
    """(H, W, 3) float64 normals from .npy or a 16-bit normal PNG; InputError otherwise."""

    from lambertian.core.errors import InputError

    if not path.is_file():
        raise InputError(path, "no such file")
    if path.suffix.lower() == ".npy":
        from lambertian.io.checks import load_npy

        return load_npy(path, "normal map")
    if path.suffix.lower() == ".png":
        from lambertian.io import read_normal_png

        return read_normal_png(path)
    raise InputError(path, "normals must be a .npy array or a 16-bit normal .png")


def _read_inputs(args: argparse.Namespace):
    """Normals, mask, intrinsics and albedo of ``integrate``, each checked and named in
    its errors; non-finite normals outside a given mask become zeros (the mask says those
    pixels do not count; the integrators and the mesh never see the NaN)."""
    import numpy as np

    from lambertian.core.errors import InputError
    from lambertian.io import read_image, read_mask
    from lambertian.io.checks import load_npy
    from lambertian.io.matrix import read_camera

    normals = read_normals(args.normals)
    if normals.ndim != 3 or normals.shape[-1] != 3:
        raise InputError(args.normals, f"a normal map must be H x W x 3, got {normals.shape}")
    mask = read_mask(args.mask, normals.shape[:2]) if args.mask is not None else None
    K = read_camera(args.camera) if args.camera is not None else None
    albedo = None
    if args.albedo is not None:
        albedo = (load_npy(args.albedo, "albedo")
                  if args.albedo.suffix.lower() == ".npy" else read_image(args.albedo)[0])
        if albedo.ndim not in (2, 3) or albedo.shape[:2] != normals.shape[:2]:
            raise InputError(args.albedo, f"albedo has shape {albedo.shape}, normals are "
                                          f"{normals.shape[1]}x{normals.shape[0]}")
        if albedo.ndim == 3 and albedo.shape[2] not in (1, 3):
            # grey or RGB (read_image drops an image's alpha); else the mesh colours fail
            # or take three arbitrary channels
            raise InputError(args.albedo, f"albedo has {albedo.shape[2]} channels: 1 (grey) "
                                          "or 3 (RGB) are read")
        if not np.isfinite(albedo).all():
            raise InputError(args.albedo, "albedo holds NaN or infinite values")
    if mask is not None:
        from lambertian.integrate.checks import check_normals

        check_normals(normals, mask, source=str(args.normals), mask_source=str(args.mask))
        normals = np.where(np.isfinite(normals), normals, 0.0)
    return normals, mask, K, albedo


def run(args: argparse.Namespace) -> int:
    from lambertian.app.integrate import depth_from_normals
    from lambertian.cli.common import write_json
    from lambertian.integrate.outputs import depth_summary, write_depth
    from lambertian.io.output_dir import check_outputs, output_folder

    inputs = [args.normals, args.mask, args.camera, args.albedo]
    check_outputs(args.out, inputs)
    normals, mask, K, albedo = _read_inputs(args)
    print(f"integrating {args.normals} ({normals.shape[1]}x{normals.shape[0]}) with "
          f"{args.method}, {'perspective' if K is not None else 'orthographic'} ...", flush=True)
    # the checks inside name the files in their errors
    res = depth_from_normals(normals, mask, K=K, method=args.method, source=str(args.normals),
                             mask_source=str(args.mask))
    with output_folder(args.out, inputs) as out:  # appears whole when complete
        summary = depth_summary(res, write_depth(out, res, normals, albedo))
        write_json(out / "integrate.json", {"normals": str(args.normals), **summary})
    print(f"{summary['components']} region(s), {summary['seconds']:.2f} s; wrote {args.out}/")
    return 0
