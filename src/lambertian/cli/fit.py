"""``lambertian fit``: ambient + directional light (and the pose) of a known mesh in a
masked photo, by differentiable rendering (the Neural Mesh Renderer's lighting model)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit", help="fit ambient/directional light (+ pose) of a mesh to a masked photo",
        description="Fit I = albedo (l_a + l_d max(0, n_d . n)) with albedo 1 (only albedo x "
                    "intensity is identifiable) to a masked grey photo of a known mesh.")
    p.add_argument("mesh", help="mesh file (OBJ, PLY, GLB, ...)")
    p.add_argument("image", help="8- or 16-bit grey or RGB photo (full image)")
    p.add_argument("--mask", required=True, help="mask image: nonzero = object pixels")
    p.add_argument("--camera", required=True, help="K.txt: 3x3 intrinsics (OpenCV)")
    p.add_argument("--pose", required=True, help="POSE.txt: 3x4 [R|t] world-to-camera (OpenCV)")
    p.add_argument("--crop", type=int, nargs=4, metavar=("X0", "Y0", "W", "H"),
                   help="render and fit only this window of the image")
    p.add_argument("--fit-pose", action="store_true", help="also fit R and t")
    p.add_argument("--smooth", action="store_true",
                   help="shade with interpolated vertex normals (default: per-face normals)")
    p.add_argument("--no-shadows", action="store_true",
                   help="do not model the mesh's cast shadows and sky occlusion in the light fit "
                        "(default: shadow maps of the known mesh; the robust loss covers the rest)")
    p.add_argument("--steps", type=int, default=150, help="pose iterations (default 150)")
    p.add_argument("--out", default="fit_out", help="output folder (default fit_out)")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from lambertian.cli.common import set_threads, write_json
    from lambertian.core.errors import InputError
    from lambertian.fit.inputs import read_grey, read_mask, read_matrix, read_pose
    from lambertian.fit.light import LightParams, fit_light, mesh_visibility
    from lambertian.fit.outputs import save_gif, save_overlay
    from lambertian.fit.pose import fit_pose
    from lambertian.io.output_dir import check_outputs, output_folder
    from lambertian.render.camera import Camera
    from lambertian.render.mesh import load_mesh
    from lambertian.render.rasterize import rasterize
    from lambertian.render.shade import pixel_normals, project_light_to_world

    set_threads(args.threads)
    inputs = [args.mesh, args.image, args.mask, args.camera, args.pose]
    final = check_outputs(args.out, inputs)
    if args.steps < 1:
        raise InputError("--steps", f"must be at least 1, got {args.steps}")
    mesh = load_mesh(args.mesh)
    photo = read_grey(args.image)
    H, W = photo.shape
    mask = read_mask(args.mask, (H, W))
    K = read_matrix(args.camera, (3, 3))
    R, t = read_pose(args.pose)
    cam = Camera.create(K, R, t, W, H)
    x0, y0, w, h = args.crop if args.crop else (0, 0, W, H)
    if x0 < 0 or y0 < 0 or w <= 0 or h <= 0 or x0 + w > W or y0 + h > H:
        raise InputError("--crop", f"window {x0} {y0} {w} {h} is not inside the {W}x{H} image")
    cam = cam.crop(x0, y0, w, h)
    img_t = torch.from_numpy(photo[y0:y0 + h, x0:x0 + w].copy())
    mask_t = torch.from_numpy(mask[y0:y0 + h, x0:x0 + w].copy())

    print(f"fit: {mesh.num_faces} faces, window {w}x{h}; fitting the light", flush=True)
    frames: list[np.ndarray] = []
    frags = rasterize(mesh, cam)
    use = frags.mask & _erode(mask_t)
    if int(use.sum()) < 10:
        raise InputError(args.mask, "the mesh at this pose covers fewer than 10 mask pixels")
    normals = pixel_normals(mesh, cam, frags, smooth=args.smooth).detach()
    vis: dict = {}
    if not args.no_shadows:
        # NMR's model has neither cast shadows nor occlusion of the ambient light; on a
        # non-convex mesh (a car's wheels under its body) both bias a plain fit
        print("fit: shadow maps of the mesh (cast shadows, sky occlusion)", flush=True)
        va, shadow = mesh_visibility(mesh, cam, frags, smooth=args.smooth)
        vis = {"ambient_visibility": va.to(img_t.dtype), "shadow": shadow}

    def light_cb(step: int, light: LightParams, loss: float) -> None:
        if step % 10 == 0 and len(frames) < 30:
            frames.append(_render_frame(normals, frags.mask, light, img_t))

    res = fit_light(normals, img_t, use, callback=light_cb, **vis)
    ld = res["light"]
    light = LightParams.init(ld["ambient"], ld["intensity"], tuple(ld["direction"]))
    losses = {"light_loss": res["loss"], "light_rmse": res["rmse"],
              "inlier_fraction": res["inlier_fraction"]}
    shadows_note = ("cast shadows and sky occlusion of the mesh modelled by shadow maps"
                    if vis else "no shadow model (--no-shadows): only the robust loss")
    if args.fit_pose:
        print("fit: fitting the pose", flush=True)

        def pose_cb(step: int, c: Camera, img: torch.Tensor, parts: dict) -> None:
            if step % max(1, args.steps // 30) == 0:
                frames.append(_blend(img, img_t))

        pr = fit_pose(mesh, cam, img_t, mask_t, light, steps=args.steps, fit_light=True,
                      shading_weight=10.0, smooth=args.smooth, callback=pose_cb)
        cam = pr["camera"]
        losses.update(pr["losses"])
        light = LightParams.init(float(light.ambient.detach()), float(light.intensity.detach()),
                                 tuple(light.direction.detach().tolist()))
        if vis:  # the pose fit has no shadow model: refit the light at the fitted pose
            frags = rasterize(mesh, cam)
            use = frags.mask & _erode(mask_t)
            normals = pixel_normals(mesh, cam, frags, smooth=args.smooth).detach()
            va, shadow = mesh_visibility(mesh, cam, frags, smooth=args.smooth)
            res = fit_light(normals, img_t, use, init=light, ambient_visibility=va.to(img_t.dtype),
                            shadow=shadow)
            ld = res["light"]
            light = LightParams.init(ld["ambient"], ld["intensity"], tuple(ld["direction"]))
            losses.update({"light_loss": res["loss"], "light_rmse": res["rmse"],
                           "inlier_fraction": res["inlier_fraction"]})
    light = LightParams.init(float(light.ambient.detach()), float(light.intensity.detach()),
                             tuple(light.direction.detach().tolist()))
    amb, inten = float(light.ambient.detach()), float(light.intensity.detach())
    with torch.no_grad():
        frags = rasterize(mesh, cam)
        normals = pixel_normals(mesh, cam, frags, smooth=args.smooth)
        final_frame = _render_frame(normals, frags.mask, light, img_t)
        frames.append(final_frame)
        d_proj = light.direction.detach()
        d_world = project_light_to_world(d_proj, cam)
    result = {
        "light": {"direction": d_proj.tolist(), "intensity": inten,
                  "ambient": amb, "frame": "project (camera: x right, y up, "
                  "z toward the camera, toward the light)"},
        "light_world": {"direction": d_world.tolist(), "intensity": inten,
                        "ambient": amb, "frame": "world (the mesh's)"},
        "pose": {"R": cam.R.detach().tolist(), "t": cam.t.detach().tolist(),
                 "convention": "OpenCV X_cam = R X_world + t"},
        "crop": [x0, y0, w, h],
        "losses": losses,
        "note": "albedo fixed to 1: intensities are albedo x intensity",
        "shadows": shadows_note,
        "normals": "smooth (vertex)" if args.smooth else "flat (per face)",
    }
    with output_folder(final, inputs) as out:  # the three files appear together
        write_json(out / "fit.json", result)
        save_overlay(out / "overlay.png", img_t.numpy(), final_frame, frags.mask.numpy())
        save_gif(out / "fit.gif", frames)
    print(f"fit: wrote {final / 'fit.json'}, overlay.png, fit.gif", flush=True)
    return 0


def _erode(mask):
    import torch.nn.functional as F

    m = mask[None, None].float()
    return (-F.max_pool2d(-m, 3, stride=1, padding=1))[0, 0] > 0.5


def _render_frame(normals, mask, light, photo):
    import torch

    from lambertian.render.shade import shade

    with torch.no_grad():
        img = shade(normals, mask, light.direction.detach().reshape(1, 3),
                    light.intensity.detach(), light.ambient.detach())[..., 0]
    return _blend(img, photo)


def _blend(img, photo):
    import numpy as np

    a = np.clip(photo.detach().numpy(), 0, 1)
    b = np.clip(img.detach().numpy(), 0, 1)
    return np.concatenate([a, b], axis=1)
