"""Robust fit of one directional light (+ ambient) to one image of known normals.

The shared core of the matte-sphere calibration and of single-image light estimation:

    I(p) = c + b . n(p)   over lit pixels,  b = albedo * intensity * l,  c = albedo * ambient

Attached shadows are removed by refitting on the pixels the current light lights
(``n . l > min_cos``), and cast shadows, highlights and saturation by Tukey-biweight
iteratively reweighted least squares. Uniform albedo is assumed (it scales ``b`` and ``c``).

References
----------
Q. Zheng, R. Chellappa, "Estimation of illuminant direction, albedo, and shape from
shading", PAMI 13(7), 1991 (the linear fit of a light to known normals); P. W. Holland,
R. E. Welsch, "Robust regression using iteratively reweighted least-squares", 1977.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lambertian.core.errors import InputError

TUKEY_C = 4.685  # 95% efficiency under Gaussian noise
MIN_LIT_PIXELS = 50
# The lit normals must span directions: the smallest singular value of the centred
# normals of the lit region, relative to the largest, below which the light is
# unidentifiable (a flat lit patch only constrains the light along its normal).
MIN_SPREAD = 0.05


@dataclass
class LightFit:
    """direction: (3,) unit, project frame; intensity: |b| (albedo x intensity);
    ambient: c (albedo x ambient); inliers: (P,) bool; residual: robust scale."""

    direction: np.ndarray
    intensity: float
    ambient: float
    inliers: np.ndarray
    residual: float


def _ransac_start(I: np.ndarray, A: np.ndarray, usable: np.ndarray, rel_tol: float,
                  hypotheses: int, sample: int, seed: int) -> np.ndarray | None:
    """Best ``x`` of ``I = A x`` over minimal samples of bright pixels (MSAC score).

    A pixel agrees with a hypothesis when ``|I - A x| < rel_tol * (A x)`` among pixels
    the hypothesis lights; the error is relative because textured albedo and shadows
    scale intensities. High breakdown, so most pixels may be outliers.
    """
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(usable)
    if idx.size < MIN_LIT_PIXELS:
        return None
    sub = rng.choice(idx, size=min(sample, idx.size), replace=False)
    Is, As = I[sub], A[sub]
    bright = sub[Is > np.median(Is)]
    d = A.shape[1]
    best, best_score = None, -np.inf
    for _ in range(hypotheses):
        pick = rng.choice(bright, size=d, replace=False)
        try:
            x = np.linalg.solve(A[pick], I[pick])
        except np.linalg.LinAlgError:
            continue
        pred = As @ x
        lit = As[:, :3] @ x[:3] > 0
        err = np.abs(Is - pred) / np.maximum(rel_tol * np.abs(pred), 1e-9)
        score = float(np.sum(np.where(lit & (err < 1), 1.0 - err * err, 0.0)))
        if score > best_score:
            best, best_score = x, score
    return best


def _weighted_lstsq(A: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = np.sqrt(w)[:, None]
    return np.linalg.lstsq(A * sw, y * sw[:, 0], rcond=None)[0]


def fit_directional(intensity: np.ndarray, normals: np.ndarray, *, ambient: bool = True,
                    min_cos: float = 0.1, saturation: float | None = None,
                    iterations: int = 30, robust_start: bool = False, rel_tol: float = 0.15,
                    hypotheses: int = 300, seed: int = 0, source: str = "image") -> LightFit:
    """Robust ambient + directional light from intensities at pixels of known normals.

    Parameters
    ----------
    intensity : (P,) linear grey values.
    normals : (P, 3) unit normals, project frame.
    ambient : fit the constant term ``c >= 0`` (else c = 0; a negative fitted ``c`` means
        the no-ambient fit is returned).
    min_cos : pixels with ``n . l <= min_cos`` are treated as attached shadow.
    saturation : values at or above this are dropped (clipped highlights).
    iterations : IRLS / shadow-set iterations.
    robust_start : start IRLS from a RANSAC (MSAC) fit of minimal pixel samples, which
        survives textured albedo and large shadowed/specular areas; else from a
        least-squares fit of the brighter half.
    rel_tol, hypotheses, seed : relative inlier band, sample count and seed of that start.
    source : name used in error messages.

    Raises
    ------
    InputError : too few lit pixels or lit normals too alike to constrain a light.
    """
    I = np.asarray(intensity, np.float64).ravel()
    N = np.asarray(normals, np.float64).reshape(-1, 3)
    usable = np.isfinite(I) & (np.linalg.norm(N, axis=1) > 0.5)
    if saturation is not None:
        usable &= I < saturation
    A = np.concatenate([N, np.ones((len(N), 1))], axis=1) if ambient else N
    # Start from the brighter half: it is lit whatever the light.
    thr = np.median(I[usable]) if usable.any() else 0.0
    active = usable & (I > thr)
    w = np.ones_like(I)
    x = np.zeros(A.shape[1])
    if robust_start:
        x0 = _ransac_start(I, A, usable, rel_tol, hypotheses, 4000, seed)
        if x0 is not None and np.linalg.norm(x0[:3]) > 0:
            pred = A @ x0
            active = usable & (N @ (x0[:3] / np.linalg.norm(x0[:3])) > min_cos)
            w = (np.abs(I - pred) < rel_tol * np.abs(pred)).astype(np.float64)
    for _ in range(iterations):
        if active.sum() < MIN_LIT_PIXELS:
            break
        x_new = _weighted_lstsq(A[active], I[active], w[active])
        b = x_new[:3]
        if np.linalg.norm(b) <= 0:
            break
        lit = usable & (N @ (b / np.linalg.norm(b)) > min_cos)
        r = I - A @ x_new
        scale = 1.4826 * np.median(np.abs(r[lit])) if lit.any() else 0.0
        u = r / max(TUKEY_C * scale, 1e-9)
        w = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)
        converged = np.allclose(x_new, x, atol=1e-7, rtol=1e-6) and np.array_equal(lit, active)
        x, active = x_new, lit
        if converged:
            break
    inl = active & (w > 0)
    if inl.sum() < MIN_LIT_PIXELS or np.linalg.norm(x[:3]) <= 0:
        raise InputError(source, f"light is unidentifiable: only {int(inl.sum())} lit pixels "
                                 f"(need {MIN_LIT_PIXELS})")
    s = np.linalg.svd(N[inl] - N[inl].mean(axis=0), compute_uv=False) / np.sqrt(inl.sum())
    if s[1] < MIN_SPREAD:
        raise InputError(source, "light is unidentifiable: the lit normals are nearly all the "
                                 "same direction")
    if ambient and x[3] < 0:
        # Light cannot be negative: a negative constant only trades against the
        # directional term (it inflates the intensity to fit interreflections and
        # non-Lambertian falloff), so the physical fit is the one without ambient.
        return fit_directional(I, N, ambient=False, min_cos=min_cos, saturation=saturation,
                               iterations=iterations, robust_start=robust_start,
                               rel_tol=rel_tol, hypotheses=hypotheses, seed=seed,
                               source=source)
    b = x[:3]
    e = float(np.linalg.norm(b))
    res = I[inl] - A[inl] @ x
    return LightFit(b / e, e, float(x[3]) if ambient else 0.0, inl,
                    float(1.4826 * np.median(np.abs(res))))


def fit_directional_grouped(intensity: np.ndarray, normals: np.ndarray, labels: np.ndarray, *,
                            ambient: bool = True, min_cos: float = 0.1,
                            saturation: float | None = None, rounds: int = 8,
                            source: str = "image") -> tuple[LightFit, np.ndarray]:
    """:func:`fit_directional` on a piecewise-constant albedo: one unknown albedo per group.

    The model is ``I(p) = a[g(p)] (c + b . n(p))``; it is bilinear, so the fit alternates
    the robust light fit on ``I / a[g]`` with each group's albedo as the median ratio of
    its lit, unsaturated pixels to the current prediction. The albedos are normalised so
    that their geometric mean over the pixels is one, which keeps ``intensity``
    comparable between images whose groups differ slightly.

    Parameters
    ----------
    intensity : (P,) linear grey values.
    normals : (P, 3) unit normals, project frame.
    labels : (P,) int albedo group of every pixel (e.g. from
        :func:`lambertian.lights.albedo_groups.chromaticity_groups`).
    ambient, min_cos, saturation, source : as in :func:`fit_directional`.
    rounds : alternations at most.

    Returns
    -------
    fit : LightFit (intensity and ambient relative to the geometric-mean albedo).
    albedo : (G,) relative albedo of each group (NaN for a group too small to measure).

    Raises
    ------
    InputError : as :func:`fit_directional`.
    """
    I = np.asarray(intensity, np.float64).ravel()
    N = np.asarray(normals, np.float64).reshape(-1, 3)
    lab = np.asarray(labels).ravel().astype(np.int64)
    groups = int(lab.max()) + 1 if lab.size else 1
    usable = np.isfinite(I) & (np.linalg.norm(N, axis=1) > 0.5)
    if saturation is not None:
        usable &= I < saturation
    rho = np.ones(groups)
    fit = None
    for _ in range(rounds):
        a = rho[lab]
        fit = fit_directional(np.where(usable, I / a, np.nan), N, ambient=ambient,
                              min_cos=min_cos, iterations=30, source=source)
        pred = fit.intensity * np.clip(N @ fit.direction, 0.0, None) + fit.ambient
        lit = usable & (N @ fit.direction > min_cos) & (pred > 0)
        new = rho.copy()
        for g in range(groups):
            sel = lit & (lab == g)
            # A group with too few lit pixels keeps its albedo (it barely affects the fit).
            if sel.sum() >= MIN_LIT_PIXELS // 2:
                new[g] = np.median(I[sel] / pred[sel])  # pred is the shading
        # The pixels' geometric-mean albedo is one: unlike a median or a reference group it
        # moves continuously when the k-means splits a paint differently in another image.
        new /= np.exp(np.mean(np.log(new[lab[usable]]))) if usable.any() else 1.0
        done = np.allclose(new, rho, rtol=1e-3, atol=0.0)
        rho = new
        if done:
            break
    assert fit is not None
    # Report the light for the final albedos' normalisation (one more light fit).
    fit = fit_directional(np.where(usable, I / rho[lab], np.nan), N, ambient=ambient,
                          min_cos=min_cos, source=source)
    counts = np.bincount(lab[usable], minlength=groups)
    return fit, np.where(counts > 0, rho, np.nan)
