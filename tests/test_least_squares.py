"""Least-squares photometric stereo (Woodham 1980) and the solvers' input checks."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lambertian.core.errors import InputError
from lambertian.core.metrics import angular_error_deg, normal_error_stats
from lambertian.core.shading import render_lambertian
from lambertian.ps import least_squares
from tests.conftest import need_data


def _scene(seed: int, k: int = 8, h: int = 12, w: int = 10, colour: bool = True):
    rng = np.random.default_rng(seed)
    n = rng.normal(size=(h, w, 3))
    n[..., 2] = np.abs(n[..., 2]) + 2.0  # facing the camera, so every light below lights it
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    rho = rng.uniform(0.2, 1.0, size=(h, w, 3 if colour else 1))
    lights = rng.normal(size=(k, 3)) * [0.3, 0.3, 0] + [0, 0, 1]
    lights /= np.linalg.norm(lights, axis=1, keepdims=True)
    img = render_lambertian(n, rho, lights).numpy().astype(np.float32)
    return img, lights, n, rho


def test_exact_without_shadows():
    img, lights, n, rho = _scene(0)
    assert (img > 0).all()  # no attached shadow: the linear model is exact
    res = least_squares(img, lights)
    assert angular_error_deg(res.normals, n).max() < 1e-3
    np.testing.assert_allclose(res.albedo, rho, rtol=1e-4)
    assert res.normals.dtype == np.float32 and res.normals.shape == n.shape


def test_chunking_does_not_change_the_answer_and_mask_zeroes_outside():
    img, lights, _, _ = _scene(1)
    mask = np.zeros(img.shape[1:3], bool)
    mask[2:9, 1:7] = True
    a = least_squares(img, lights, mask, chunk=7)
    b = least_squares(img, lights, mask)
    np.testing.assert_allclose(a.normals, b.normals, atol=1e-6)
    assert not a.normals[~mask].any() and not a.albedo[~mask].any()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(3, 12), grey=st.booleans())
def test_property_recovers_random_well_posed_scenes(seed, k, grey):
    img, lights, n, rho = _scene(seed, k=k, h=4, w=5, colour=not grey)
    # Well-posed for the linear model: well-conditioned lights, no attached shadow.
    assume(np.linalg.cond(lights) < 1e3 and (img > 0).all())
    res = least_squares(img, lights)
    assert angular_error_deg(res.normals, n).max() < 0.05


@pytest.mark.parametrize(
    "lights, images, mask, message",
    [
        (np.eye(3)[[0, 1, 2, 0]], None, None, "4 lights for 3 images"),
        (np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0.0]]), None, None, "zero-length"),
        (np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0.0]]), None, None, "coplanar"),
        (np.array([[1, 0, 0], [0, 1, 0], [np.nan, 0, 1]]), None, None, "non-finite"),
        (np.eye(3), "nan", None, "NaN"),
        (np.eye(3), None, np.zeros((4, 4), bool), "empty"),
        (np.eye(3), None, np.ones((3, 4), bool), "mask is 4x3"),
    ],
)
def test_bad_input_is_a_one_line_error_naming_the_source(lights, images, mask, message):
    img = np.full((3, 4, 4), 0.5, np.float32)
    if images == "nan":
        img[1, 2, 2] = np.nan
    with pytest.raises(InputError, match=message) as err:
        least_squares(img, lights, mask, source="capture/")
    assert str(err.value).startswith("capture/: ") and "\n" not in str(err.value)


def test_non_unit_lights_are_normalised():
    img, lights, n, _ = _scene(2)
    res = least_squares(img, lights * 3.0)
    assert angular_error_deg(res.normals, n).max() < 1e-3


@pytest.mark.parametrize("obj, published", [("ball", 4.10), ("bear", 8.39), ("reading", 19.80)])
def test_reproduces_published_diligent_errors(obj, published):
    from lambertian.io import read_capture

    cap = read_capture(need_data("diligent", obj))
    res = least_squares(cap.normalized_images(), cap.lights, cap.mask)
    assert normal_error_stats(res.normals, cap.normals, cap.mask)["mean"] == pytest.approx(
        published, abs=0.2)
