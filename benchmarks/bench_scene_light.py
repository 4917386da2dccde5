"""Several objects, one light (issue 20): the joint light of two cars against each car
alone, on a Mitsuba render (direct light: cast shadows between the cars, sky occlusion).

    python benchmarks/bench_scene_light.py [--size 128] [--spp 64] [--seed 3]

Light: ambient 0.3, directional 0.6, direction (0.4, 0.7, 0.5)/|.| (camera project frame);
scene :func:`lambertian.synth.street.two_cars`. Prints angle errors (degrees) and the
relative errors of the intensities; then a ball between the light and the near car (its
shadow on the car): the scene fit, the car alone, the scene without shadow maps; then,
when ../shared/data/apollocar3d is there, three pairs of real ApolloCar3D car meshes
(flat normals, each its own light), with the current model and the old one (pixel-centre
samples, shadow maps, back faces kept).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

LIGHT = np.array([0.4, 0.7, 0.5]) / np.linalg.norm([0.4, 0.7, 0.5])


def _angle(a, b) -> float:
    c = np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--spp", type=int, default=64)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.app.mesh_fit import fit_scene_light
    from lambertian.fit.scene import SceneObject, merge_objects, pixel_owner
    from lambertian.render import Camera, rasterize
    from lambertian.synth.mitsuba_scene import render_mitsuba
    from lambertian.synth.street import two_cars

    cars, K = two_cars(args.size)
    objs = [SceneObject(mesh, R, t, None, name) for name, mesh, R, t in cars]
    merged, owner = merge_objects(objs)
    cam = Camera.create(K, np.eye(3), np.zeros(3), args.size, args.size)
    pown = pixel_owner(rasterize(merged, cam).face, owner).numpy()
    for i, o in enumerate(objs):
        o.mask = pown == i
    photo = render_mitsuba(merged, cam, LIGHT, 0.6, 0.3, spp=args.spp, seed=args.seed)
    res = fit_scene_light(objs, photo, K, smooth=True)
    _table([("joint", res.light)]
           + [(f"{o.name} car alone", o.light_alone) for o in res.objects])
    # a ball between the light and the near car: one object's shadow on another
    from lambertian.synth import meshes

    _, mesh, R, t = cars[0]
    toward_light = np.array([1.0, -1.0, -1.0]) * LIGHT  # OpenCV camera frame
    objs = [SceneObject(mesh, R, t, None, "car"),
            SceneObject(meshes.sphere(0.9, 3), np.eye(3), t + 2.2 * toward_light, None, "ball")]
    merged, owner = merge_objects(objs)
    pown = pixel_owner(rasterize(merged, cam).face, owner).numpy()
    for i, o in enumerate(objs):
        o.mask = pown == i
    photo = render_mitsuba(merged, cam, LIGHT, 0.6, 0.3, spp=args.spp, seed=args.seed)
    print()
    _table([(name, fit_scene_light(o, photo, K, smooth=True, shadows=sh, each_alone=False).light)
            for name, o, sh in (("ball + car, scene shadows", objs, True),
                                ("car alone (its own shadows)", objs[:1], True),
                                ("ball + car, no shadows", objs, False))])

    _real_cars(args)
    _real_car_alone(args)


# (model, ApolloCar3D pose row) pairs and the light (camera project frame) of each scene
REAL_SCENES = [
    ([("019-SUV", [0, 0.15, 0.6, 3.141592653589793, -1.6, 1.4, 11.0]),
      ("037-CAR02", [0, 0.15, -2.5, 3.141592653589793, 1.8, 1.4, 15.0])], LIGHT),
    ([("aodi-a6", [0, 0.12, 2.0, 3.141592653589793, 1.5, 1.5, 10.0]),
      ("biyadi-qin", [0, 0.12, -1.0, 3.141592653589793, -2.0, 1.5, 14.0])],
     np.array([-0.5, 0.6, 0.6]) / np.linalg.norm([-0.5, 0.6, 0.6])),
    ([("baoma-X5", [0, 0.1, -0.3, 3.141592653589793, 1.2, 1.5, 12.0]),
      ("fute", [0, 0.1, 1.2, 3.141592653589793, -2.2, 1.5, 16.0])],
     np.array([0.2, 0.8, 0.3]) / np.linalg.norm([0.2, 0.8, 0.3])),
]
# the scene fit's model before issue 20's fix: one sample at each pixel's centre, shadow
# maps, pixels seeing the back of a face kept
OLD_MODEL = {"supersample": 1, "visibility": "shadow_map", "drop_back_facing": False}


def _real_cars(args) -> None:
    """Pairs of ApolloCar3D meshes placed by pose rows (flat normals), each fitted with
    the current model and with the old one."""
    from lambertian.app.mesh_fit import fit_scene_light
    from lambertian.fit.scene import SceneObject, merge_objects, pixel_owner
    from lambertian.io.apollocar import CarPose
    from lambertian.io.data_root import data_root
    from lambertian.render import Camera, rasterize
    from lambertian.render.mesh import load_mesh
    from lambertian.synth.mitsuba_scene import render_mitsuba

    root = data_root()
    if root is None or not (root / "apollocar3d").is_dir():
        print("\n(no ../shared/data/apollocar3d: real car meshes skipped)")
        return
    size = args.size
    f = 1.1 * size
    K = np.array([[f, 0.0, (size - 1) / 2], [0.0, f, 0.4 * size - 0.5], [0.0, 0.0, 1.0]])
    cam = Camera.create(K, np.eye(3), np.zeros(3), size, size)
    print()
    print("| cars | fit | direction error (deg) | intensity error | ambient error |")
    print("|---|---|---|---|---|")
    for rows, light in REAL_SCENES:
        objs = []
        for model, row in rows:
            pose = CarPose.from_row(row)
            objs.append(SceneObject(load_mesh(root / "apollocar3d" / "car_models_json" /
                                              f"{model}.json"), pose.R, pose.t, None, model))
        merged, owner = merge_objects(objs)
        pown = pixel_owner(rasterize(merged, cam).face, owner).numpy()
        for i, o in enumerate(objs):
            o.mask = pown == i
        photo = render_mitsuba(merged, cam, light, 0.6, 0.3, spp=args.spp, seed=args.seed,
                               smooth=False)
        cars = " + ".join(m for m, _ in rows)
        res = fit_scene_light(objs, photo, K)
        fits = [("joint", res.light)] + [(f"{o.name} alone", o.light_alone)
                                          for o in res.objects]
        fits.append(("joint, old model", fit_scene_light(objs, photo, K, each_alone=False,
                                                         **OLD_MODEL).light))
        for name, lt in fits:
            print(f"| {cars} | {name} | {_angle(lt.direction, light):.2f} | "
                  f"{lt.intensity / 0.6 - 1:+.2%} | {lt.ambient / 0.3 - 1:+.2%} |")


def _real_car_alone(args) -> None:
    """Each car of those pairs alone in its photo, fitted as ``lambertian fit MESH`` does
    (:func:`lambertian.app.mesh_fit.fit_mesh_light`), with the current model and the old."""
    from lambertian.app.mesh_fit import fit_mesh_light
    from lambertian.io.apollocar import CarPose
    from lambertian.io.data_root import data_root
    from lambertian.render import Camera, rasterize
    from lambertian.render.mesh import load_mesh
    from lambertian.synth.mitsuba_scene import render_mitsuba

    root = data_root()
    if root is None or not (root / "apollocar3d").is_dir():
        return
    size = args.size
    f = 1.1 * size
    K = np.array([[f, 0.0, (size - 1) / 2], [0.0, f, 0.4 * size - 0.5], [0.0, 0.0, 1.0]])
    print()
    print("| car alone (`lambertian fit MESH`) | model | direction error (deg) | "
          "intensity error | ambient error |")
    print("|---|---|---|---|---|")
    for rows, light in REAL_SCENES:
        for model, row in rows:
            pose = CarPose.from_row(row)
            mesh = load_mesh(root / "apollocar3d" / "car_models_json" / f"{model}.json")
            cam = Camera.create(K, pose.R, pose.t, size, size)
            mask = rasterize(mesh, cam).mask.numpy()
            photo = render_mitsuba(mesh, cam, light, 0.6, 0.3, spp=args.spp, seed=args.seed,
                                   smooth=False)
            for name, kw in (("current", {}), ("old", OLD_MODEL)):
                lt = fit_mesh_light(mesh, photo, mask, K, pose.R, pose.t, **kw).light
                print(f"| {model} | {name} | {_angle(lt.direction, light):.2f} | "
                      f"{lt.intensity / 0.6 - 1:+.2%} | {lt.ambient / 0.3 - 1:+.2%} |",
                      flush=True)


def _table(rows) -> None:
    print("| fit | direction error (deg) | intensity error | ambient error |")
    print("|---|---|---|---|")
    for name, light in rows:
        print(f"| {name} | {_angle(light.direction, LIGHT):.2f} | "
              f"{light.intensity / 0.6 - 1:+.2%} | {light.ambient / 0.3 - 1:+.2%} |")

if __name__ == "__main__":
    main()
