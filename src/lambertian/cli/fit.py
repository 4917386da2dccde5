"""``lambertian fit``: ambient + directional light (and the pose) of a known mesh in a
masked photo, by differentiable rendering (the Neural Mesh Renderer's lighting model)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit", help="fit ambient/directional light (+ pose) of a mesh to a masked photo",
        description="Fit I = albedo (l_a + l_d max(0, n_d . n)) with albedo 1 (only albedo x "
                    "intensity is identifiable) to a masked grey photo of a known mesh.")
    p.add_argument("mesh", help="mesh file (OBJ, PLY, GLB, ApolloCar3D JSON, ...), or SCENE.json: "
                               '{"objects": [{"mesh": PATH, "pose": 3x4, "mask": PATH}, ...]} '
                               "(several objects, one light; paths relative to the JSON)")
    p.add_argument("image", help="8- or 16-bit grey or RGB photo (full image)")
    p.add_argument("--mask", help="mask image: nonzero = object pixels (needed with a mesh; "
                                  "with a SCENE.json, for objects without their own mask)")
    p.add_argument("--camera", required=True, help="K.txt: 3x3 intrinsics (OpenCV)")
    p.add_argument("--pose", help="POSE.txt: 3x4 [R|t] world-to-camera (OpenCV); needed with a "
                                  "mesh (a SCENE.json holds its objects' poses)")
    p.add_argument("--crop", type=int, nargs=4, metavar=("X0", "Y0", "W", "H"),
                   help="render and fit only this window of the image")
    p.add_argument("--fit-pose", action="store_true", help="also fit R and t")
    p.add_argument("--smooth", action="store_true",
                   help="shade with interpolated vertex normals (default: per-face normals)")
    p.add_argument("--no-shadows", action="store_true",
                   help="do not model the mesh's cast shadows and sky occlusion in the light fit "
                        "(default: exact rays through the known mesh; the robust loss covers "
                        "the rest)")
    p.add_argument("--steps", type=int, default=150, help="pose iterations (default 150)")
    p.add_argument("--out", default="fit_out", help="output folder (default fit_out)")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lambertian.app.mesh_fit import fit_mesh_light
    from lambertian.cli.common import set_threads, write_json
    from lambertian.core.errors import InputError
    from lambertian.fit.inputs import mesh_files, read_grey, read_mask
    from lambertian.fit.outputs import save_gif, save_overlay
    from lambertian.io.matrix import read_camera, read_pose
    from lambertian.io.output_dir import check_outputs, output_folder
    from lambertian.io.scene_json import is_scene_file

    set_threads(args.threads)
    if args.steps < 1:
        raise InputError("--steps", f"must be at least 1, got {args.steps}")
    if is_scene_file(args.mesh):
        return run_scene(args)
    need_mesh_arguments(args)
    # the mesh's material and texture files are read too, so they are inputs as well
    inputs = [*mesh_files(args.mesh), args.image, args.mask, args.camera, args.pose]
    final = check_outputs(args.out, inputs)
    photo = read_grey(args.image)
    mask = read_mask(args.mask, photo.shape)
    R, t = read_pose(args.pose)
    said: set[str] = set()

    def progress(stage: str, step: int, loss: float | None) -> None:
        if stage not in said:  # one line per step of the fit
            said.add(stage)
            print(f"fit: {STAGES[stage]}", flush=True)

    res = fit_mesh_light(args.mesh, photo, mask, read_camera(args.camera), R, t,
                         crop=args.crop, fit_pose=args.fit_pose, smooth=args.smooth,
                         shadows=not args.no_shadows, steps=args.steps, progress=progress,
                         mask_source=args.mask, photo_source=str(args.image),
                         pose_source=str(args.pose))
    with output_folder(final, inputs) as out:  # the three files appear together
        write_json(out / "fit.json", _summary(res))
        save_overlay(out / "overlay.png", res.photo, res.frames[-1], res.render_mask)
        save_gif(out / "fit.gif", res.frames)
    print(f"fit: wrote {final / 'fit.json'}, overlay.png, fit.gif", flush=True)
    return 0


def _summary(res) -> dict:
    """fit.json: the light (project and world frames), the pose, the losses, the notes."""
    from lambertian.io.light_json import light_to_json

    return {"light": light_to_json(res.light), "light_world": light_to_json(res.light_world),
            "pose": {"R": res.R.tolist(), "t": res.t.tolist(),
                     "convention": "OpenCV X_cam = R X_world + t"},
            "crop": list(res.crop), "losses": res.losses, "note": res.notes["albedo"],
            "shadows": res.notes["shadows"], "normals": res.notes["normals"]}


def need_mesh_arguments(args: argparse.Namespace) -> None:
    """The one-mesh form needs --mask and --pose (a SCENE.json carries its own)."""
    from lambertian.core.errors import InputError

    for flag in ("mask", "pose"):
        if getattr(args, flag) is None:
            raise InputError(f"--{flag}", f"required with a mesh file ({args.mesh}); "
                                          "a SCENE.json holds poses and masks itself")


def scene_inputs(args: argparse.Namespace) -> tuple[list, list]:
    """The scene's entries and every input of ``fit SCENE.json``: the files the scene
    names (meshes with their materials, masks) too, since one inside OUT would be deleted
    when OUT is replaced. Only the JSON is parsed (no mesh or image opened), so a bad OUT
    is refused before any work."""
    from lambertian.fit.inputs import mesh_files
    from lambertian.io.scene_json import read_scene

    entries = read_scene(args.mesh)
    inputs = [args.mesh, args.image, args.mask, args.camera]
    for e in entries:
        inputs += [*mesh_files(e.mesh), e.mask]
    return entries, inputs


def run_scene(args: argparse.Namespace) -> int:
    """``lambertian fit SCENE.json IMAGE``: one light shared by several objects."""
    from lambertian.app.mesh_fit import fit_scene_light, load_scene, scene_fit_json
    from lambertian.cli.common import write_json
    from lambertian.fit.inputs import read_grey, read_mask
    from lambertian.fit.outputs import save_gif, save_overlay
    from lambertian.io.matrix import read_camera
    from lambertian.io.output_dir import check_outputs, output_folder

    entries, inputs = scene_inputs(args)
    final = check_outputs(args.out, inputs)
    photo = read_grey(args.image)
    mask = None if args.mask is None else read_mask(args.mask, photo.shape)
    objects = load_scene(args.mesh, photo.shape, entries=entries)
    said: set[str] = set()

    def progress(stage: str, step: int, loss: float | None) -> None:
        if stage not in said:
            said.add(stage)
            print(f"fit: {STAGES.get(stage, f'fitting the light of {stage}')}", flush=True)

    res = fit_scene_light(objects, photo, read_camera(args.camera), mask=mask, crop=args.crop,
                          fit_pose=args.fit_pose, smooth=args.smooth,
                          shadows=not args.no_shadows, steps=args.steps, progress=progress,
                          photo_source=str(args.image))
    with output_folder(final, inputs) as out:  # the three files appear together
        write_json(out / "fit.json", scene_fit_json(res))
        save_overlay(out / "overlay.png", res.photo, res.frames[-1], res.render_mask)
        save_gif(out / "fit.gif", res.frames)
    for o in res.objects:
        print(f"fit: {o.name}: silhouette IoU {o.iou if o.iou is None else round(o.iou, 3)}, "
              f"grey residual {o.residual_rmse:.4f}", flush=True)
    if "warning" in res.notes:
        print(f"fit: warning: {res.notes['warning']}", flush=True)
    print(f"fit: wrote {final / 'fit.json'}, overlay.png, fit.gif", flush=True)
    return 0


STAGES = {"light": "fitting the light", "shadows": "visibility through the mesh (cast "
          "shadows, sky occlusion)", "pose": "fitting the pose", "light again": "fitting the light "
          "again at the fitted pose (the pose fit has no shadow model)"}
