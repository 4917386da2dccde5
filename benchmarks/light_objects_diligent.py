"""The general-object light model on DiLiGenT single images (no geometry given).

    python benchmarks/light_objects_diligent.py [--weights FILE]

For each of diligent/{ball,bear,reading}, every one of the 96 images is given alone (with
the object's mask, as ``lambertian light IMAGE --model objects --mask mask.png`` would)
and the direction error against light_directions.txt is averaged.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", help="weights file (default: the shipped objects model)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.core.metrics import angular_error_deg
    from lambertian.io import data_root, read_diligent
    from lambertian.learn.train_light import load_model, predict, prepare_for_model, shipped_weights

    model, size = load_model(args.weights or shipped_weights("objects"))
    means = []
    for obj in ("ball", "bear", "reading"):
        cap = read_diligent(data_root() / "diligent" / obj)
        x = torch.cat([prepare_for_model(cap.images[k], size, cap.mask, model.norm)[0]
                       for k in range(cap.num_images)])
        err = angular_error_deg(predict(model, x).direction.numpy(), cap.lights)
        means.append(float(err.mean()))
        print(f"{obj}: mean {err.mean():.2f} median {np.median(err):.2f} deg "
              f"({cap.num_images} images)", flush=True)
    print(f"mean over the three objects: {np.mean(means):.2f} deg")


if __name__ == "__main__":
    main()
