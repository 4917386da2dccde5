"""Bilateral normal integration: depth from normals that keeps depth discontinuities.

Reference: X. Cao, H. Santo, B. Shi, F. Okura, Y. Matsushita, "Bilateral Normal
Integration", ECCV 2022. Each pixel's forward and backward difference equations (see
:mod:`.poisson`) get complementary weights ``w`` and ``1 - w``; ``w`` is a sigmoid of how
much smaller the depth jump is on that side, so the surface may break where the two
sides disagree (an occlusion) instead of being smoothed across it. Iteratively
reweighted least squares, each step solved by conjugate gradients warm-started from the
last, with a Jacobi preconditioner, to the authors' tolerances (their CPU implementation,
github.com/xucao-42/bilateral_normal_integration). The normal equations are kept as a
5-point stencil (:mod:`._stencil`), rebuilt for new weights without sparse products, and
the conjugate gradients run as one compiled loop when Numba is installed.

The first, smooth step is solved by multigrid-preconditioned conjugate gradients (pyamg,
the ``fast`` extra; sparse LU without it), to 1e-4.

Measured and rejected (``benchmarks/bench_integrate_peer.py``, docs/results.md): reusing
a factorisation (SuperLU of an earlier step as preconditioner) or a smoothed-aggregation
multigrid hierarchy (pyamg) across steps. Both reach the inner tolerance in a few
iterations, but solve the smooth error components the Jacobi iteration leaves, and the
reweighting then converges elsewhere: 0.21-0.22 mm on bear instead of 0.169.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse.linalg import splu

from lambertian.integrate._stencil import (
    StencilMatrix,
    assemble,
    compiled_pcg,
    differences,
    jacobi_pcg,
    make_stencil,
)
from lambertian.integrate._stencil import energy as _energy
from lambertian.integrate.checks import mask_components
from lambertian.integrate.geometry import gradient_coefficients
from lambertian.integrate.poisson import DifferenceSystem, finish_depth, prepare
from lambertian.integrate.result import DepthResult


def _sigmoid(x: np.ndarray, k: float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * k * x))  # = 1 / (1 + exp(-k x)) without overflow


def _smooth_start(A, rhs: np.ndarray, start: str) -> tuple[np.ndarray, str]:
    """Solve the first (smooth, weights 1/2) system ``A z = rhs``; A is SPD.

    Measured per first solve, one thread (bear, reading, the generated spheres
    orthographic/perspective at 200 x 240), best of 7: SuperLU 0.269/0.183/0.313/0.164
    s; Ruge-Stuben AMG + CG 0.216/0.139/0.176/0.086 s; smoothed-aggregation AMG + CG
    0.240/0.166/0.225/0.124 s; Jacobi CG from zero to 1e-4 0.244/0.134/0.259/0.170 s.
    """
    if start in ("auto", "amg"):
        try:
            import pyamg
        except ImportError as err:
            if start == "amg":
                raise ImportError("start='amg' needs pyamg (pip install 'lambertian[fast]')"
                                  ) from err
        else:
            ml = pyamg.ruge_stuben_solver(A.tocsr())
            return ml.solve(rhs, tol=1e-4, accel="cg", maxiter=500), "amg"
    # SuperLU in symmetric mode, no pivoting (the matrix is symmetric positive definite).
    z = splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
             options={"SymmetricMode": True}).solve(rhs)
    return z, "lu"


def bilateral(normals: np.ndarray, mask: np.ndarray | None = None, K: np.ndarray | None = None,
              *, k: float = 2.0, max_iter: int = 150, tol: float = 1e-4,
              cg_tol: float = 1e-3, cg_max_iter: int = 5000, median_depth: float = 1.0,
              backend: str = "auto", start: str = "auto", source: str = "normals",
              mask_source: str = "mask") -> DepthResult:
    """Discontinuity-preserving depth from normals (Cao et al., ECCV 2022).

    Parameters
    ----------
    normals : (H, W, 3) unit normals, project frame, zeros outside the mask.
    mask : (H, W) bool, or None for every pixel with a non-zero normal.
    K : (3, 3) intrinsics (perspective, log-depth) or None (orthographic).
    k : stiffness of the sigmoid weights; small k approaches :func:`.poisson.poisson`,
        large k breaks the surface more readily (the paper's default 2).
    max_iter, tol : reweighting stops after ``max_iter`` steps or when the weighted energy
        changes by less than ``tol`` relative to the last step (the authors' 150, 1e-4).
    cg_tol, cg_max_iter : inner conjugate-gradient settings (relative residual; the
        authors' 1e-3, 5000). The inexact inner solve is part of the method: solving each
        step exactly changes the result (bear: 0.221 mm instead of 0.169).
    median_depth : perspective only: the depth given to each component's median pixel.
    backend : inner solver: "numba" (compiled stencil kernel, the ``fast`` extra), "numpy"
        (the same iteration over a SciPy CSR matrix) or "auto" (numba when installed).
    start : solver of the first, smooth step: "amg" (conjugate gradients preconditioned
        by a Ruge-Stuben multigrid hierarchy, pyamg, the ``fast`` extra, to relative
        residual 1e-4), "lu" (SuperLU, exact) or "auto" (amg when pyamg is installed).
        Same result; amg makes that solve 1.2-1.9x faster (a few % of the whole;
        docs/results.md).
    source, mask_source : names used in error messages.

    Returns
    -------
    DepthResult with (H, W) float32 depth along the optical axis, NaN outside the mask;
    ``info["iterations"]``, ``info["cg_iterations"]``, ``info["energy"]`` and
    ``info["backend"]``, ``info["start"]`` tell how the reweighting went.

    Examples
    --------
    >>> import numpy as np
    >>> n = np.zeros((8, 9, 3)); n[..., 2] = 1.0  # a flat plane facing the camera
    >>> res = bilateral(n, backend="numpy")
    >>> float(np.nanmax(np.abs(res.depth))) < 1e-9
    True
    """
    if backend not in ("auto", "numba", "numpy"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'numpy', not {backend!r}")
    if start not in ("auto", "amg", "lu"):
        raise ValueError(f"start must be 'auto', 'amg' or 'lu', not {start!r}")
    t0 = time.perf_counter()
    n, m, K, notes = prepare(normals, mask, K, source, mask_source)
    cu, cv, a, b = gradient_coefficients(n, m, K)
    st = make_stencil(m, cu, cv, -a, -b)
    labels, count = mask_components(m)
    P = int(m.sum())
    _, first = np.unique(labels[m], return_index=True)
    mat = StencilMatrix(st)
    used = "numpy" if backend == "numpy" or compiled_pcg() is None else "numba"

    def normal_equations(wu: np.ndarray, wv: np.ndarray, z: np.ndarray) -> np.ndarray:
        diag, right, down, rhs = assemble(st, wu, wv)
        # Pin the first pixel of every component (the gauge): its own value stays put.
        pin = max(float(diag.mean()), 1e-12)
        diag[first] += pin
        rhs[first] += pin * z[first]
        mat.set(diag, right, down)
        return rhs

    # The smooth (Poisson) solution is the first iterate; solving it well (to 1e-4, not
    # the steps' 1e-3, which costs 6% on bear) saves the many CG steps a start from zero
    # would need and keeps the result of an exact start.
    wu = wv = np.full(P, 0.5)
    z = np.zeros(P)
    rhs = normal_equations(wu, wv, z)
    z, start_used = _smooth_start(mat.to_csr(), rhs, start)
    energy = _energy(st, wu, wv, z)
    iterations = cg_total = 0
    while iterations < max_iter:
        iterations += 1
        fu, bu, fv, bv = differences(st, z)
        wu = _sigmoid(bu ** 2 - fu ** 2, k)
        wv = _sigmoid(bv ** 2 - fv ** 2, k)
        rhs = normal_equations(wu, wv, z)
        z, cg_steps = jacobi_pcg(mat, rhs, z, cg_tol, cg_max_iter, used)
        cg_total += cg_steps
        old, energy = energy, _energy(st, wu, wv, z)
        if abs(energy - old) <= tol * max(old, 1e-300):
            break
    info = {"method": "bilateral", "projection": "orthographic" if K is None else "perspective",
            "k": k, "iterations": iterations, "cg_iterations": cg_total, "energy": energy,
            "backend": used, "start": start_used, "notes": notes}
    system = DifferenceSystem([], [], m, labels, count)
    res = finish_depth(z, system, K, median_depth, info)
    res.info["seconds"] = time.perf_counter() - t0
    return res
