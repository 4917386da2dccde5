"""The ``lights`` benchmark suite: every light estimator on every set with known lights."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.metrics import (
    angular_error_deg,
    normal_error_stats,
    scale_invariant_intensity_error,
)

GREY = np.array([0.2989, 0.5870, 0.1140])


def _row(estimator: str, dataset: str, est: np.ndarray, truth: np.ndarray,
         seconds: float, ints: np.ndarray | None = None,
         true_ints: np.ndarray | None = None, **extra: Any) -> dict[str, Any]:
    # A light an estimator leaves unknown (NaN, e.g. a black image's) counts as 90 degrees
    # off (the metric's zero vector) and is left out of the intensity error.
    err = angular_error_deg(est, truth)
    ie = None
    if ints is not None and true_ints is not None:
        known = np.isfinite(ints)
        ie = float(scale_invariant_intensity_error(ints[known], true_ints[known]))
    row = {"estimator": estimator, "dataset": dataset, "lights": int(len(err)),
           "unknown_lights": int(np.sum(~np.all(np.isfinite(est), axis=1))),
           "dir_mean_deg": float(np.mean(err)), "dir_max_deg": float(np.max(err)),
           "intensity_rel_err": ie, "seconds": float(seconds)}
    row.update(extra)
    return row


def lights_suite(data_root: Path) -> list[dict[str, Any]]:
    """One row per (estimator, data set): light direction error (mean, max, degrees),
    scale-invariant relative intensity error, and for the calibration spheres the mean
    normal error of least-squares photometric stereo on psm/gray with those lights.
    Sets that are absent are skipped."""
    from lambertian.core.sphere import fit_circle, sphere_normals
    from lambertian.io import read_capture
    from lambertian.lights import chrome_sphere_lights, estimate_light, matte_sphere_lights
    from lambertian.ps.least_squares import least_squares

    root = Path(data_root)
    rows: list[dict[str, Any]] = []
    psm = root / "psm"
    if (psm / "chrome").is_dir() and (psm / "gray").is_dir():
        chrome, gray = read_capture(psm / "chrome"), read_capture(psm / "gray")
        cy, cx, r = fit_circle(gray.mask, "psm/gray")
        n_gt, disc = sphere_normals(gray.mask.shape, (cy, cx), r)
        ev = disc & gray.mask

        def ps_err(L: np.ndarray) -> float:
            return normal_error_stats(least_squares(gray.images, L, ev).normals, n_gt, ev)["mean"]

        t = time.perf_counter()
        lc = chrome_sphere_lights(chrome.images, chrome.mask, names=chrome.files).directions
        rows.append(_row("chrome sphere", "psm/chrome vs lights.txt", lc, chrome.lights,
                         time.perf_counter() - t, gray_ps_mean_deg=ps_err(lc),
                         lights_txt_gray_ps_mean_deg=ps_err(chrome.lights)))
        t = time.perf_counter()
        lm = matte_sphere_lights(gray.images, gray.mask, ambient=False,
                                 names=gray.files).directions
        rows.append(_row("matte sphere", "psm/gray vs chrome", lm, lc, time.perf_counter() - t,
                         gray_ps_mean_deg=ps_err(lm)))
        rows.append(_row("matte sphere", "psm/gray vs lights.txt", lm, gray.lights, 0.0))
    for obj in ("ball", "bear", "reading"):
        folder = root / "diligent" / obj
        if not folder.is_dir():
            continue
        cap = read_capture(folder)
        t = time.perf_counter()
        dirs, ints = [], []
        for k in range(cap.num_images):
            # The colour image: its chromaticity groups the pixels by albedo.
            li = estimate_light(cap.images[k], cap.normals, cap.mask, source=cap.files[k])
            dirs.append(li.direction)
            ints.append(li.intensity)
        rows.append(_row("single image (known normals)", f"diligent/{obj}", np.array(dirs),
                         cap.lights, time.perf_counter() - t, np.array(ints),
                         cap.intensities @ GREY))
    rows += uncalibrated_rows(root)
    return rows


def ps_with_estimated_lights(cap: Any, directions: np.ndarray, intensities: np.ndarray,
                             method: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Photometric stereo normals of a capture with estimated lights (directions (K, 3),
    relative intensities (K,)) and with its calibrated ones: (H, W, 3) each, by ``method``
    (default ``lambertian.ps.ESTIMATED_LIGHTS_METHOD``, what ``lights --ps`` runs)."""
    from lambertian.ps import ESTIMATED_LIGHTS_METHOD, get_solver

    solve = get_solver(method or ESTIMATED_LIGHTS_METHOD)
    ref = solve(cap.normalized_images(), cap.lights, cap.mask).normals
    scale = np.asarray(intensities, np.float32)[:, None, None, None]
    mine = solve(cap.images / scale, directions, cap.mask).normals
    return mine, ref


def uncalibrated_rows(root: Path, yaleb: bool = True,
                      normals_check: bool = True) -> list[dict[str, Any]]:
    """Uncalibrated photometric stereo (all images of one object at once) on DiLiGenT
    ball, bear, reading, the test views buddha and pot2, and (no bar) every Yale B
    subject. On objects with ground-truth normals, ``ps_vs_calibrated_deg`` is the mean
    angle between robust photometric stereo with the estimated lights and with the true
    ones (``ps_mean_deg`` / ``calibrated_ps_mean_deg`` against the ground truth)."""
    from lambertian.core.errors import InputError
    from lambertian.io import read_capture
    from lambertian.lights.uncalibrated import METHODS, uncalibrated_lights

    rows: list[dict[str, Any]] = []
    sets = [root / "diligent" / o for o in ("ball", "bear", "reading")]
    sets += [root / "diligent_test" / o for o in ("buddha", "pot2")]
    if yaleb and (root / "yaleb").is_dir():
        sets += sorted(p for p in (root / "yaleb").iterdir() if p.is_dir())
    for folder in sets:
        if not folder.is_dir():
            continue
        cap = read_capture(folder)
        dataset = f"{folder.parent.name}/{folder.name}"
        # every method on the objects; the default alone on the 27 Yale B subjects
        for method in METHODS if folder.parent.name != "yaleb" else ("auto",):
            t = time.perf_counter()
            try:
                est = uncalibrated_lights(cap.images, cap.mask, method=method,
                                          source=folder.name)
            except InputError as err:  # reported, not left out
                rows.append({"estimator": f"uncalibrated ({method})", "dataset": dataset,
                             "failed": str(err)})
                continue
            seconds = time.perf_counter() - t
            extra: dict[str, Any] = {"resolved": est.resolved,
                                     "bisector_median_deg": est.info.get("bisector_median_deg")}
            if normals_check and cap.normals is not None and method == "auto":
                mine, ref = ps_with_estimated_lights(cap, est.directions, est.intensities)
                extra["ps_vs_calibrated_deg"] = normal_error_stats(mine, ref, cap.mask)["mean"]
                extra["ps_mean_deg"] = normal_error_stats(mine, cap.normals, cap.mask)["mean"]
                extra["calibrated_ps_mean_deg"] = normal_error_stats(ref, cap.normals,
                                                                     cap.mask)["mean"]
            rows.append(_row(f"uncalibrated ({method})", dataset, est.directions, cap.lights,
                             seconds, est.intensities, cap.intensities @ GREY
                             if cap.intensities.shape[1] == 3 else cap.intensities[:, 0],
                             **extra))
    return rows
