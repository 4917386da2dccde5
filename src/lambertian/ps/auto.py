"""The default solver: robust and the learned solver together, or the learned solver
alone where robust's own check says robust's assumptions fail.

:func:`lambertian.ps.robust.robust` trims each pixel's darkest and brightest observations
(order-statistics methods; Ikehata et al. 2012, Wu et al. 2010). That assumes shadows and
highlights are a minority of each pixel's observations. Its image check measures on a
pixel sample how often a lit observation is brighter than the fit by more than its inlier
band; when the median share exceeds ``BROAD_SPECULAR_SHARE`` the reflectance is broad and
non-sparse (metals, metallic paints with a wide lobe), trimming would chase the lobe, and
robust falls back to least squares (never worse than it, but still 16-22 degrees off on
generated metals). ``auto`` answers those captures with :func:`lambertian.ps.net.net`
alone, the per-pixel set network trained on generated GGX / Cook-Torrance metals and
paints among other reflectances (Ikehata 2018, Logothetis et al. 2021 train the same
way).

Every other capture (with at least ``MIN_LIGHTS`` lights) gets both solvers and the
normalised sum of their unit normals, equal weights and nothing fitted. The two fail in
different places: on DiLiGenT reading, robust is 12.0 degrees off where the surface faces
the camera (broad highlights are the majority of those observations, so trimming cannot
reject them) and the network 4.2; on the folds 56-73 degrees from the view, robust 13.2
and the network 20.2. Where both are right the sum is too; where one is far off it
halves that error. Albedo is refitted per channel to the summed normal on robust's inlier
observations. Fewer lights than the network takes: robust alone.

Chosen on the selection data only (``python experiments/ps_auto.py``, table in
docs/learned-ps.md): against robust (the previous default) the sum is better on every
generated family (robust's trimming does not hold beyond the objects it was tuned on) and
on ball, bear and psm gray, and level on reading; against the network alone it is better
on ball, reading and psm gray and worse on the generated families, where robust drags it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lambertian.ps.inputs import check_inputs
from lambertian.ps.least_squares import albedo_at_pixels
from lambertian.ps.net import MIN_LIGHTS, net, net_image_check
from lambertian.ps.result import PSResult
from lambertian.ps.robust import image_check_sample, robust, robust_image_check

# What auto runs: the network alone, both solvers' normals summed, or robust alone.
NET, BOTH, ROBUST = "net", "robust+net", "robust"


def decide(sample: np.ndarray, lights: np.ndarray) -> tuple[str, dict[str, np.ndarray]]:
    """Which solver ``auto`` runs, from the image-check sample.

    Parameters
    ----------
    sample : (K, P, C) intensity-divided observations of the pixels
        :func:`lambertian.ps.robust.image_check_sample` picks.
    lights : (K, 3) light directions, project frame.

    Returns
    -------
    ``(solver, kept)``: ``solver`` is ``"net"`` when robust finds broad specular
    reflectance and there are enough lights for the network, ``"robust+net"`` otherwise
    with enough lights, else ``"robust"``; ``kept`` is robust's image check (its
    ``kept_images``) with, when the network runs, the network's own under ``"net"``.
    """
    kept = robust_image_check(sample, lights)
    solver = _solver(kept, len(lights))
    if solver != ROBUST:
        kept["net"] = net_image_check(sample, lights)
    return solver, kept


def _solver(kept: dict[str, np.ndarray], k: int) -> str:
    """The rule: the network alone where robust's check found broad specular reflectance,
    both where there are lights enough for the network, else robust."""
    if k < MIN_LIGHTS:
        return ROBUST
    return NET if bool(kept.get("broad_specular", False)) else BOTH


def summed_normals(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3) the normalised sum of two fields of unit normals; ``a`` where they are
    opposite (the sum has no direction) and zeros where both are zero."""
    s = a + b
    norm = np.linalg.norm(s, axis=-1, keepdims=True)
    return np.where(norm > 1e-6, s / np.maximum(norm, 1e-6), a).astype(np.float32)


def auto(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
         source: str = "images", progress: bool = False,
         kept_images: dict[str, np.ndarray] | None = None,
         weights: str | Path | None = None) -> PSResult:
    """Robust photometric stereo and the learned solver together, or the learned solver
    alone where robust detects broad, non-sparse specular reflectance (see the module
    docstring).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images divided by the light intensities.
    lights : (K, 3) light directions, project frame.
    mask : (H, W) bool pixels to solve (all when None).
    source : name used in error messages.
    progress : show a progress bar.
    kept_images : the image checks computed beforehand on the whole capture (as
        :func:`decide` returns them), for solving a capture in parts with one decision.
    weights : the network's weights file (default: the shipped one).

    Returns
    -------
    PSResult: (H, W, 3) unit normals, project frame; (H, W, C) albedo; robust's (H, W, K)
    inliers when robust ran. Its info says ``method: auto``, which solver answered
    (``solver``: ``net``, ``robust+net`` or ``robust``) and why (``broad_specular``).
    """
    t0 = time.perf_counter()
    img, L, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    if kept_images is None:
        sample = img.reshape(k, -1, c)[:, image_check_sample(np.flatnonzero(m.ravel()))]
        solver, kept_images = decide(sample, L)
    else:
        solver = _solver(kept_images, k)
    # the checked stack: the solvers' own checks then neither copy nor convert it again
    if solver == NET:
        res = net(img, L, m, source=source, progress=progress, weights=weights,
                  kept_images=kept_images.get("net"))
    else:
        res = robust(img, L, m, source=source, progress=progress, kept_images=kept_images)
    if solver == BOTH:
        learned = net(img, L, m, source=source, progress=progress, weights=weights,
                      kept_images=kept_images.get("net"))
        res.normals = summed_normals(res.normals, learned.normals)
        res.albedo = _refit_albedo(img, L, m, res.normals, res.inliers)
        res.info["dropped_images"] = {"robust": res.info["dropped_images"],
                                      "net": learned.info["dropped_images"]}
    broad = bool(kept_images.get("broad_specular", False))
    res.info.update(method="auto", solver=solver, broad_specular=broad,
                    seconds=time.perf_counter() - t0)
    if solver == NET:
        res.info["note"] = ("broad, non-sparse specular reflectance detected: the learned "
                            "solver alone instead of robust's least-squares fallback")
    return res


def _refit_albedo(img: np.ndarray, L: np.ndarray, m: np.ndarray, normals: np.ndarray,
                  inliers: np.ndarray) -> np.ndarray:
    """(H, W, C) per-channel albedo fitted to ``normals`` on the ``inliers`` observations
    (robust's: the shadows and highlights it rejected stay out of the fit)."""
    k, h, w, c = img.shape
    idx = np.flatnonzero(m.ravel())
    out = np.zeros((h * w, c), np.float32)
    out[idx] = albedo_at_pixels(img.reshape(k, -1, c), idx, normals.reshape(-1, 3)[idx], L,
                                inliers.reshape(-1, k)[idx], 16384)
    return out.reshape(h, w, c)
