"""Speed and memory of the CPU renderer (issue 5): forward + backward at 256x256 with a
10k-face mesh on one core, and a 3384x1230 crop of a 50k-face mesh.

    python benchmarks/bench_render.py
"""

from __future__ import annotations

import resource
import time

import torch

from lambertian.render import Camera, look_at_pose, render, soft_silhouette
from lambertian.synth.meshes import sphere


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    torch.set_num_threads(1)
    import numpy as np
    import trimesh

    from lambertian.render.mesh import Mesh

    mesh = sphere(subdivisions=5)  # 20480 faces (no icosphere has exactly 10k)
    R, t = look_at_pose([0.0, 0.0, 3.0], [0.0, 0.0, 0.0])
    K = torch.tensor([[200.0, 0, 127.5], [0, 200.0, 127.5], [0, 0, 1]])
    med: dict[str, float] = {}
    for label, fn in (("shaded", 0), ("shaded+silhouette", 1)):
        times = []
        for _ in range(5):
            v = mesh.vertices.clone().requires_grad_(True)
            Rg = R.clone().requires_grad_(True)
            tg = t.clone().requires_grad_(True)
            cam = Camera(K, Rg, tg, 256, 256)
            m = Mesh(v, mesh.faces)
            t0 = time.perf_counter()
            img, fr = render(m, cam, [[0.3, 0.5, 0.8]], 0.7, 0.2, smooth=True)
            loss = img.square().mean()
            if fn:  # the silhouette reuses the z-buffer pass of the shaded render
                loss = loss + soft_silhouette(m, cam, face=fr.face).mean()
            loss.backward()
            times.append(time.perf_counter() - t0)
        med[label] = sorted(times)[2]
        print(f"256x256, {mesh.num_faces} faces, {label}: forward+backward median "
              f"{sorted(times)[2]:.3f} s (min {min(times):.3f}), peak RSS {_peak_mb():.0f} MB")
    print(f"silhouette / shaded time ratio: {med['shaded+silhouette'] / med['shaded']:.2f}")
    tm = trimesh.creation.icosphere(subdivisions=5)  # 20480 faces, three copies: 61440
    parts = [tm.copy().apply_translation([x, 0.0, 0.0]) for x in (-2.2, 0.0, 2.2)]
    cat = trimesh.util.concatenate(parts)
    big = Mesh.create(np.asarray(cat.vertices), np.asarray(cat.faces))
    R, t = look_at_pose([0.0, 0.5, 6.0], [0.0, 0.0, 0.0])
    K = torch.tensor([[2000.0, 0, 1692.0], [0, 2000.0, 1355.0], [0, 0, 1]])
    cam = Camera(K, R, t, 3384, 2710).crop(0, 630, 3384, 1230)  # a band of the full image
    t0 = time.perf_counter()
    img, fr = render(big, cam, [[0.3, 0.5, 0.8]], 0.7, 0.2)
    sil = soft_silhouette(big, cam, face=fr.face)
    print(f"3384x1230 crop, {big.num_faces} faces: forward shaded + silhouette "
          f"{time.perf_counter() - t0:.2f} s, {int(fr.mask.sum())} covered pixels, "
          f"silhouette sum {float(sil.sum()):.0f}, peak RSS {_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
