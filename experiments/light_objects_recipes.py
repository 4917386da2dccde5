"""Input normalisation and training-data variants of the general-object light model,
scored on DiLiGenT single images (ball, bear, reading; never used in training).

    python experiments/light_objects_recipes.py --norm Q CAP [--albedo-contrast C] [--out F]

Trains :func:`lambertian.learn.train_light.train_objects` with inputs divided by their
Q-quantile over the mask and capped at CAP (CAP 0: no cap), optionally on the
high-contrast albedo corpus, then runs ``benchmarks/light_objects_diligent.py``'s
evaluation on it. The shipped recipe is :func:`~lambertian.learn.train_light.objects_config`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--norm", nargs=2, type=float, default=[0.99, 0.0], metavar=("Q", "CAP"))
    ap.add_argument("--albedo-contrast", type=float)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--out", help="keep the weights here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from lambertian.learn.train_light import LightTrainConfig, save_model, train_objects

    q, cap = args.norm
    cfg = LightTrainConfig(epochs=args.epochs, norm_percentile=q,
                           norm_clip=cap if cap > 0 else None,
                           albedo_contrast=args.albedo_contrast)
    model, info = train_objects(cfg, log=None)
    out = Path(args.out or Path(tempfile.mkdtemp()) / "objects.pt")
    save_model(out, model, "cnn", cfg.size, {"seconds": info["seconds"]},
               norm=(q, cfg.norm_clip))
    print(f"norm {q} cap {cap} albedo_contrast {args.albedo_contrast}: trained in "
          f"{info['seconds']:.0f} s", flush=True)
    subprocess.run([sys.executable, str(Path(__file__).with_name("light_objects_diligent.py")),
                    "--weights", str(out)], check=True)


if __name__ == "__main__":
    main()
