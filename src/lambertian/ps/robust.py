"""Calibrated photometric stereo robust to shadows, specular highlights and bad images.

Per pixel, observations that do not follow ``I = albedo * max(0, n . l)`` are rejected and
the normal is refitted on the rest:

1. Rank trimming: among the lit observations (above ``shadow_level`` times the pixel's
   brightest one) the darkest ``low`` and brightest ``high`` fractions are dropped (cast
   shadows, highlights) and the rest is solved by least squares, as in the
   order-statistics methods surveyed by Ikehata et al., "Robust photometric stereo using
   sparse regression", CVPR 2012.
2. Image consistency (global): each image's gain, the median of observed / predicted over
   well-lit pixels, is compared with the other images' gains; images off by more than
   ``image_z`` robust standard deviations (MAD) are dropped for every pixel. This is how
   damaged images (e.g. DiLiGenT bear's first 20, about 20 % too bright) are found,
   without knowing which they are.
3. Threshold refinement: an observation is an inlier when its relative residual against
   the current Lambertian prediction is at most ``tau`` and its predicted shading is above
   ``min_shading``; the normal is refitted on the inliers ``iters`` times. A pixel whose
   inliers do not span 3D (conditioning check) keeps its previous, wider-set fit.
4. Colour (3 channels only): the same fit runs on the specular-free image of Mallick et
   al., "Beyond Lambertian: reconstructing specular surfaces using color", CVPR 2005: the
   norm of the colour's component orthogonal to the light colour (white, once images are
   divided by the light intensities), which cancels the specular term of the dichromatic
   model. Each pixel keeps the representation (grey or specular-free) in which the larger
   share of its lit observations agrees with its fit within ``select_tol`` (a consensus
   criterion, as in RANSAC): grey is less noisy on nearly white surfaces, the
   specular-free image wins on coloured glossy ones.

Settings were chosen by measurement on DiLiGenT ball and bear with reading held out, in a
region where the error is flat (see benchmarks/ps_robust_experiments.py).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from lambertian.ps.inputs import check_inputs, check_lights, to_grey
from lambertian.ps.least_squares import (
    DEFAULT_CHUNK,
    albedo_at_pixels,
    least_squares,
    pixel_chunks,
    unit_rows,
)
from lambertian.ps.result import PSResult

# Inlier sets whose normal matrix L^T W L has min/max eigenvalue below this are treated as
# not spanning 3D (nearly coplanar lights): the pixel falls back to a wider set.
CONDITION_RCOND = 1e-3
# Pixels sampled (evenly strided, deterministic) for the global image-consistency check:
# bounds its memory, and 16k pixels give each image's median gain to well under 1 %.
IMAGE_CHECK_PIXELS = 1 << 14
# Predicted shading above which a pixel informs an image's gain (well lit, far from the
# terminator where the ratio is unstable).
IMAGE_CHECK_SHADING = 0.3
# The image check needs enough images for a median and MAD to mean something.
IMAGE_CHECK_MIN_IMAGES = 10
# Broad, non-sparse specular reflectance (metals, metallic paints with a wide lobe): the
# trimming and refinement assume that highlights are a minority of each pixel's lit
# observations. When the median pixel has more than this share of its lit observations
# brighter than its robust fit by more than ``tau``, the assumption has failed and a
# trimmed fit only chases the lobe: least squares over every observation is used instead.
# Chosen on generated pixels (synth.pixel_observations; coloured metals with GGX alpha
# 0.2-0.4 and the metal family give medians of 0.17-0.33, and robust is 1-4 degrees worse
# than least squares on them; diffuse, dielectric and paint families 0.00-0.03) and UW psm
# (0.00); DiLiGenT ball / bear / reading give 0.02 / 0.01 / 0.07.
BROAD_SPECULAR_SHARE = 0.15


def _weighted_solve(I: torch.Tensor, W: torch.Tensor, L: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched weighted least squares ``min_g sum_k W_pk (I_pk - l_k . g)^2``.

    I, W : (P, K); L : (K, 3). Returns g (P, 3) and ok (P,) bool, False where the
    weighted lights do not span 3D (then g is a regularised, unreliable solution).
    """
    A = torch.einsum("pk,ki,kj->pij", W, L, L)
    b = torch.einsum("pk,pk,ki->pi", W, I, L)
    ev = torch.linalg.eigvalsh(A)
    ok = ev[:, 0] > CONDITION_RCOND * ev[:, 2].clamp_min(1e-300)
    # A tiny ridge keeps singular pixels from stopping the batch; their ok is False.
    ridge = 1e-12 * A.diagonal(dim1=1, dim2=2).sum(-1) + 1e-300
    A = A + ridge[:, None, None] * torch.eye(3, dtype=A.dtype)
    g = torch.linalg.solve(A, b.unsqueeze(-1)).squeeze(-1)
    return g, ok


