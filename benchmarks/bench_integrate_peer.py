"""Bilateral normal integration side by side with the authors' CPU algorithm (a clean-room peer).

    pip install -c constraints.txt -e '.[fast]'     # numba (our kernel, the peer's), pyamg
    python benchmarks/bench_integrate_peer.py [--repeat 3] [--options] [--no-real] [--shape H W]

Surfaces: DiLiGenT bear and reading with their ground-truth normals (perspective, K.txt,
depth_gt.npy), and three generated surfaces with depth discontinuities
(:func:`lambertian.synth.jumps.jump_surface`: spheres sunk into a steep plane, whose
silhouettes are occluding boundaries with grazing normals; 140 x 168 = 23,520 pixels,
``--shape``): seed 0 orthographic and perspective, seed 2 perspective. On these a
discontinuity-preserving integrator must beat the smooth (Poisson) answer, whose error is
shown beside. Error: mean absolute depth error after the best scale and offset
(:func:`lambertian.integrate.aligned_depth_error`; mm for DiLiGenT, pixel units
(orthographic) or scene units (perspective, about 10 away) for the generated ones).

Peer: Cao et al.'s current CPU implementation (github.com/xucao-42/bilateral_normal_integration,
``bilateral_normal_integration_cpu.py``: SciPy matrices, Numba kernels), re-written here from
the published algorithm and the authors' settings, not copied: weights start at 1/2 and
depth at 0; every step rebuilds ``A^T W A`` in place (a fixed map from the weights to the
matrix values), solves it by Jacobi-preconditioned conjugate gradients compiled with Numba
(warm start, relative residual 1e-3, at most 5000 iterations), updates the weights with the
sigmoid (k = 2) and stops when the energy changes by less than 1e-4 relative, or after 150
steps. Ours: :func:`lambertian.integrate.bilateral` (same settings; the smooth solution by
Ruge-Stuben multigrid-preconditioned CG (pyamg) as the first step, the equations as a
stencil, the conjugate gradients compiled).

Timing: one thread (set before NumPy loads), Numba's compilation excluded for both (each
kernel runs once on a small input first), the best of ``--repeat`` runs of each, peer and
ours alternating, ratio = ours / peer from the same run; also ours with the sparse-LU
first step (the previous default, ``start="lu"``). ``--options`` also times the
solver options that were measured and rejected (each step solved exactly by sparse LU; a
sparse LU of an earlier step, or a pyamg smoothed-aggregation hierarchy, reused as the
conjugate gradients' preconditioner): they are fast but converge to another surface.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, before NumPy (and Numba) load

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from lambertian.integrate import aligned_depth_error, bilateral, poisson  # noqa: E402
from lambertian.io.markdown import markdown_table  # noqa: E402

# ------------------------------------------------------------------ the peer (clean room)

_PEER_KERNEL = None


def _peer_kernel():
    """Jacobi PCG over a CSR matrix, compiled by Numba: the peer's inner solver."""
    global _PEER_KERNEL
    if _PEER_KERNEL is None:
        import numba

        @numba.njit(fastmath=True, cache=False)
        def pcg(data, indices, indptr, b, dinv, x0, maxiter, rtol):  # pragma: no cover
            n = b.size
            x = x0.copy()
            r = np.empty(n)
            z = np.empty(n)
            p = np.empty(n)
            q = np.empty(n)
            bb = 0.0
            rz = 0.0
            for i in range(n):
                s = 0.0
                for j in range(indptr[i], indptr[i + 1]):
                    s += data[j] * x[indices[j]]
                r[i] = b[i] - s
                bb += b[i] * b[i]
                z[i] = dinv[i] * r[i]
                p[i] = z[i]
                rz += r[i] * z[i]
            stop = rtol * rtol * bb
            its = 0
            for _ in range(maxiter):
                its += 1
                pq = 0.0
                for i in range(n):
                    s = 0.0
                    for j in range(indptr[i], indptr[i + 1]):
                        s += data[j] * p[indices[j]]
                    q[i] = s
                    pq += p[i] * s
                if pq == 0.0:
                    break
                alpha = rz / pq
                rr = 0.0
                for i in range(n):
                    x[i] += alpha * p[i]
                    r[i] -= alpha * q[i]
                    rr += r[i] * r[i]
                if rr <= stop:
                    break
                rz_new = 0.0
                for i in range(n):
                    z[i] = dinv[i] * r[i]
                    rz_new += r[i] * z[i]
                beta = rz_new / rz
                rz = rz_new
                for i in range(n):
                    p[i] = z[i] + beta * p[i]
            return x, its

        _PEER_KERNEL = pcg
    return _PEER_KERNEL


