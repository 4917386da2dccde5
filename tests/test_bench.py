"""Benchmark helpers (the suites themselves run on the real data: `lambertian bench`)."""

from __future__ import annotations

import numpy as np

from lambertian.bench.lights import ps_with_estimated_lights
from lambertian.core.metrics import normal_error_stats
from lambertian.io import read_capture
from lambertian.synth.capture import make_capture, write_capture


def test_ps_with_the_true_lights_reproduces_the_calibrated_normals(tmp_path):
    cap = read_capture(write_capture(tmp_path / "cap", make_capture(size=48, num_lights=12,
                                                                     seed=2)))
    grey_intensity = cap.intensities.mean(axis=1)
    # Grey intensities equal to the channels' (white lights) make both solves identical.
    cap.intensities = np.repeat(grey_intensity[:, None], 3, axis=1)
    mine, ref = ps_with_estimated_lights(cap, cap.lights, grey_intensity)
    assert normal_error_stats(mine, ref, cap.mask)["mean"] < 1e-3
    # A light set rotated by 10 degrees about the viewing axis turns the normals with it.
    c, s = np.cos(np.deg2rad(10)), np.sin(np.deg2rad(10))
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    mine, ref = ps_with_estimated_lights(cap, cap.lights @ R.T, grey_intensity)
    assert abs(normal_error_stats(mine @ R, ref, cap.mask)["mean"]) < 0.5
