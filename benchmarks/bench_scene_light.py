"""Several objects, one light (issue 20): the joint light of two cars against each car
alone, on a Mitsuba render (direct light: cast shadows between the cars, sky occlusion).

    python benchmarks/bench_scene_light.py [--size 128] [--spp 64] [--seed 3]

Light: ambient 0.3, directional 0.6, direction (0.4, 0.7, 0.5)/|.| (camera project frame);
scene :func:`lambertian.synth.street.two_cars`. Prints angle errors (degrees) and the
relative errors of the intensities; then a ball between the light and the near car (its
shadow on the car): the scene fit, the car alone, the scene without shadow maps; then,
when ../shared/data/apollocar3d is there, two real ApolloCar3D car meshes (flat normals).
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
            for name, o, sh in (("ball + car, scene shadow maps", objs, True),
                                ("car alone (its own shadow maps)", objs[:1], True),
                                ("ball + car, no shadow maps", objs, False))])

    _real_cars(args)


def _real_cars(args) -> None:
    """Two ApolloCar3D meshes placed by pose rows (019-SUV in front, 037-CAR02 behind)."""
    import math

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
    rows = [("019-SUV", [0, 0.15, 0.6, math.pi, -1.6, 1.4, 11.0]),
            ("037-CAR02", [0, 0.15, -2.5, math.pi, 1.8, 1.4, 15.0])]
    objs = []
    for model, row in rows:
        pose = CarPose.from_row(row)
        objs.append(SceneObject(load_mesh(root / "apollocar3d" / "car_models_json" /
                                          f"{model}.json"), pose.R, pose.t, None, model))
    size = args.size
    f = 1.1 * size
    K = np.array([[f, 0.0, (size - 1) / 2], [0.0, f, 0.4 * size - 0.5], [0.0, 0.0, 1.0]])
    merged, owner = merge_objects(objs)
    cam = Camera.create(K, np.eye(3), np.zeros(3), size, size)
    pown = pixel_owner(rasterize(merged, cam).face, owner).numpy()
    for i, o in enumerate(objs):
        o.mask = pown == i
    photo = render_mitsuba(merged, cam, LIGHT, 0.6, 0.3, spp=args.spp, seed=args.seed,
                           smooth=False)
    res = fit_scene_light(objs, photo, K)
    print()
    _table([("two real cars, joint", res.light)]
           + [(f"{o.name} alone", o.light_alone) for o in res.objects])


def _table(rows) -> None:
    print("| fit | direction error (deg) | intensity error | ambient error |")
    print("|---|---|---|---|")
    for name, light in rows:
        print(f"| {name} | {_angle(light.direction, LIGHT):.2f} | "
              f"{light.intensity / 0.6 - 1:+.2%} | {light.ambient / 0.3 - 1:+.2%} |")

if __name__ == "__main__":
    main()