def _trim(I: torch.Tensor, lit: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """(P, K) bool: lit observations left after dropping, per pixel, the darkest ``low``
    and brightest ``high`` fractions of that pixel's lit observations."""
    P, K = I.shape
    key = torch.where(lit, I, torch.full_like(I, -torch.inf))  # unlit sort first
    order = key.argsort(dim=1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(K).expand(P, K))
    nlit = lit.sum(dim=1, keepdim=True)
    rank = rank - (K - nlit)  # rank among the lit observations
    lo = torch.floor(low * nlit)
    hi = nlit - torch.floor(high * nlit)
    return lit & (rank >= lo) & (rank < hi)


def _level(I: torch.Tensor, shadow_level: float) -> torch.Tensor:
    """(P, 1) the shadow level of each pixel: ``shadow_level`` times its brightest
    observation. Relative, so that the images' units (a float TIFF in small units,
    intensities in other units) cannot change a normal."""
    return shadow_level * I.amax(dim=1, keepdim=True)


def _initial_fit(I: torch.Tensor, L: torch.Tensor, keep: torch.Tensor, low: float,
                 high: float, shadow_level: float) -> torch.Tensor:
    """Trimmed least squares with the conditioning fallback: trimmed set, else all lit
    observations, else every non-zero one (faint but lit), else every observation of the
    kept images. Returns g (P, 3)."""
    lit = (I > _level(I, shadow_level)) & keep
    g, ok = _weighted_solve(I, _trim(I, lit, low, high).to(I.dtype), L)
    for wider in (lit, (I > 0) & keep, keep.expand_as(I)):
        if bool(ok.all()):
            break
        g2, ok2 = _weighted_solve(I, wider.to(I.dtype), L)
        g = torch.where(ok[:, None], g, g2)
        ok = ok | ok2
    return g


def _prediction(I: torch.Tensor, L: torch.Tensor, g: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Shading ``n . l`` (P, K) and Lambertian prediction ``rho n . l`` for g = rho n."""
    rho = g.norm(dim=1, keepdim=True)
    s = (g / rho.clamp_min(1e-300)) @ L.T
    return s, rho * s


def _refine(I: torch.Tensor, L: torch.Tensor, g: torch.Tensor, keep: torch.Tensor,
            tau: float, min_shading: float, iters: int, shadow_level: float
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Threshold refinement: refit on observations within ``tau`` (relative) of the
    prediction. Returns g (P, 3) and inliers (P, K) bool of the final fit."""
    inl = None
    for _ in range(iters):
        s, pred = _prediction(I, L, g)
        inl = (keep & (s > min_shading) & (I > _level(I, shadow_level))
               & ((I - pred).abs() <= tau * pred))
        g2, ok = _weighted_solve(I, inl.to(I.dtype), L)
        ok = ok & (inl.sum(dim=1) >= 3)
        g = torch.where(ok[:, None], g2, g)
    s, pred = _prediction(I, L, g)
    inl = (keep & (s > min_shading) & (I > _level(I, shadow_level))
           & ((I - pred).abs() <= tau * pred))
    return g, inl


def _agreement(I: torch.Tensor, L: torch.Tensor, g: torch.Tensor, keep: torch.Tensor,
               tol: float, min_shading: float) -> torch.Tensor:
    """(P,) share of lit observations (predicted shading > min_shading) within ``tol``
    (relative) of the fit's prediction."""
    s, pred = _prediction(I, L, g)
    lit = keep & (s > min_shading)
    good = lit & ((I - pred).abs() <= tol * pred)
    return good.sum(dim=1) / lit.sum(dim=1).clamp_min(1)


def consistent_images(I: torch.Tensor, L: torch.Tensor, *, low: float, high: float,
                      shadow_level: float, z: float, min_dev: float, rounds: int = 3
                      ) -> torch.Tensor:
    """(K,) bool: images whose gain agrees with the others'.

    I : (P, K) observations of a pixel sample; L : (K, 3). Each round fits the kept images
    by trimmed least squares, measures every image's gain (median observed / predicted
    over well-lit pixels) and keeps images whose log gain is within
    ``max(z * MAD * 1.4826, min_dev)`` of the median. Nothing is dropped if fewer than
    ``IMAGE_CHECK_MIN_IMAGES`` images are given or if more than half would go.
    """
    K = I.shape[1]
    keep = torch.ones(K, dtype=torch.bool)
    if K < IMAGE_CHECK_MIN_IMAGES:
        return keep
    for _ in range(rounds):
        g = _initial_fit(I, L, keep, low, high, shadow_level)
        s, pred = _prediction(I, L, g)
        valid = (s > IMAGE_CHECK_SHADING) & (I > _level(I, shadow_level))
        ratio = torch.where(valid, I / pred.clamp_min(1e-300), torch.nan)
        log_gain = ratio.nanmedian(dim=0).values.log()
        judged = torch.isfinite(log_gain)
        if int((judged & keep).sum()) < 3:
            return torch.ones(K, dtype=torch.bool)
        ref = log_gain[judged & keep]
        med = ref.median()
        mad = 1.4826 * (ref - med).abs().median()
        thr = max(z * float(mad), min_dev)
        new = ~judged | ((log_gain - med).abs() <= thr)
        if int(new.sum()) < max(3, K // 2):
            return torch.ones(K, dtype=torch.bool)
        if bool((new == keep).all()):
            break
        keep = new
    return keep


def specular_free(images: np.ndarray) -> np.ndarray:
    """(K, H, W, 3) -> (K, H, W) norm of the colour component orthogonal to white.

    For a dichromatic surface under white light, ``I = d * shading + s * (1, 1, 1)``; the
    component orthogonal to (1, 1, 1) is ``P d * shading``: Lambertian, specular-free
    (the UV part of the SUV colour space, Mallick et al., CVPR 2005).
    """
    return np.linalg.norm(images - images.mean(axis=-1, keepdims=True), axis=-1)


def image_check_sample(idx: np.ndarray) -> np.ndarray:
    """The evenly strided pixels (of the masked, row-major ``idx``) the image check uses."""
    return idx[:: max(1, idx.size // IMAGE_CHECK_PIXELS)]


def _check_images(I_sample: np.ndarray, L: torch.Tensor, settings: dict[str, Any]
                  ) -> torch.Tensor:
    """(K,) kept images from one representation's (K, P) sampled observations."""
    Is = torch.from_numpy(np.ascontiguousarray(I_sample.T, dtype=np.float64))
    return consistent_images(Is, L, low=settings["low"], high=settings["high"],
                             shadow_level=settings["shadow_level"], z=settings["image_z"],
                             min_dev=settings["image_min_dev"])


def _solve_representation(I_all: np.ndarray, idx: np.ndarray, L: torch.Tensor,
                          settings: dict[str, Any], chunk: int, progress: bool = False,
                          desc: str = "robust", keep: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Robust fit of one (K, H*W) image representation at pixels ``idx``; ``keep``
    overrides the image check (computed beforehand on the whole capture).

    Returns normals (P, 3), inliers (P, K), agreement (P,), the share of each pixel's lit
    observations brighter than its fit by more than ``tau`` (P,), and the dropped images.
    """
    k = I_all.shape[0]
    lv = settings["shadow_level"]
    if keep is not None:
        keep = torch.from_numpy(np.asarray(keep, bool))
    elif settings["image_check"]:
        keep = _check_images(I_all[:, image_check_sample(idx)], L, settings)
    else:
        keep = torch.ones(k, dtype=torch.bool)
    normals = np.zeros((idx.size, 3), np.float64)
    inliers = np.zeros((idx.size, k), bool)
    agree = np.zeros(idx.size, np.float64)
    bright = np.zeros(idx.size, np.float64)
    keep_row = keep[None, :]
    for sl in pixel_chunks(idx.size, chunk, progress, desc):
        I = torch.from_numpy(np.ascontiguousarray(I_all[:, idx[sl]].T, dtype=np.float64))
        g = _initial_fit(I, L, keep_row, settings["low"], settings["high"], lv)
        g, inl = _refine(I, L, g, keep_row, settings["tau"], settings["min_shading"],
                         settings["iters"], lv)
        normals[sl] = unit_rows(g).numpy()
        inliers[sl] = inl.numpy()
        agree[sl] = _agreement(I, L, g, keep_row, settings["select_tol"],
                               settings["min_shading"]).numpy()
        bright[sl] = _bright_share(I, L, g, keep_row, settings["tau"], lv).numpy()
    return normals, inliers, agree, bright, np.flatnonzero(~keep.numpy()).tolist()


def _bright_share(I: torch.Tensor, L: torch.Tensor, g: torch.Tensor, keep: torch.Tensor,
                  tau: float, shadow_level: float) -> torch.Tensor:
    """(P,) share of the lit observations (predicted shading > 0, above the shadow level,
    kept images) brighter than the fit's prediction by more than ``tau`` (relative)."""
    s, pred = _prediction(I, L, g)
    lit = keep & (s > 0) & (I > _level(I, shadow_level))
    hi = lit & (I > (1 + tau) * pred)
    return hi.sum(dim=1) / lit.sum(dim=1).clamp_min(1)


def robust(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
           chunk: int = DEFAULT_CHUNK // 4, source: str = "images", low: float = 0.1,
           high: float = 0.1, tau: float = 0.2, select_tol: float = 0.15,
           min_shading: float = 0.0, iters: int = 4, shadow_level: float = 1e-4,
           image_check: bool = True, image_z: float = 4.0, image_min_dev: float = 0.05,
           colour: bool = True, progress: bool = False,
           kept_images: dict[str, np.ndarray] | None = None) -> PSResult:
    """Robust calibrated photometric stereo: normals and albedo, rejecting shadows,
    specular highlights and inconsistent images (see the module docstring for the steps
    and references).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images already divided by the light
        intensities (so the light colour is white).
    lights : (K, 3) light directions, project frame (normalised here).
    mask : (H, W) bool pixels to solve (all when None).
    chunk : pixels solved per block (bounds memory: a few K x chunk float64 arrays).
    source : name used in error messages.
    low, high : fractions of each pixel's lit observations dropped as darkest (cast
        shadow) and brightest (specular) before the first fit.
    tau : relative residual ``|I - pred| / pred`` up to which an observation is an inlier.
    select_tol : relative residual used to score grey against specular-free per pixel.
    min_shading : observations with predicted ``n . l`` at or below this are not used.
    iters : refinement rounds.
    shadow_level : observations at or below this share of the pixel's brightest
        observation are shadow (never used); relative, so the images' units do not matter.
    image_check : drop images whose gain disagrees with the others (damaged images).
    image_z, image_min_dev : the image check's threshold, in robust standard deviations
        of the log gains, and its floor in log gain.
    colour : with 3 channels, also fit the specular-free image and choose per pixel.
    progress : show a progress bar over pixel blocks.
    kept_images : the image check's answer computed beforehand on the whole capture
        (``{"grey": (K,) bool, "specular_free": (K,) bool, "broad_specular": bool}``, see
        :func:`robust_image_check`), for solving a capture in parts with the same result.

    Returns
    -------
    PSResult with (H, W, 3) float32 normals (project frame, zero outside the mask),
    (H, W, C) albedo fitted per channel on the inliers, (H, W, K) bool inliers, and info
    (method, settings, dropped images, share of pixels using the specular-free image,
    seconds).
    """
    t0 = time.perf_counter()
    img, L_np, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    settings = {"low": float(low), "high": float(high), "tau": float(tau),
                "select_tol": float(select_tol), "min_shading": float(min_shading),
                "iters": int(iters), "shadow_level": float(shadow_level),
                "image_check": bool(image_check), "image_z": float(image_z),
                "image_min_dev": float(image_min_dev), "colour": bool(colour)}
    idx = np.flatnonzero(m.ravel())
    L = torch.from_numpy(L_np)  # float64: exact answers on noise-free data
    grey = to_grey(img).reshape(k, -1)
    kept = kept_images or {}
    normals, inliers, agree, bright, dropped = _solve_representation(
        grey, idx, L, settings, chunk, progress, "robust (grey)", kept.get("grey"))
    # Judged on the image check's pixel sample, so that a capture solved in bands
    # (lambertian.scale.stream, which passes the decision in kept_images) decides as one.
    bright_median = float(np.median(bright[::max(1, idx.size // IMAGE_CHECK_PIXELS)]))
    broad = bright_median > BROAD_SPECULAR_SHARE
    if "broad_specular" in kept:
        broad = bool(kept["broad_specular"])
    if broad:
        res = least_squares(images, L_np, m, source=source)
        res.info.update(method="robust", broad_specular=True,
                        bright_share_median=bright_median,
                        seconds=time.perf_counter() - t0,
                        note="broad, non-sparse specular reflectance detected: least "
                             "squares over every observation instead of trimming")
        return res
    use_sf = np.zeros(idx.size, bool)
    dropped_sf: list[int] = []
    if colour and c == 3:
        sf = specular_free(img).reshape(k, -1)
        n_sf, inl_sf, agree_sf, _, dropped_sf = _solve_representation(
            sf, idx, L, settings, chunk, progress, "robust (specular-free)",
            kept.get("specular_free"))
        use_sf = agree_sf > agree  # ties (e.g. grey surfaces, where sf is 0) stay grey
        normals[use_sf] = n_sf[use_sf]
        inliers[use_sf] = inl_sf[use_sf]

    albedo = albedo_at_pixels(img.reshape(k, -1, c), idx, normals, L_np, inliers, chunk)

    out_n = np.zeros((h * w, 3), np.float32)
    out_a = np.zeros((h * w, c), np.float32)
    out_i = np.zeros((h * w, k), bool)
    out_n[idx], out_a[idx], out_i[idx] = normals, albedo, inliers
    info = {"method": "robust", "settings": settings,
            "dropped_images": {"grey": dropped, "specular_free": dropped_sf},
            "specular_free_share": float(use_sf.mean()),
            "broad_specular": False, "bright_share_median": bright_median,
            "seconds": time.perf_counter() - t0}
    return PSResult(out_n.reshape(h, w, 3), out_a.reshape(h, w, c), m,
                    inliers=out_i.reshape(h, w, k), info=info)


def robust_image_check(sample: np.ndarray, lights: np.ndarray, *, image_check: bool = True,
                       colour: bool = True, low: float = 0.1, high: float = 0.1,
                       shadow_level: float = 1e-4, image_z: float = 4.0,
                       image_min_dev: float = 0.05, tau: float = 0.2,
                       min_shading: float = 0.0, iters: int = 4,
                       broad_check: bool = True) -> dict[str, np.ndarray]:
    """The images :func:`robust` keeps, from the pixels :func:`image_check_sample` picks.

    Parameters
    ----------
    sample : (K, P, C) intensity-divided observations of those pixels, in their order.
    lights : (K, 3) light directions.
    broad_check : also decide whether the reflectance is broadly specular (robust's
        fallback to least squares), which costs one robust solve of the sample.
    The other settings are :func:`robust`'s (use the same values).

    Returns
    -------
    ``{"grey": (K,) bool, "specular_free": (K,) bool, "broad_specular": () bool}`` to
    pass as ``kept_images``.
    """
    k, p, c = sample.shape
    L = torch.from_numpy(check_lights(lights, k, "lights"))
    settings = {"low": low, "high": high, "shadow_level": shadow_level, "image_z": image_z,
                "image_min_dev": image_min_dev, "tau": tau, "min_shading": min_shading,
                "iters": iters, "select_tol": 0.15, "image_check": False}
    ones = np.ones(k, bool)
    sample = np.asarray(sample, np.float32)
    grey = to_grey(sample[:, :, None])[:, :, 0]
    out = {"grey": ones, "specular_free": ones}
    if image_check:
        out["grey"] = _check_images(grey, L, settings).numpy()
    if broad_check:  # on the same pixels and kept images as robust's own decision
        _, _, _, bright, _ = _solve_representation(grey, np.arange(p), L, settings, p,
                                                   keep=out["grey"])
        out["broad_specular"] = np.asarray(float(np.median(bright)) > BROAD_SPECULAR_SHARE)
    if not image_check:
        return out
    if colour and c == 3:
        sf = specular_free(sample[:, :, None])[:, :, 0]
        out["specular_free"] = _check_images(sf, L, settings).numpy()
    return out