def _peer_equations(normals, mask, K):
    """The authors' four stacked one-sided difference operators and right-hand sides
    (rows without a neighbour are empty but keep their right-hand side, as theirs do)."""
    m = np.asarray(mask, bool)
    P = int(m.sum())
    idx = np.full(m.shape, -1, np.int64)
    idx[m] = np.arange(P)
    a, b, c = (normals[m] * np.array([1.0, -1.0, -1.0])).T  # OpenCV frame
    if K is None:
        cu = cv = c
    else:
        rows, cols = np.nonzero(m)
        u, v = cols - K[0, 2], rows - K[1, 2]
        cu = a * u + b * v * K[0, 0] / K[1, 1] + c * K[0, 0]
        cv = a * u * K[1, 1] / K[0, 0] + b * v + c * K[1, 1]
    h, w = m.shape
    pad = np.full((h + 2, w + 2), -1, np.int64)
    pad[1:-1, 1:-1] = idx
    ops, rhs = [], []
    for (dr, dc), coef, g in (((0, 1), cu, a), ((0, -1), cu, a), ((1, 0), cv, b),
                              ((-1, 0), cv, b)):
        nb = pad[1 + dr:h + 1 + dr, 1 + dc:w + 1 + dc][m]
        ok = nb >= 0
        me = np.flatnonzero(ok)
        sign = 1.0 if dr + dc > 0 else -1.0
        vals = np.concatenate([sign * coef[ok], -sign * coef[ok]])
        ops.append(sp.csr_matrix((vals, (np.concatenate([me, me]),
                                         np.concatenate([nb[ok], me]))), shape=(P, P)))
        rhs.append(-g)
    return ops, rhs, P


def peer_bilateral(normals, mask, K=None, *, k=2.0, max_iter=150, tol=1e-4, cg_max_iter=5000,
                   cg_tol=1e-3):
    """Clean-room BiNI with the authors' settings. Returns (H, W) depth (NaN outside the
    mask; exp of the log-depth with K), the steps and the conjugate-gradient iterations."""
    pcg = _peer_kernel()
    ops, rhs, P = _peer_equations(normals, mask, K)
    A = sp.vstack(ops).tocsr()
    b = np.concatenate(rhs)
    # the fixed map from the weights to the values of A^T W A: every row of A is
    # alpha_i z_i + alpha_j z_j (or empty) and adds w alpha alpha' at (i,i), (j,j), (i,j), (j,i)
    coo = A.tocoo()
    order = np.lexsort((coo.col, coo.row))
    row, col, val = coo.row[order], coo.col[order], coo.data[order]
    eq, pi, pj, ai, aj = row[::2], col[::2], col[1::2], val[::2], val[1::2]
    M = (A.T @ A).tocsr()
    M.sort_indices()
    mrow = np.repeat(np.arange(P), np.diff(M.indptr))
    key = mrow * P + M.indices
    pos = np.searchsorted(key, np.concatenate([pi * P + pi, pj * P + pj, pi * P + pj,
                                                pj * P + pi]))
    to_values = sp.csr_matrix((np.concatenate([ai * ai, aj * aj, ai * aj, ai * aj]),
                               (pos, np.tile(eq, 4))), shape=(M.nnz, A.shape[0]))
    diag = np.flatnonzero(mrow == M.indices)
    to_rhs = A.T.tocsr().multiply(b[None, :]).tocsr()
    w = np.full(A.shape[0], 0.5)
    z = np.zeros(P)
    energy = 0.5 * float(b @ b)
    steps = cg_total = 0
    while steps < max_iter:
        steps += 1
        M.data[:] = to_values @ w
        dinv = 1.0 / np.clip(M.data[diag], 1e-5, None)
        z, its = pcg(M.data, M.indices, M.indptr, to_rhs @ w, dinv, z, cg_max_iter, cg_tol)
        cg_total += its
        fu, bu, fv, bv = (o @ z for o in ops)
        wu = 1.0 / (1.0 + np.exp(-k * np.clip(bu ** 2 - fu ** 2, -700 / k, 700 / k)))
        wv = 1.0 / (1.0 + np.exp(-k * np.clip(bv ** 2 - fv ** 2, -700 / k, 700 / k)))
        w = np.concatenate([wu, 1 - wu, wv, 1 - wv])
        old, energy = energy, float(w @ (A @ z - b) ** 2)
        if abs(energy - old) / old < tol:
            break
    depth = np.full(np.shape(mask), np.nan)
    depth[np.asarray(mask, bool)] = np.exp(z) if K is not None else z
    return depth, steps, cg_total


# ------------------------------------------------------------------ surfaces


