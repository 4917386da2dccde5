"""A wider learned photometric-stereo network, and the mean of its normal with robust's.

Trains the shipped recipe's first two stages (``lambertian.learn.ps_net_recipe``; the
whole recipe when this was measured, before its third stage) at another size, then
compares weights files on the selection data: generated pixels (every family with blends,
30% of them in grooves, metals; the 96 lights of DiLiGenT ball, seed 7), UW psm gray and
DiLiGenT ball / bear / reading (whole masks, the solvers as ``lambertian ps`` runs them).
The columns "robust + net" are the normalised sum of the two solvers' unit normals: two
estimators whose failures differ (trimming where highlights and shadows are the majority;
the network where real data leaves its training distribution).

    python experiments/ps_net_width.py --train wide.pt --width 48 --hidden 144 --threads 2
    python experiments/ps_net_width.py --weights shipped wide.pt

The run in docs/learned-ps.md took 4573 s on 2 threads (width 48, hidden 144).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io import read_capture
from lambertian.io.data_root import data_root
from lambertian.ps import get_solver
from lambertian.synth.pixel_observations import observation_batch

REAL = ("diligent/ball", "diligent/bear", "diligent/reading", "psm/gray")
GENERATED = (("every family", None, 0.0), ("30% in grooves", None, 0.3),
             ("metal", "metal", 0.0))


def _unit(n: np.ndarray) -> np.ndarray:
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)


def selection_root():
    """The real data's folder (:func:`lambertian.io.data_root.data_root`); exits with
    status 1, saying so, when it cannot be found."""
    root = data_root()
    if root is None:
        print("../shared/data not found")
        raise SystemExit(1)
    return root


def real_sets(root):
    """(name, images, lights, mask, true normals) of the real selection sets (:data:`REAL`),
    read one at a time."""
    for rel in REAL:
        cap = read_capture(root / rel)
        yield rel, cap.normalized_images(), cap.lights, cap.mask, cap.normals


def _sets(root):
    """(name, images, lights, mask, true normals) of every selection set."""
    L = np.loadtxt(root / "diligent" / "ball" / "light_directions.txt")
    L /= np.linalg.norm(L, axis=1, keepdims=True)
    for name, fam, grooves in GENERATED:
        b = observation_batch(4000, len(L), torch.Generator().manual_seed(7),
                              lights=torch.from_numpy(L).float(), family=fam,
                              grooves=grooves)
        n = b.normals.numpy()
        yield (f"generated: {name}", b.obs.numpy().T[:, None, :], L,
               np.ones((1, len(n)), bool), n[None])
    yield from real_sets(root)


def net_table(sets, cols: dict) -> None:
    """Print one Markdown row per set of ``sets`` (name, images, lights, mask, true
    normals): the learned solver's mean angular error with each weights file of ``cols``
    (column name -> file, None for the shipped one)."""
    print("| data | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, img, L, m, gt in sets:
        errs = [float(np.mean(angular_error_deg(
            get_solver("net")(img, L, m, weights=w).normals[m], gt[m]))) for w in cols.values()]
        print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in errs) + " |", flush=True)


def compare(weights: list[str]) -> None:
    """Print the table: robust, each network, and robust + each network."""
    names = list(weights)
    print("| data | robust | " + " | ".join(names) + " | "
          + " | ".join(f"robust + {n}" for n in names) + " |")
    print("|---|" + "---|" * (1 + 2 * len(names)))
    for name, img, L, m, gt in _sets(data_root()):
        rob = get_solver("robust")(img, L, m).normals[m]
        nets = [get_solver("net")(img, L, m, weights=None if w == "shipped" else w
                                  ).normals[m] for w in weights]
        errs = [rob] + nets + [_unit(rob) + _unit(n) for n in nets]
        row = [float(np.nanmean(angular_error_deg(_unit(e), gt[m]))) for e in errs]
        print(f"| {name} | " + " | ".join(f"{e:.2f}" for e in row) + " |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", help="train the recipe at --width / --hidden into this file")
    ap.add_argument("--width", type=int, default=48)
    ap.add_argument("--hidden", type=int, default=144)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", nargs="+", default=["shipped"],
                    help="weights files to compare ('shipped': the package's)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.train:
        from lambertian.learn.ps_net_recipe import LSQ_STAGE, RECIPE
        from lambertian.learn.ps_net_training import train_shipped_ps_net
        from lambertian.ps.net import save_ps_net

        net, info = train_shipped_ps_net(RECIPE["steps"], LSQ_STAGE["steps"],
                                         RECIPE["batch"], RECIPE["seed"],
                                         overrides={"width": args.width, "hidden": args.hidden},
                                         interface_steps=0)
        save_ps_net(net, args.train, {**info, "threads": args.threads})
        return 0
    compare(args.weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
