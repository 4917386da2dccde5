"""Seed 001's car scenario on the seed's own photo: find the cars (model among the 79
ApolloCar3D meshes, heading, distance) from the mask and the camera, then fit one light
shared by all cars (and refine their poses), and compare with each car's light alone.

    python examples/seed_cars/run.py [--data DIR] [--out examples/seed_cars/out] [--steps 40]

Writes OUT/scene.json (the found cars, a SCENE.json ``lambertian fit`` reads), OUT/fit.json,
OUT/overlay.png, OUT/fit.gif and OUT/summary.md (per car: model, silhouette IoU, the light
of that car alone beside the joint light).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from lambertian.io.camera_files import linear_to_srgb

# Camera of the full 3384x2710 photo (data README); the file is its rows 1480-2710
K_FULL = np.array([[2304.5479, 0.0, 1686.2379], [0.0, 2305.8757, 1354.9849], [0.0, 0.0, 1.0]])
ROW0 = 1480
MIN_PIXELS = 2000  # mask components smaller than this are JPEG noise, not cars
SECOND_CAR = 0.15  # the first car leaves this fraction of its component: a second car
# Pixels darker than this (linear grey; sRGB 8-bit value about 28) are left out of the
# light fit. With albedo fixed to 1 the fit explains every pixel by the light alone, but
# tyres (albedo ~0.02-0.05), dark glass (it shows the dark cabin, and reflects only
# specularly) and the black railing bars in front of the first car are not that surface:
# they are darker than most of the body paint, which the sky (the ambient term) lights
# even in shadow, so they would pull the ambient to zero and the direction toward
# wherever they happen to be. The value is a judgement (it drops about a quarter of
# the front and far cars' pixels, about two fifths of the dark middle car's), not a
# measurement; the README shows how much the light moves with it.
MIN_GREY = 0.012
GROW = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0)  # box heights tried for a car cut at its bottom


def _mask(photo_u8: np.ndarray) -> np.ndarray:
    """The cars' mask: the photo is the grey image multiplied by it (JPEG: small values
    outside); holes of dark glass closed."""
    import cv2

    m = (photo_u8 > 6).astype(np.uint8)
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    return m.astype(bool)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="the apollocar3d folder (default: "
                    "lambertian.io.data_root() / apollocar3d)")
    ap.add_argument("--out", default="examples/seed_cars/out")
    ap.add_argument("--steps", type=int, default=40, help="pose iterations per car")
    ap.add_argument("--headings", type=int, default=24)
    ap.add_argument("--min-grey", type=float, default=MIN_GREY,
                    help="linear grey below which pixels are left out of the light fit")
    args = ap.parse_args()
    import cv2
    import torch

    from lambertian.app.mesh_fit import fit_scene_light, scene_fit_json
    from lambertian.fit.outputs import save_gif, save_overlay
    from lambertian.fit.pose_search import search_car_pose
    from lambertian.fit.scene import SceneObject
    from lambertian.io.apollocar import CarPose
    from lambertian.io.camera_files import srgb_to_linear
    from lambertian.io.data_root import data_root
    from lambertian.render import Camera, rasterize
    from lambertian.render.mesh import load_mesh

    torch.set_num_threads(1)
    start = time.time()
    data = Path(args.data) if args.data else data_root() / "apollocar3d"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photo_u8 = cv2.imread(str(data / "masked_grayscale_img.jpg"), cv2.IMREAD_GRAYSCALE)
    # the model is linear in radiance; the JPEG stores sRGB-encoded grey (what cameras
    # write): undo the curve (lambertian.io.camera_files, as ``encoding="auto"`` does)
    photo = srgb_to_linear(photo_u8.astype(np.float32) / 255.0)
    H, W = photo.shape
    K = K_FULL.copy()
    K[1, 2] -= ROW0
    mask = _mask(photo_u8)
    models = sorted((data / "car_models_json").glob("*.json"))
    cars = {p.stem: load_mesh(p, dtype=torch.float64) for p in models}
    print(f"seed_cars: {len(cars)} car models, mask {int(mask.sum())} pixels", flush=True)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    # name, R, t, silhouette at the searched pose, the car's mask (the photo's pixels)
    found: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for c in range(1, n):
        if stats[c, 4] < MIN_PIXELS:
            continue
        comp = labels == c
        # the first car of a component: the one in front, which stays inside the mask; its
        # box grown downward only when the image's bottom edge cuts it
        cut = stats[c, 1] + stats[c, 3] >= H - 1
        best = search_car_pose(cars, comp, K, headings=args.headings, spill=3.0,
                               max_shift=0.3, grow=GROW if cut else (1.0,),
                               coarse_grow=(1.5,) if cut else None)[0]
        sil = _silhouette(cars[best.key], best, K, W, H, Camera, rasterize, torch)
        first = len(found)
        found.append((best.key, best.R, best.t, sil, comp))
        print(f"seed_cars: car {len(found)}: {best.key}, heading {math.degrees(best.a2):.0f} deg,"
              f" z {best.t[2]:.1f} m, score {best.score:.3f}", flush=True)
        rest = comp & ~sil
        if rest.sum() > SECOND_CAR * comp.sum():  # a second car, partly hidden by the first
            rest = cv2.morphologyEx(rest.astype(np.uint8), cv2.MORPH_OPEN,
                                    np.ones((9, 9), np.uint8)).astype(bool)
            # the first car's outline misses some of its own pixels too (slivers along
            # its edges): the second car is the largest piece left, the slivers stay
            # the first car's
            k, parts, pst, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8))
            rest = parts == 1 + int(np.argmax(pst[1:, 4])) if k > 1 else rest
            # its lower part is behind the first car, so its visible box is shorter than
            # the car: the distance from the box's height alone puts it too far; boxes
            # grown downward (their top kept) are scored too (the coarse grid at the middle
            # height, to rank models and headings; all heights for the best models)
            best2 = search_car_pose(cars, rest, K, headings=args.headings, ignore=sil,
                                    max_shift=0.3, grow=GROW, coarse_grow=(1.5,))[0]
            sil2 = _silhouette(cars[best2.key], best2, K, W, H, Camera, rasterize, torch)
            # the masks are the photo's: the second car's is what the first leaves
            found[first] = (best.key, best.R, best.t, sil, comp & ~rest)
            found.append((best2.key, best2.R, best2.t, sil2, rest))
            print(f"seed_cars: car {len(found)}: {best2.key}, heading "
                  f"{math.degrees(best2.a2):.0f} deg, z {best2.t[2]:.1f} m, "
                  f"score {best2.score:.3f}", flush=True)
    print(f"seed_cars: search done in {time.time() - start:.0f} s", flush=True)
    # each car's mask: the photo's mask where that car is the one seen
    objects = [SceneObject(cars[key].to(torch.float32), R, t, m, key)
               for key, R, t, _, m in found]
    for i, (_, _, _, _, m) in enumerate(found):
        cv2.imwrite(str(out / f"mask{i}.png"), m.astype(np.uint8) * 255)
    scene = {"objects": [{"name": key, "mesh": str((data / "car_models_json" / f"{key}.json")
                                                     .resolve()),
                          "pose": np.concatenate([R, t[:, None]], 1).tolist(),
                          "mask": f"mask{i}.png", "pose_row": list(CarPose(0, R, t).to_row()[1:])}
                         for i, (key, R, t, _, _) in enumerate(found)]}
    (out / "scene.json").write_text(json.dumps(scene, indent=1))
    rows = np.nonzero(mask.any(1))[0]
    cols = np.nonzero(mask.any(0))[0]
    pad = 20
    x0, y0 = max(int(cols[0]) - pad, 0), max(int(rows[0]) - pad, 0)
    crop = (x0, y0, min(int(cols[-1]) + pad, W - 1) - x0 + 1,
            min(int(rows[-1]) + pad, H - 1) - y0 + 1)
    res = fit_scene_light(objects, photo, K, crop=crop, fit_pose=args.steps > 0,
                          steps=args.steps, smooth=True, min_grey=args.min_grey,
                          progress=lambda s, i, loss: print(f"seed_cars: {s}", flush=True)
                          if i == 0 else None)
    result = scene_fit_json(res)
    (out / "fit.json").write_text(json.dumps(result, indent=1))
    # the pictures are encoded back to sRGB, as the JPEG was (linear grey looks black)
    save_overlay(out / "overlay.png", linear_to_srgb(res.photo),
                 linear_to_srgb(res.frames[-1]), res.render_mask)
    save_gif(out / "fit.gif", [linear_to_srgb(f) for f in res.frames])
    joint = np.asarray(res.light.direction)
    lines = ["| car (model) | silhouette IoU | light alone: direction | angle to joint (deg) | "
             "ambient | directional |", "|---|---|---|---|---|---|"]
    for o in res.objects:
        d = o.light_alone.direction
        ang = math.degrees(math.acos(float(np.clip(np.dot(d, joint), -1, 1))))
        lines.append(f"| {o.name} | {o.iou:.3f} | ({d[0]:.2f}, {d[1]:.2f}, {d[2]:.2f}) | "
                     f"{ang:.1f} | {o.light_alone.ambient:.3f} | {o.light_alone.intensity:.3f} |")
    lines.append(f"| joint | | ({joint[0]:.2f}, {joint[1]:.2f}, {joint[2]:.2f}) | 0 | "
                 f"{res.light.ambient:.3f} | {res.light.intensity:.3f} |")
    lines.append(f"\nwhole run: {time.time() - start:.0f} s (one thread)")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))




def _silhouette(mesh, cand, K, W, H, Camera, rasterize, torch) -> np.ndarray:
    """(H, W) bool full-image silhouette of a candidate pose."""
    cam = Camera.create(K, cand.R, cand.t, W, H, dtype=torch.float64)
    with torch.no_grad():
        return rasterize(mesh, cam).mask.numpy()


if __name__ == "__main__":
    main()
