"""Integrability reduces the 3x3 factorisation ambiguity to the GBR group.

A pseudo-normal field ``b = albedo * n`` of a surface ``z(x, y)`` satisfies
``d(b1/b3)/dy = d(b2/b3)/dx``. Writing the true field as ``b = P e`` for the factorised
field ``e`` (rows p1, p2, p3 of P) and using ``(a x b).(c x d) = (a.c)(b.d) - (a.d)(b.c)``,
the constraint becomes linear in ``u = p3 x p1`` and ``v = p3 x p2``:

    u . (e x e_y) - v . (e x e_x) = 0          (one equation per pixel)

so (u, v) is the null vector of an N x 6 system, and then ``p3 ~ u x v``,
``p1 = u x p3 / |p3|^2``, ``p2 = v x p3 / |p3|^2``: P is known up to the 3-parameter
generalised bas-relief transformations (and a common sign), exactly the ambiguity that
integrability cannot remove. The equation is invariant to a per-pixel scale of e, so e is
normalised per pixel first (it balances the rows).

References: A. Yuille, D. Snow, "Shape and albedo from multiple images using
integrability", CVPR 1997; P. Belhumeur, D. Kriegman, A. Yuille, "The bas-relief
ambiguity", IJCV 35(1), 1999.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_erosion, gaussian_filter

from lambertian.core.errors import InputError

# Rounds of trimming rows whose residual is far above the median (depth edges, shadows
# that survived the factorisation, texture edges).
TRIM_ROUNDS = 3
TRIM_FACTOR = 3.0
# Gaussian smoothing of the unit pseudo-normal field before differencing: finite
# differences of a noisy field bias the homogeneous least squares, and smoothing across
# creases biases it too. A width in pixels means a different scale on the object at each
# resolution, so it is a share of the object's linear size (sqrt of its pixel count):
# 0.015 gives 1.6 px on the 128 px generated captures, 2.9 on UW psm cat, 3.1 on
# DiLiGenT bear. Chosen on the selection data (UW psm, generated Lambertian and glossy
# captures, benchmarks/bench_uncalibrated.py): mean light error over them 7.01 with the
# former fixed 3 px, 7.19 / 6.60 / 6.70 / 7.03 with shares 0.01 / 0.015 / 0.02 / 0.025.
SMOOTH_SHARE = 0.015
# Smallest / second smallest singular value above which no null vector stands out (a
# plane gives only noise equations): an error rather than a guess.
NULL_GAP = 0.9


def smoothing_sigma(valid: np.ndarray) -> float:
    """Smoothing width in pixels for an object covering the (H, W) bool ``valid`` pixels:
    ``SMOOTH_SHARE`` of its linear size."""
    return SMOOTH_SHARE * float(np.sqrt(np.count_nonzero(valid)))


def smooth_field(E: np.ndarray, valid: np.ndarray, sigma: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Unit-normalised (H, W, 3) field smoothed by a masked (normalised) Gaussian of
    ``sigma`` pixels, and the valid pixels eroded by ``sigma`` (whose smoothing window is
    mostly valid)."""
    n = np.linalg.norm(E, axis=-1, keepdims=True)
    v = valid & (n[..., 0] > 0)
    e = np.divide(E, n, out=np.zeros_like(E, dtype=np.float64), where=n > 0) * v[..., None]
    if sigma <= 0:
        return e, v
    wgt = gaussian_filter(v.astype(np.float64), sigma)
    out = np.stack([gaussian_filter(e[..., i], sigma) for i in range(3)], axis=-1)
    out = np.divide(out, wgt[..., None], out=np.zeros_like(out), where=wgt[..., None] > 1e-6)
    return out, binary_erosion(v, iterations=max(1, int(round(sigma))))


