"""The bilateral integrator's normal equations as a 5-point stencil, and their solvers.

Every equation of :class:`.poisson.DifferenceSystem` links two 4-neighbours ``i, j``:
``alpha * (z[j] - z[i]) = g``. Its weighted square adds ``s = w alpha^2`` to ``M[i, i]``
and ``M[j, j]`` and ``-s`` to ``M[i, j]``, so ``M = A^T W A`` is a weighted graph Laplacian
on the mask's 4-neighbour edges: per pixel, one coefficient toward its right neighbour,
one toward the pixel below, and the diagonal. Rebuilding it for new weights is a few
array operations (no sparse matrix product), and its product with a vector needs no
column indices for the left and right neighbours (they are ``i - 1`` and ``i + 1`` in
row-major order).

:func:`jacobi_pcg` is the solver of every reweighting step: Jacobi-preconditioned
conjugate gradients, as in Cao et al.'s implementation. With Numba installed (the
``fast`` extra) it runs as one compiled loop over the stencil, two passes over the
vectors per iteration; without it, the same iteration in NumPy over a CSR copy of the
matrix whose pattern is built once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

try:  # optional: the compiled kernels (pip install 'lambertian[fast]')
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None


@dataclass
class Stencil:
    """Edges of the mask's 4-neighbour grid and the equations on them (fixed per mask).

    Pixels are numbered row-major over the mask (``P`` of them). ``right[i]`` is True when
    pixel ``i + 1`` is ``i``'s right neighbour; ``down[i]`` is the index of the pixel below
    (``-1`` if none), ``up[i]`` the one above.
    """

    right: np.ndarray  # (P,) bool
    down: np.ndarray  # (P,) int64, -1 where none
    up: np.ndarray  # (P,) int64, -1 where none
    cu: np.ndarray  # (P,) coefficient of the u (column) equations
    cv: np.ndarray  # (P,) coefficient of the v (row) equations
    gu: np.ndarray  # (P,) right-hand side of the u equations
    gv: np.ndarray  # (P,) right-hand side of the v equations


def make_stencil(mask: np.ndarray, cu: np.ndarray, cv: np.ndarray, gu: np.ndarray,
                 gv: np.ndarray) -> Stencil:
    """Neighbour tables of ``mask`` (H, W) bool for the (P,) equation coefficients."""
    m = np.asarray(mask, bool)
    h, w = m.shape
    index = np.full((h + 1, w + 1), -1, dtype=np.int64)  # one row/column of -1 as padding
    index[:h, :w][m] = np.arange(int(m.sum()))
    right = index[:h, 1:w + 1][m] >= 0
    down = index[1:h + 1, :w][m]
    up = np.full(down.size, -1, dtype=np.int64)
    up[down[down >= 0]] = np.flatnonzero(down >= 0)
    return Stencil(right, down, up, *(np.asarray(a, np.float64) for a in (cu, cv, gu, gv)))


def differences(st: Stencil, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """(P,) residual-free differences ``fu, bu, fv, bv``: the coefficient times the forward
    and backward differences along u and v, 0 where the neighbour is missing (the rows of
    :class:`.poisson.DifferenceSystem`'s operators, without a sparse product)."""
    du = np.zeros_like(z)
    du[:-1] = np.where(st.right[:-1], z[1:] - z[:-1], 0.0)  # z[i + 1] - z[i]
    dv = np.where(st.down >= 0, z[st.down] - z, 0.0)  # z[below] - z[i]
    fu = st.cu * du
    bu = np.zeros_like(z)
    bu[1:] = st.cu[1:] * du[:-1]  # z[i] - z[i - 1]
    fv = st.cv * dv
    has_up = st.up >= 0
    bv = np.where(has_up, st.cv * (z - z[np.where(has_up, st.up, 0)]), 0.0)
    return fu, bu, fv, bv


def has_neighbours(st: Stencil) -> tuple[np.ndarray, ...]:
    """(P,) bool: which pixels have the forward/backward u and v equations."""
    left = np.zeros_like(st.right)
    left[1:] = st.right[:-1]
    return st.right, left, st.down >= 0, st.up >= 0


def assemble(st: Stencil, wu: np.ndarray, wv: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Normal equations for weights ``wu`` (forward u; backward gets ``1 - wu``) and ``wv``.

    Returns
    -------
    diag, right, down : (P,) the diagonal, the coefficient toward ``i + 1`` and toward the
        pixel below (0 where there is none).
    rhs : (P,) ``A^T W g``.
    """
    P = wu.size
    # horizontal edge (i, i + 1): forward-u equation of i, backward-u equation of i + 1
    s_h = np.zeros(P)
    h_h = np.zeros(P)
    r = st.right[:-1]
    w1, w2 = wu[:-1], 1.0 - wu[1:]
    a1, a2 = st.cu[:-1], st.cu[1:]
    s_h[:-1] = np.where(r, w1 * a1 * a1 + w2 * a2 * a2, 0.0)
    h_h[:-1] = np.where(r, w1 * a1 * st.gu[:-1] + w2 * a2 * st.gu[1:], 0.0)
    # vertical edge (i, below): forward-v equation of i, backward-v equation of below
    d = st.down
    has = d >= 0
    dd = np.where(has, d, 0)
    w1, w2 = wv, 1.0 - wv[dd]
    a1, a2 = st.cv, st.cv[dd]
    s_v = np.where(has, w1 * a1 * a1 + w2 * a2 * a2, 0.0)
    h_v = np.where(has, w1 * a1 * st.gv + w2 * a2 * st.gv[dd], 0.0)
    diag = s_h + s_v
    diag[1:] += s_h[:-1]
    diag += np.bincount(dd, weights=s_v, minlength=P)  # s_v is 0 where there is no edge
    rhs = -h_h - h_v
    rhs[1:] += h_h[:-1]
    rhs += np.bincount(dd, weights=h_v, minlength=P)
    return diag, -s_h, -s_v, rhs


def energy(st: Stencil, wu: np.ndarray, wv: np.ndarray, z: np.ndarray) -> float:
    """Weighted sum of squared residuals of the four equation families at ``z``."""
    fu, bu, fv, bv = differences(st, z)
    hf, hb, vf, vb = has_neighbours(st)
    total = 0.0
    for d, w, g, has in ((fu, wu, st.gu, hf), (bu, 1.0 - wu, st.gu, hb),
                         (fv, wv, st.gv, vf), (bv, 1.0 - wv, st.gv, vb)):
        res = np.where(has, d - g, 0.0)
        total += float(w @ (res * res))
    return total


class StencilMatrix:
    """The stencil matrix in the two forms the solvers use; the pattern is built once.

    ``set(diag, right, down)`` replaces the values; ``csr`` is the SciPy matrix (NumPy
    path), ``kernel_args`` the arrays of the compiled product (Numba path).
    """

    def __init__(self, st: Stencil):
        self.st = st
        P = st.right.size
        self.P = P
        i_r = np.flatnonzero(st.right)
        i_d = np.flatnonzero(st.down >= 0)
        rows = np.concatenate([np.arange(P), i_r, i_r + 1, i_d, st.down[i_d]])
        cols = np.concatenate([np.arange(P), i_r + 1, i_r, st.down[i_d], i_d])
        order = np.lexsort((cols, rows))
        self._i_r, self._i_d, self._order = i_r, i_d, order
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=P))])
        self.csr = sp.csr_matrix((np.zeros(rows.size), cols[order].astype(np.int32),
                                  indptr.astype(np.int32)), shape=(P, P))
        self._has_down = st.down >= 0
        self._has_up = st.up >= 0
        # padded positions (1..P) of the neighbours below/above; 0 (a slot held at 0) if none
        self.dn_pad = np.where(self._has_down, st.down + 1, 0).astype(np.int64)
        self.up_pad = np.where(self._has_up, st.up + 1, 0).astype(np.int64)

    def set(self, diag: np.ndarray, right: np.ndarray, down: np.ndarray) -> None:
        self.diag, self.right, self.down = diag, right, down
        self.left = np.zeros_like(right)
        self.left[1:] = right[:-1]
        self.upc = np.where(self._has_up, down[np.where(self._has_up, self.st.up, 0)], 0.0)

    def to_csr(self) -> sp.csr_matrix:
        d, r, v = self.diag, self.right, self.down
        vals = np.concatenate([d, r[self._i_r], r[self._i_r], v[self._i_d], v[self._i_d]])
        self.csr.data = vals[self._order]
        return self.csr


def _pcg_numpy(A: sp.csr_matrix, b: np.ndarray, x0: np.ndarray, inv_diag: np.ndarray,
               rtol: float, maxiter: int) -> tuple[np.ndarray, int]:
    """Jacobi-preconditioned conjugate gradients (what scipy's ``cg`` does), with the dot
    products as NumPy reductions: scipy's calls BLAS ``ddot``, whose threads stall for
    tens of seconds on a loaded machine (measured: 64 s instead of 1.9 s on bear)."""
    x = x0.copy()
    r = b - A @ x
    stop = rtol * np.sqrt(np.sum(b * b))
    z = inv_diag * r
    p = z.copy()
    rz = np.sum(r * z)
    for it in range(maxiter):
        if np.sqrt(np.sum(r * r)) <= stop:
            return x, it
        Ap = A @ p
        alpha = rz / np.sum(p * Ap)
        x += alpha * p
        r -= alpha * Ap
        z = inv_diag * r
        rz, rz_old = np.sum(r * z), rz
        p = z + (rz / rz_old) * p
    return x, maxiter


def _stencil_pcg_source(diag, left, right, upc, downc, up, dn, inv_diag, b, x0, rtol,
                        maxiter):  # pragma: no cover - compiled by numba
    """Jacobi PCG on the padded stencil (vectors hold pixel i at i + 1; slots 0 and P + 1
    stay 0, so a missing neighbour reads 0 through a zero coefficient). Same iterates as
    :func:`_pcg_numpy` in exact arithmetic; ``q = M p`` is updated as ``M z + beta q`` so
    that an iteration is two passes over the vectors instead of four."""
    n = b.size
    x = np.zeros(n + 2)
    r = np.zeros(n + 2)
    z = np.zeros(n + 2)
    p = np.zeros(n + 2)
    q = np.zeros(n + 2)
    for i in range(n):
        x[i + 1] = x0[i]
    bb = 0.0
    rr = 0.0
    rz = 0.0
    for i in range(n):
        k = i + 1
        ax = (diag[i] * x[k] + right[i] * x[k + 1] + left[i] * x[k - 1]
              + downc[i] * x[dn[i]] + upc[i] * x[up[i]])
        ri = b[i] - ax
        r[k] = ri
        zi = inv_diag[i] * ri
        z[k] = zi
        p[k] = zi
        bb += b[i] * b[i]
        rr += ri * ri
        rz += ri * zi
    stop = rtol * rtol * bb
    pq = 0.0
    for i in range(n):
        k = i + 1
        qi = (diag[i] * p[k] + right[i] * p[k + 1] + left[i] * p[k - 1]
              + downc[i] * p[dn[i]] + upc[i] * p[up[i]])
        q[k] = qi
        pq += p[k] * qi
    it = 0
    while it < maxiter and rr > stop:
        it += 1
        alpha = rz / pq
        rr = 0.0
        rz_new = 0.0
        for k in range(1, n + 1):
            x[k] += alpha * p[k]
            ri = r[k] - alpha * q[k]
            r[k] = ri
            zi = inv_diag[k - 1] * ri
            z[k] = zi
            rr += ri * ri
            rz_new += ri * zi
        if rr <= stop:
            break
        beta = rz_new / rz
        rz = rz_new
        pq = 0.0
        for i in range(n):
            k = i + 1
            mz = (diag[i] * z[k] + right[i] * z[k + 1] + left[i] * z[k - 1]
                  + downc[i] * z[dn[i]] + upc[i] * z[up[i]])
            pk = z[k] + beta * p[k]
            p[k] = pk
            qk = mz + beta * q[k]
            q[k] = qk
            pq += pk * qk
    return x[1:n + 1].copy(), it


_kernel = None


def compiled_pcg():
    """The Numba-compiled stencil PCG, or None without Numba (compiled on first use and
    cached on disk next to this module where that is writable)."""
    global _kernel
    if numba is None:
        return None
    if _kernel is None:
        _kernel = numba.njit(cache=True, fastmath=True, nogil=True)(_stencil_pcg_source)
    return _kernel


def jacobi_pcg(mat: StencilMatrix, b: np.ndarray, x0: np.ndarray, rtol: float,
               maxiter: int, backend: str = "auto") -> tuple[np.ndarray, int]:
    """Solve ``M x = b`` to relative residual ``rtol`` (of ``||b||``) from ``x0``.

    backend : "numba" (the compiled stencil kernel), "numpy" (CSR), or "auto" (numba
        when installed). Returns (P,) ``x`` and the number of iterations.
    """
    inv_diag = 1.0 / np.clip(mat.diag, 1e-12, None)
    kernel = compiled_pcg() if backend in ("auto", "numba") else None
    if backend == "numba" and kernel is None:
        raise ImportError("backend='numba' needs numba (pip install 'lambertian[fast]')")
    if kernel is None:
        return _pcg_numpy(mat.to_csr(), b, x0, inv_diag, rtol, maxiter)
    try:
        return kernel(mat.diag, mat.left, mat.right, mat.upc, mat.down, mat.up_pad,
                      mat.dn_pad, inv_diag, np.ascontiguousarray(b, np.float64),
                      np.ascontiguousarray(x0, np.float64), float(rtol), int(maxiter))
    except SystemError as err:
        interrupt = _interrupt_of(err)
        if interrupt is None:
            raise
        raise interrupt from None


def _interrupt_of(err: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM, which the CLI turns into KeyboardInterrupt) hidden in
    ``err``, if any.

    A signal that arrives while the compiled kernel runs is handled when the dispatcher
    calls back into Python to box the result (numba's ``_numba_unpickle``); the handler's
    KeyboardInterrupt is then set while a result is returned, and CPython reports that
    as ``SystemError: ... returned a result with an exception set``, caused by the
    interrupt. Unwrapping it lets the CLI say "interrupted" and exit 130.
    """
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None