def generated_surfaces(shape: tuple[int, int] = (140, 168)) -> dict[str, tuple]:
    """name -> (normals, mask, K, depth): :func:`lambertian.synth.jumps.jump_surface`
    (spheres sunk into a steep plane, occluding silhouettes): seed 0 seen by an
    orthographic and by a perspective camera (focal length 2.08 W, centred), seed 2 (another
    layout) by the perspective one."""
    from lambertian.synth.jumps import jump_surface

    h, w = shape
    f = 350.0 / 168.0 * w
    K = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    out = {}
    for name, cam, seed in (("spheres, orthographic", None, 0), ("spheres, perspective", K, 0),
                            ("spheres (seed 2), perspective", K, 2)):
        s = jump_surface("spheres", shape=shape, K=cam, seed=seed)
        out[name] = (s.normals, s.mask, s.K, s.depth)
    return out


def real_surfaces() -> dict[str, tuple]:
    from lambertian.io import data_root, read_capture

    root = data_root()
    out = {}
    for name in ("bear", "reading"):
        folder = None if root is None else root / "diligent" / name
        if folder is None or not (folder / "depth_gt.npy").is_file():
            print(f"diligent/{name} with depth_gt.npy not found: skipped")
            continue
        cap = read_capture(folder)
        out[name] = (cap.normals, cap.mask, cap.K, cap.depth)
    return out


# ------------------------------------------------------------------ rejected options


def _option_runs():
    """Our reweighting loop with other inner solvers (measured, rejected)."""
    from scipy.sparse.linalg import splu

    from lambertian.integrate import _stencil as S
    from lambertian.integrate.checks import mask_components
    from lambertian.integrate.geometry import gradient_coefficients
    from lambertian.integrate.poisson import prepare

    def pcg(M, b, x0, apply, rtol, maxiter=5000):
        x = x0.copy()
        r = b - M @ x
        stop = rtol * np.sqrt(b @ b)
        z = apply(r)
        p = z.copy()
        rz = r @ z
        for it in range(maxiter):
            if np.sqrt(r @ r) <= stop:
                return x, it
            q = M @ p
            a = rz / (p @ q)
            x += a * p
            r -= a * q
            z = apply(r)
            rz, old = r @ z, rz
            p = z + (rz / old) * p
        return x, maxiter

    def run(normals, mask, K, solver):
        n, m, K, _ = prepare(normals, mask, K, "normals", "mask")
        cu, cv, a, b = gradient_coefficients(n, m, K)
        st = S.make_stencil(m, cu, cv, -a, -b)
        labels, _ = mask_components(m)
        _, first = np.unique(labels[m], return_index=True)
        mat = S.StencilMatrix(st)
        P = int(m.sum())
        state: dict = {}

        def system(wu, wv, z):
            diag, right, down, rhs = S.assemble(st, wu, wv)
            pin = max(float(diag.mean()), 1e-12)
            diag[first] += pin
            rhs[first] += pin * z[first]
            mat.set(diag, right, down)
            return mat.to_csr().copy(), rhs

        wu = wv = np.full(P, 0.5)
        z = np.zeros(P)
        M, rhs = system(wu, wv, z)
        z = splu(M.tocsc(), permc_spec="MMD_AT_PLUS_A").solve(rhs)
        energy = S.energy(st, wu, wv, z)
        for _step in range(150):
            fu, bu, fv, bv = S.differences(st, z)
            wu = 0.5 * (1 + np.tanh(bu ** 2 - fu ** 2))  # sigmoid, k = 2
            wv = 0.5 * (1 + np.tanh(bv ** 2 - fv ** 2))
            M, rhs = system(wu, wv, z)
            z = solver(M, rhs, z, state)
            old, energy = energy, S.energy(st, wu, wv, z)
            if abs(energy - old) <= 1e-4 * old:
                break
        depth = np.full(m.shape, np.nan)
        depth[m] = np.exp(z) if K is not None else z
        return depth

    def lu_each(M, rhs, z, state):
        return splu(M.tocsc(), permc_spec="MMD_AT_PLUS_A").solve(rhs)

    def lu_reused(M, rhs, z, state):  # refactor when the old factor needs > 8 iterations
        if state.get("its", 99) > 8:
            state["lu"] = splu(M.tocsc(), permc_spec="MMD_AT_PLUS_A")
            state["its"] = 0
            return state["lu"].solve(rhs)
        x, state["its"] = pcg(M, rhs, z, state["lu"].solve, 1e-3)
        return x

    def amg_reused(M, rhs, z, state):  # a new hierarchy every 4 steps
        import pyamg

        state["n"] = state.get("n", -1) + 1
        if state["n"] % 4 == 0:
            ml = pyamg.smoothed_aggregation_solver(M.tocsr(), symmetry="symmetric")
            state["pre"] = ml.aspreconditioner(cycle="V")
        return pcg(M, rhs, z, lambda v: state["pre"] @ v, 1e-3)[0]

    return {"exact LU every step": lambda *s: run(*s, lu_each),
            "LU of an earlier step as preconditioner": lambda *s: run(*s, lu_reused),
            "pyamg SA preconditioner, rebuilt every 4 steps": lambda *s: run(*s, amg_reused)}


