"""Our CPU renderer against Mitsuba 3 (issue 5): forward match on a convex mesh, and light
fits on Mitsuba "photos" (sphere; torus and car with cast shadows and sky occlusion).

    python benchmarks/mitsuba_reference.py [--size 192]

Forward: mean absolute difference on pixels 2 pixels or more inside the silhouette, as a
fraction of our maximum intensity. Light fits: ambient 0.3, directional 0.6, direction
(0.4, 0.7, 0.5)/|.| in the camera project frame; "robust" = Cauchy loss only,
"visibility" = plus shadow maps and ambient occlusion of the known mesh.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from lambertian.app.mesh_fit import fit_mesh_light
from lambertian.fit.light import fit_light, mesh_visibility
from lambertian.render import Camera, look_at_pose, rasterize, render
from lambertian.render.shade import pixel_normals
from lambertian.synth import meshes
from lambertian.synth.mitsuba_scene import render_mitsuba

LIGHT = torch.tensor([0.4, 0.7, 0.5]) / torch.tensor([0.4, 0.7, 0.5]).norm()


def _camera(size: int, eye) -> Camera:
    R, t = look_at_pose(list(eye), [0.0, 0.0, 0.0])
    f = 70.0 * size / 64
    K = torch.tensor([[f, 0, 0.47 * size], [0, f, 0.53 * size], [0, 0, 1]])
    return Camera.create(K, R, t, size, size)


def _interior(mask: torch.Tensor) -> torch.Tensor:
    return -F.max_pool2d(-mask.float()[None, None], 5, 1, 2)[0, 0] > 0.5


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--spp", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(1)
    s = args.size
    print(f"## Forward: ours vs Mitsuba ({s}x{s}, spp {args.spp}, icosphere 5120 faces)\n")
    print("| normals | mean abs / max | max abs / max | silhouette pixels differing |")
    print("|---|---|---|---|")
    sph = meshes.sphere(subdivisions=4)
    cam = _camera(s, (1.0, 1.5, 4.0))
    for smooth in (True, False):
        ours, fr = render(sph, cam, LIGHT[None], 0.6, 0.3, smooth=smooth)
        ours = ours[..., 0].numpy()
        ref = render_mitsuba(sph, cam, LIGHT, 0.6, 0.3, smooth=smooth, spp=args.spp, seed=1)
        inner = _interior(fr.mask).numpy()
        d = np.abs(ours - ref)[inner]
        sil = int(((ref > 0.15) != fr.mask.numpy()).sum())
        print(f"| {'smooth' if smooth else 'flat'} | {d.mean() / ours.max():.4%} | "
              f"{d.max() / ours.max():.3%} | {sil} of {int(fr.mask.sum())} |")
    print(f"\n## Light fit on Mitsuba photos ({s}x{s}, spp {args.spp})\n")
    print("| mesh | method | direction error (deg) | l_d (0.6) | l_a (0.3) | time (s) |")
    print("|---|---|---|---|---|---|")
    scenes = (("sphere", sph, (1.0, 1.5, 4.0)), ("torus", meshes.torus(), (1.0, 2.0, 4.0)),
              ("car", meshes.car(subdivisions=2), (3.0, 2.5, 7.0)))
    for name, mesh, eye in scenes:
        cam = _camera(s, eye)
        photo = torch.from_numpy(render_mitsuba(mesh, cam, LIGHT, 0.6, 0.3, spp=args.spp,
                                                seed=3))
        fr = rasterize(mesh, cam)
        n = pixel_normals(mesh, cam, fr, smooth=True).detach()
        use = _interior(fr.mask)
        for method in ("robust", "visibility", "fit_mesh_light"):
            t0 = time.perf_counter()
            if method == "robust":
                res = fit_light(n, photo, use).light
            elif method == "visibility":
                va, shadow = mesh_visibility(mesh, cam, fr)
                res = fit_light(n, photo, use, ambient_visibility=va, shadow=shadow).light
            else:  # what `lambertian fit MESH` runs: pixel areas, exact rays, smooth normals
                res = fit_mesh_light(mesh, photo.numpy(), fr.mask.numpy(), cam.K.numpy(),
                                     cam.R.numpy(), cam.t.numpy(), smooth=True).light
            dt = time.perf_counter() - t0
            c = float(np.clip(np.dot(res.direction, LIGHT.numpy()), -1, 1))
            print(f"| {name} | {method} | {np.degrees(np.arccos(c)):.3f} | "
                  f"{res.intensity:.4f} | {res.ambient:.4f} | {dt:.1f} |")


if __name__ == "__main__":
    main()
