"""The default solver: robust where its assumptions hold, the learned solver where robust's
own check says they do not.

:func:`lambertian.ps.robust.robust` trims each pixel's darkest and brightest observations
(order-statistics methods; Ikehata et al. 2012, Wu et al. 2010). That assumes shadows and
highlights are a minority of each pixel's observations. Its image check measures on a
pixel sample how often a lit observation is brighter than the fit by more than its inlier
band; when the median share exceeds ``BROAD_SPECULAR_SHARE`` the reflectance is broad and
non-sparse (metals, metallic paints with a wide lobe), trimming would chase the lobe, and
robust falls back to least squares (never worse than it, but still 16-22 degrees off on
generated metals). ``auto`` answers those captures with :func:`lambertian.ps.net.net`
instead, the per-pixel set network trained on generated GGX / Cook-Torrance metals and
paints among other reflectances (Ikehata 2018, Logothetis et al. 2021 train the same
way), and every other capture with robust, unchanged.

Chosen on the selection data only (``python experiments/ps_auto.py``): generated metals
and coloured metals go from 16-22 degrees (robust's least-squares fallback) to 2-4 with
the network; DiLiGenT ball / bear / reading and UW psm never trigger the switch, so their
answers are robust's. The network everywhere was measured too: better on every generated
family and on bear and psm gray, worse on reading (12.6 against 10.9) and ball (2.18
against 2.08), so it is not the default outside the case robust itself flags.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lambertian.ps.inputs import check_inputs
from lambertian.ps.net import MIN_LIGHTS, net
from lambertian.ps.result import PSResult
from lambertian.ps.robust import image_check_sample, robust, robust_image_check


def decide(sample: np.ndarray, lights: np.ndarray) -> tuple[str, dict[str, np.ndarray]]:
    """Which solver ``auto`` runs, from the image-check sample.

    Parameters
    ----------
    sample : (K, P, C) intensity-divided observations of the pixels
        :func:`lambertian.ps.robust.image_check_sample` picks.
    lights : (K, 3) light directions, project frame.

    Returns
    -------
    ``("net" | "robust", kept)`` with ``kept`` robust's image check (its ``kept_images``);
    ``"net"`` when robust finds broad specular reflectance and there are enough lights
    for the network.
    """
    kept = robust_image_check(sample, lights)
    return _solver(kept, len(lights)), kept


def _solver(kept: dict[str, np.ndarray], k: int) -> str:
    """The rule: the network where robust's check found broad specular reflectance and
    there are lights enough for it, else robust."""
    return "net" if bool(kept.get("broad_specular", False)) and k >= MIN_LIGHTS else "robust"


def auto(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None, *,
         source: str = "images", progress: bool = False,
         kept_images: dict[str, np.ndarray] | None = None,
         weights: str | Path | None = None) -> PSResult:
    """Robust photometric stereo, or the learned solver where robust detects broad,
    non-sparse specular reflectance (see the module docstring).

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images divided by the light intensities.
    lights : (K, 3) light directions, project frame.
    mask : (H, W) bool pixels to solve (all when None).
    source : name used in error messages.
    progress : show a progress bar.
    kept_images : robust's image check computed beforehand on the whole capture (as
        :func:`decide` returns it), for solving a capture in parts with one decision.
    weights : the network's weights file (default: the shipped one).

    Returns
    -------
    The chosen solver's PSResult; its info says ``method: auto``, which solver answered
    (``solver``) and why (``broad_specular``).
    """
    t0 = time.perf_counter()
    img, L, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    if kept_images is None:
        sample = img.reshape(k, -1, c)[:, image_check_sample(np.flatnonzero(m.ravel()))]
        solver, kept_images = decide(sample, L)
    else:
        solver = _solver(kept_images, k)
    # the checked stack: the solver's own checks then neither copy nor convert it again
    if solver == "net":
        res = net(img, L, m, source=source, progress=progress, weights=weights)
    else:
        res = robust(img, L, m, source=source, progress=progress, kept_images=kept_images)
    broad = bool(kept_images.get("broad_specular", False))
    res.info.update(method="auto", solver=solver, broad_specular=broad,
                    seconds=time.perf_counter() - t0)
    if solver == "net":
        res.info["note"] = ("broad, non-sparse specular reflectance detected: the learned "
                            "solver instead of robust's least-squares fallback")
    return res
