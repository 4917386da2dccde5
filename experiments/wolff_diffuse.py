"""Evidence for Wolff's diffuse under an interface, and a refit of robust with it.

A dielectric's or a clear-coated paint's diffuse light entered through its surface, so it
carries the Fresnel transmittance of the incoming light, ``1 - F(n . l)`` (Wolff, JOSA A
1994): darker than Lambert's cosine toward grazing light. Fitted by Lambert's model, the
far-side (grazing) observations look too dark and the normal comes out too tilted.

1. Tilt bias of ``robust``, by true tilt: on DiLiGenT ball / bear / reading, and on a
   pure Wolff diffuse (index 1.5) rendered on the same object's true normals and lights.
2. ``robust``, then its normal refitted by Wolff's model on robust's inlier observations
   (a fixed point: the lights scaled by the transmittance at the current normal, five
   rounds, index 1.5), with the relative residual of each model on those observations:
   on DiLiGenT ball / bear / reading, UW psm gray and the Mitsuba captures of
   ``benchmarks/bench_ps_mitsuba.py`` (its cache; metals left out).

    python experiments/wolff_diffuse.py [--cache .cache/mitsuba_ps]

Measured (2026-12-05): docs/learned-ps.md, "Diffuse under an interface".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.io.data_root import data_root
from lambertian.ps import robust
from lambertian.ps.inputs import to_grey
from lambertian.ps.least_squares import albedo_from_normals
from lambertian.synth.mitsuba_ps_capture import expose
from lambertian.synth.reflectance import interface_transmission

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ps_net_width import real_sets  # noqa: E402

F0 = 0.04  # index 1.5
BINS = ((0, 20), (20, 40), (40, 60), (60, 90))


def _tilt_bias(normals: np.ndarray, truth: np.ndarray) -> list[str]:
    tg = np.degrees(np.arccos(np.clip(truth[:, 2], -1, 1)))
    tn = np.degrees(np.arccos(np.clip(normals[:, 2], -1, 1)))
    return [f"{np.mean((tn - tg)[(tg >= lo) & (tg < hi)]):+.2f}" for lo, hi in BINS]


def _shading(n: torch.Tensor, L: torch.Tensor, wolff: bool) -> torch.Tensor:
    """(P, K) shading max(0, n . l), times the transmittance with ``wolff``."""
    s = (n @ L.T).clamp_min(0.0)
    if wolff:
        s = s * interface_transmission(n.unsqueeze(1), L.unsqueeze(0), F0)
    return s


def wolff_refit(I: np.ndarray, L: np.ndarray, n: np.ndarray, W: np.ndarray,
                rounds: int = 5) -> np.ndarray:
    """(P, 3) normals refitted by Wolff's model on the observations W (P, K) of I (P, K)."""
    It, Lt, Wt = torch.from_numpy(I), torch.from_numpy(L), torch.from_numpy(W).double()
    nt = torch.from_numpy(n).double()
    for _ in range(rounds):
        t = interface_transmission(nt.unsqueeze(1), Lt.unsqueeze(0), F0)  # (P, K)
        Le = t.unsqueeze(-1) * Lt  # the lights as the transmitted light sees them
        A = torch.einsum("pk,pki,pkj->pij", Wt, Le, Le) + 1e-9 * torch.eye(3).double()
        b = torch.einsum("pk,pk,pki->pi", Wt, It, Le)
        nt = torch.nn.functional.normalize(torch.linalg.solve(A, b.unsqueeze(-1))[..., 0], dim=1)
    return nt.numpy()


def relative_residual(I: np.ndarray, L: np.ndarray, n: np.ndarray, W: np.ndarray,
                      wolff: bool) -> float:
    """Mean over pixels of the best-albedo residual over W, relative to the observations."""
    It, Wt = torch.from_numpy(I), torch.from_numpy(W).double()
    s = _shading(torch.from_numpy(n).double(), torch.from_numpy(L), wolff)
    rho = albedo_from_normals(It.unsqueeze(-1), s, Wt)  # (P, 1)
    r = (Wt * (It - rho * s) ** 2).sum(1) / (Wt * It * It).sum(1).clamp_min(1e-12)
    return float(r.mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=".cache/mitsuba_ps")
    args = ap.parse_args()
    torch.set_num_threads(1)
    root = data_root()
    if root is None:
        raise SystemExit("needs ../shared/data")
    print("## Tilt bias of robust (degrees; estimated minus true tilt), by true tilt\n")
    print("| data | " + " | ".join(f"{lo}-{hi}" for lo, hi in BINS) + " |")
    print("|---|" + "---|" * len(BINS))
    sets = {rel: (img, L, m, gt) for rel, img, L, m, gt in real_sets(root)}
    for rel in ("diligent/ball", "diligent/bear", "diligent/reading"):
        img, L, m, gt = sets[rel]
        print(f"| {rel} | " + " | ".join(_tilt_bias(robust(img, L, m).normals[m], gt[m]))
              + " |")
        s = _shading(torch.from_numpy(gt[m]).double(), torch.from_numpy(L), True).numpy()
        pure = np.zeros((len(L), *m.shape), np.float32)
        pure[:, m] = s.T
        print(f"| pure Wolff diffuse on {rel}'s normals | " + " | ".join(
            _tilt_bias(robust(pure, L, m).normals[m], gt[m])) + " |", flush=True)
    for f in sorted(Path(args.cache).glob("*.npz")):
        if not any(x in f.name for x in ("aluminium", "gold")):
            d = dict(np.load(f))
            sets[f.stem] = (expose(d["images"], d["mask"]), d["lights"], d["mask"],
                            d["normals"])
    print("\n## robust, and robust refitted by Wolff's model on its inliers\n")
    print("| data | robust deg | Wolff refit deg | residual: Lambert | residual: Wolff |")
    print("|---|---|---|---|---|")
    for name, (img, L, m, gt) in sets.items():
        res = robust(img, L, m)
        if res.inliers is None:  # broad specular: robust answered least squares
            continue
        k = img.shape[0]
        grey = to_grey(img).reshape(k, -1)[:, np.flatnonzero(m.ravel())].T.astype(np.float64)
        n0, W = res.normals[m].astype(np.float64), res.inliers[m]
        L64 = np.asarray(L, np.float64)
        nw = wolff_refit(grey, L64, n0, W)
        print(f"| {name} | {angular_error_deg(n0, gt[m]).mean():.2f} | "
              f"{angular_error_deg(nw, gt[m]).mean():.2f} | "
              f"{relative_residual(grey, L64, n0, W, False):.5f} | "
              f"{relative_residual(grey, L64, nw, W, True):.5f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
