"""Measured and not adopted: refining the uncalibrated estimator's lights by alternation.

Each round solves the normals with a photometric-stereo solver under the current lights,
then refits every image's scaled light ``e_k l_k`` by least squares on those normals and
albedos (its lit pixels, trimmed to those within 20% of the prediction), optionally
projected onto the factorisation's family of light sets (``--project``: the lights of
the first estimate times one 3x3 matrix, the only ambiguity of uncalibrated Lambertian
photometric stereo). Prints, per round, the mean light direction error, the mean absolute
error of the relative intensities and, where the data has true normals, the normal error.

    python experiments/uncalibrated_alternation.py [--solver net] [--rounds 8] [--project]
        [--sets diligent/ball,diligent/bear,diligent/reading]

Result (docs/results.md, "uncalibrated"): the network's cues (highlights, shadows) break
the bas-relief ambiguity only weakly, and the alternation drifts: bear's lights improve
for four to six rounds and then get worse, ball's get worse from the second round while
its normals improve (the lights absorb the network's own bias), DiLiGenT pot2 and buddha
(test views, true lights only) get worse from the first round.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg, normal_error_stats
from lambertian.io import read_capture
from lambertian.io.data_root import data_root
from lambertian.lights.uncalibrated import uncalibrated_lights
from lambertian.ps import get_solver
from lambertian.ps.inputs import to_grey


def refit_lights(grey: np.ndarray, normals: np.ndarray, albedo: np.ndarray,
                 start: np.ndarray) -> np.ndarray:
    """(K, 3) scaled lights fitted to grey (K, P) observations of pixels with normals
    (P, 3) and albedo (P,), from ``start`` (K, 3): lit pixels, then those within 20%."""
    g = normals * albedo[:, None]
    out = np.zeros((len(grey), 3))
    for k, obs in enumerate(grey):
        s = start[k]
        for it in range(4):
            pred = g @ s
            lit = (pred > 0.02 * albedo) & (obs > 1e-4)
            keep = lit if it == 0 else lit & (np.abs(obs - pred) < 0.2 * np.maximum(pred, 1e-6))
            s = np.linalg.lstsq(g[keep], obs[keep], rcond=None)[0]
        out[k] = s
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solver", default="net")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--project", action="store_true")
    ap.add_argument("--sets", default="diligent/ball,diligent/bear,diligent/reading")
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = data_root()
    solve = get_solver(args.solver)
    for rel in args.sets.split(","):
        cap = read_capture(root / rel)
        est = uncalibrated_lights(cap.images, cap.mask, source=rel)
        d, e = np.asarray(est.directions, float), np.asarray(est.intensities, float)
        first = d * e[:, None]
        true_e = np.asarray(cap.intensities, float).reshape(len(d), -1).mean(1)
        grey = to_grey(cap.images).reshape(len(d), -1)[:, cap.mask.ravel()]
        cells = []
        for r in range(args.rounds + 1):
            light = angular_error_deg(d, cap.lights).mean()
            inten = np.abs(e / e.mean() - true_e / true_e.mean()).mean()
            res = solve(cap.images / e.astype(np.float32)[:, None, None, None], d, cap.mask)
            normal = (normal_error_stats(res.normals, cap.normals, cap.mask)["mean"]
                      if cap.normals is not None else float("nan"))
            cells.append(f"{r}: {light:.2f} / {inten:.3f} / {normal:.2f}")
            if r == args.rounds:
                break
            albedo = to_grey(res.albedo[None])[0][cap.mask]
            s = refit_lights(grey, res.normals[cap.mask], albedo, d * e[:, None])
            if args.project:
                s = first @ np.linalg.lstsq(first, s, rcond=None)[0]
            e = np.linalg.norm(s, axis=1)
            d = s / e[:, None]
        print(f"{rel} ({args.solver}; round: light deg / intensity / normal deg): "
              + " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
