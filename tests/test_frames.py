"""Frame conversions: each is exact and inverts its partner."""

import numpy as np
import torch

from lambertian.core import frames


def test_opencv_and_project_frames_flip_y_and_z():
    v = np.array([0.1, 0.2, 0.97])
    np.testing.assert_array_equal(frames.project_to_opencv(v), [0.1, -0.2, -0.97])
    np.testing.assert_array_equal(frames.opencv_to_project(frames.project_to_opencv(v)), v)


def test_pytorch3d_round_trip_and_torch_input():
    v = torch.tensor([[0.3, -0.4, 0.5]], dtype=torch.float64)
    p3d = frames.project_to_pytorch3d(v)
    assert p3d.tolist() == [[-0.3, -0.4, -0.5]]
    assert torch.equal(frames.pytorch3d_to_project(p3d), v)


def test_mitsuba_direction_is_the_way_light_travels():
    light = np.array([0.0, 0.0, 1.0])  # light at the camera
    d = frames.project_light_to_mitsuba_direction(light)
    np.testing.assert_array_equal(d, [0.0, 0.0, -1.0])
    np.testing.assert_array_equal(frames.mitsuba_direction_to_project_light(d), light)


def test_yaleb_light_formula():
    np.testing.assert_allclose(frames.yaleb_light(0, 0), [0, 0, 1], atol=1e-15)
    np.testing.assert_allclose(frames.yaleb_light(0, 90), [0, 1, 0], atol=1e-15)
    # positive azimuth: light to the subject's right, i.e. image left (-x)
    assert frames.yaleb_light(35, 40)[0] < 0


def test_normal_colour_code_round_trip():
    n = np.array([[0.0, 0.6, 0.8]])
    np.testing.assert_allclose(frames.rgb_to_normal(frames.normal_to_rgb(n)), n)
