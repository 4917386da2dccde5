"""Error measures."""

import numpy as np
import pytest

from lambertian.core.metrics import (
    albedo_mse,
    angular_error_deg,
    normal_error_stats,
    scale_invariant_intensity_error,
)


def test_angular_error_known_angles():
    a = np.array([[0, 0, 1.0], [0, 0, 1.0], [1.0, 0, 0]])
    b = np.array([[0, 0, 2.0], [0, 1.0, 1.0], [-1.0, 0, 0]])
    np.testing.assert_allclose(angular_error_deg(a, b), [0, 45, 180], atol=1e-6)


def test_normal_error_stats_thresholds_and_mask():
    gt = np.zeros((2, 2, 3))
    gt[..., 2] = 1
    est = gt.copy()
    est[0, 0] = [np.sin(np.radians(20)), 0, np.cos(np.radians(20))]
    est[0, 1] = [np.sin(np.radians(40)), 0, np.cos(np.radians(40))]
    stats = normal_error_stats(est, gt)
    assert stats["mean"] == pytest.approx(15.0)
    assert stats["median"] == pytest.approx(10.0)
    assert stats["below_11.25"] == 50.0 and stats["below_22.5"] == 75.0
    mask = np.array([[True, False], [False, False]])
    assert normal_error_stats(est, gt, mask)["mean"] == pytest.approx(20.0)


def test_scale_invariant_intensity_error_ignores_global_scale():
    g = np.array([1.0, 2.0, 3.0])
    assert scale_invariant_intensity_error(5 * g, g) == pytest.approx(0.0, abs=1e-12)
    assert scale_invariant_intensity_error(g * [1, 1, 1.1], g) > 0.01


def test_albedo_mse_scale_invariant():
    g = np.array([0.2, 0.4, 0.6])
    assert albedo_mse(g, g) == 0
    assert albedo_mse(3 * g, g) > 0.1
    assert albedo_mse(3 * g, g, scale_invariant=True) == pytest.approx(0, abs=1e-20)