# ------------------------------------------------------------------ the run


def timed(fn, *args, **kwargs):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--options", action="store_true",
                        help="also time the rejected inner solvers (needs pyamg)")
    parser.add_argument("--no-real", action="store_true", help="generated surfaces only")
    parser.add_argument("--shape", type=int, nargs=2, default=(140, 168), metavar=("H", "W"),
                        help="size of the generated surfaces (at 200 240 the peer's first "
                             "conjugate gradients stop at their 5000-iteration cap)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from lambertian.integrate._stencil import compiled_pcg

    if compiled_pcg() is None:
        raise SystemExit("numba is needed (pip install -c constraints.txt -e '.[fast]')")
    surfaces = {} if args.no_real else real_surfaces()
    surfaces.update(generated_surfaces(tuple(args.shape)))
    # compile both sides' kernels outside the timings
    n0, m0, K0, _ = generated_surfaces()["spheres, perspective"]
    window = (slice(90, 120), slice(40, 70))
    peer_bilateral(n0[window], m0[window], K0)
    bilateral(n0[window], m0[window], K0)
    options = _option_runs() if args.options else {}
    rows = []
    for name, (n, m, K, depth) in surfaces.items():
        t_peer = t_ours = t_np = t_lu = np.inf
        for _ in range(args.repeat):  # alternate, so a load change hits all
            t, (d_peer, steps_peer, cg_peer) = timed(peer_bilateral, n, m, K)
            t_peer = min(t_peer, t)
            t, res = timed(bilateral, n, m, K, backend="numba")
            t_ours = min(t_ours, t)
            t, res_lu = timed(bilateral, n, m, K, backend="numba", start="lu")
            t_lu = min(t_lu, t)
            t, res_np = timed(bilateral, n, m, K, backend="numpy")
            t_np = min(t_np, t)
        e_peer = aligned_depth_error(d_peer, depth)["mae"]
        e_ours = aligned_depth_error(res.depth, depth)["mae"]
        e_np = aligned_depth_error(res_np.depth, depth)["mae"]
        e_poisson = aligned_depth_error(poisson(n, m, K).depth, depth)["mae"]
        row = {"surface": name, "pixels": int(m.sum()),
               "peer MAE": f"{e_peer:.4f}", "ours MAE": f"{e_ours:.4f}",
               "MAE ours/peer": f"{e_ours / e_peer:.3f}",
               "Poisson MAE": f"{e_poisson:.4f}",
               "peer s": f"{t_peer:.3f}", "ours s": f"{t_ours:.3f}",
               "time ours/peer": f"{t_ours / t_peer:.3f}",
               "ours without numba: MAE, s": f"{e_np:.4f}, {t_np:.3f}",
               "steps peer/ours": f"{steps_peer}/{res.info['iterations']}",
               "CG its peer/ours": f"{cg_peer}/{res.info['cg_iterations']}"}
        e_lu = aligned_depth_error(res_lu.depth, depth)["mae"]
        row["ours, LU first step: MAE, s"] = f"{e_lu:.4f}, {t_lu:.3f}"
        for label, fn in options.items():
            t, d = timed(fn, n, m, K)
            e = aligned_depth_error(d, depth)["mae"]
            row[f"{label}: MAE, s"] = f"{e:.4f}, {t:.3f}"
        rows.append(row)
        print(f"{name:8s} peer {e_peer:.4f} in {t_peer:.3f} s | ours {e_ours:.4f} in "
              f"{t_ours:.3f} s (x{t_ours / t_peer:.2f}), numpy path {t_np:.3f} s", flush=True)
    total_peer = sum(float(r["peer s"]) for r in rows)
    total_ours = sum(float(r["ours s"]) for r in rows)
    total_lu = sum(float(r["ours, LU first step: MAE, s"].split(", ")[1]) for r in rows)
    print(f"\ntotal: ours {total_ours:.3f} s, peer {total_peer:.3f} s, "
          f"ratio {total_ours / total_peer:.3f} (with the LU first step {total_lu:.3f} s, "
          f"ratio {total_lu / total_peer:.3f})\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