def integrability_equations(E: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(N, 6) rows ``[e x e_y, -(e x e_x)]`` at pixels whose four neighbours are valid.

    E : (H, W, 3) pseudo-normals in any basis; valid : (H, W) bool. Project frame: x is
    the column, y is up (row - 1): central differences
    ``e_x = (e[r, c+1] - e[r, c-1]) / 2`` and ``e_y = (e[r-1, c] - e[r+1, c]) / 2``.
    """
    n = np.linalg.norm(E, axis=-1, keepdims=True)
    e = np.divide(E, n, out=np.zeros_like(E), where=n > 0)
    v = valid & (n[..., 0] > 0)
    ok = np.zeros_like(v)
    ok[1:-1, 1:-1] = (v[1:-1, 1:-1] & v[1:-1, 2:] & v[1:-1, :-2] & v[:-2, 1:-1]
                      & v[2:, 1:-1])
    rr, cc = np.nonzero(ok)
    e0 = e[rr, cc]
    ex = 0.5 * (e[rr, cc + 1] - e[rr, cc - 1])
    ey = 0.5 * (e[rr - 1, cc] - e[rr + 1, cc])
    return np.concatenate([np.cross(e0, ey), -np.cross(e0, ex)], axis=1)


def integrable_basis(E: np.ndarray, valid: np.ndarray, source: str = "images",
                     sigma: float | None = None) -> tuple[np.ndarray, float]:
    """3x3 P such that ``P e`` is an integrable pseudo-normal field, unique up to a GBR
    transformation and sign (Yuille & Snow 1997; see the module docstring).

    E : (H, W, 3) factorised pseudo-normals; valid : (H, W) bool pixels to use;
    sigma : smoothing in pixels before differencing (see :func:`smooth_field`);
        :func:`smoothing_sigma` of the valid pixels when None.
    Returns P (3, 3) and the ratio of the two smallest singular values of the equations
    (near 1: the null vector is poorly determined; the caller reports it).
    Raises InputError when the field gives too few equations or no clear null vector
    (a flat or degenerate scene: every GBR of a plane is a plane).
    """
    # Whiten the basis first: the homogeneous least squares (``|x| = 1``), the smoothing
    # of the unit field and the trimming all depend on the basis, and the factorisation's
    # is arbitrary and can be badly skewed; in the basis where the pseudo-normals have
    # identity covariance the solution no longer depends on that arbitrary choice
    # (measured on DiLiGenT, benchmarks/bench_uncalibrated.py: the best GBR after this step
    # went from 16-25 degrees to 3-11 on bear, reading, buddha and pot2).
    v0 = valid & np.any(E != 0, axis=-1)
    if v0.sum() < 3:
        raise InputError(source, "no pseudo-normals to apply the integrability constraint to")
    ev, V = np.linalg.eigh(E[v0].T @ E[v0] / v0.sum())
    if ev[0] <= 1e-12 * ev[2]:
        raise InputError(source, "the pseudo-normals do not span three dimensions: lights "
                                 "are not identifiable")
    W = V @ np.diag(ev ** -0.5) @ V.T  # symmetric: e_white = W e
    if sigma is None:
        sigma = smoothing_sigma(v0)
    A = integrability_equations(*smooth_field(E @ W, valid, sigma))
    if A.shape[0] < 50:
        raise InputError(source, f"only {A.shape[0]} pixels with valid neighbours: too few to "
                                 "apply the integrability constraint")
    keep = np.ones(A.shape[0], bool)
    for _ in range(TRIM_ROUNDS + 1):
        _, sv, Vt = np.linalg.svd(A[keep], full_matrices=False)
        x = Vt[-1]
        r = np.abs(A @ x)
        keep = r <= TRIM_FACTOR * np.median(r[keep]) + 1e-300
    if sv[-1] > NULL_GAP * sv[-2]:
        raise InputError(source, "the integrability constraint has no clear solution (the "
                                 "surface looks flat or the images are degenerate): lights "
                                 "are not identifiable")
    u, v = x[:3], x[3:]
    p3 = np.cross(u, v)
    if np.linalg.norm(p3) < 1e-8:
        raise InputError(source, "degenerate integrability solution: lights are not "
                                 "identifiable")
    p3 = p3 / np.linalg.norm(p3)
    P = np.stack([np.cross(u, p3), np.cross(v, p3), p3]) @ W  # back to E's basis
    return P / np.abs(np.linalg.det(P)) ** (1 / 3), float(sv[-1] / sv[-2])
