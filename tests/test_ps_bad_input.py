"""Solvers and readers on input that is valid but in unusual units, or not valid: the
answer does not depend on the images' units, and invalid arrays raise InputError."""

import warnings

import numpy as np
import pytest

import lambertian
from lambertian.core.errors import InputError, InputWarning
from lambertian.core.metrics import angular_error_deg
from lambertian.synth.capture import make_capture


@pytest.fixture(scope="module")
def small():
    cap = make_capture(size=24, num_lights=12, seed=0)
    return cap, (cap.images / cap.intensities[:, None, None, :]).astype(np.float32)


@pytest.mark.parametrize("method", ["ls", "robust", "shadow_aware", "net", "auto"])
def test_normals_do_not_depend_on_the_images_units(small, method):
    """A change of units (intensities x 1e6, float images in small units) cannot change a
    normal: the solvers' floors and shadow levels are relative."""
    cap, img = small
    ref = lambertian.photometric_stereo(img, cap.lights, cap.mask, method=method)
    for scale in (1e-12, 1e-6, 1e6):
        res = lambertian.photometric_stereo(img * np.float32(scale), cap.lights, cap.mask,
                                            method=method)
        assert angular_error_deg(res.normals[cap.mask], ref.normals[cap.mask]).max() < 0.05
        np.testing.assert_allclose(res.albedo[cap.mask], ref.albedo[cap.mask] * scale,
                                   rtol=1e-3, atol=1e-6 * scale)


@pytest.mark.parametrize("bad, words", [
    (lambda i: np.repeat(i[:1], len(i), 0), "same photo"),
    (lambda i: -i, "not negative"),
    (lambda i: i * np.float32(1e20), "float32"),
    (lambda i: i[..., :0], "empty axis"),
])
def test_arrays_that_hold_no_photometric_stereo_are_refused(small, bad, words):
    cap, img = small
    with pytest.raises(InputError, match=words):
        lambertian.photometric_stereo(bad(img), cap.lights, cap.mask, method="ls")


def test_a_mask_of_strings_is_refused(small):
    cap, img = small
    with pytest.raises(InputError, match="boolean or numeric"):
        lambertian.photometric_stereo(img, cap.lights, np.full(cap.mask.shape, "False"),
                                      method="ls")


def test_light_of_image_with_a_model_checks_its_image_and_mask():
    rng = np.random.default_rng(0)
    img = rng.random((32, 32)).astype(np.float32)
    with pytest.raises(InputError, match="not negative"):
        lambertian.light_of_image(-img, model="faces")
    huge = img.copy()
    huge[3, 3] = 3e38
    with pytest.raises(InputError, match="float32"):
        lambertian.light_of_image(huge, model="faces")
    with pytest.raises(InputError, match="mask is 10x10"):
        lambertian.light_of_image(img, model="faces", mask=np.ones((10, 10), bool))
    with pytest.raises(InputError, match="H x W"):
        lambertian.light_of_image(img.ravel(), model="faces")


def test_a_pgm_is_scaled_by_its_declared_maxval(tmp_path):
    """A 10-bit PGM (maxval 1023): full scale is 1023, so a saturated image reads 1.0 and
    the saturation check sees it."""
    from lambertian.io import read_image

    values = np.array([[0, 511], [1023, 1023]], ">u2")
    path = tmp_path / "ten_bit.pgm"
    path.write_bytes(b"P5\n2 2\n1023\n" + values.tobytes())
    img, depth = read_image(path)
    assert depth == 16
    np.testing.assert_allclose(img[..., 0], values / 1023.0, rtol=1e-6)


def test_a_line_break_in_a_file_name_stays_inside_its_warning_line(capsys):
    from lambertian.cli.main import _one_line_warning

    _one_line_warning(InputWarning("img05\nBLACK.png", "every pixel is black"),
                      InputWarning, "x.py", 1)
    err = capsys.readouterr().err
    assert err == "warning: img05\\nBLACK.png: every pixel is black\n"


def test_no_warning_for_valid_small_units(small):
    cap, img = small
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lambertian.photometric_stereo(img * np.float32(1e-9), cap.lights, cap.mask,
                                      method="robust")


@pytest.mark.parametrize("method", ["ls", "robust", "shadow_aware", "net", "auto"])
def test_a_pixel_black_in_every_image_has_no_normal(small, method):
    """Every solver leaves a pixel with no light at all without a normal (zero), rather
    than guessing one; the rest of the capture is solved as before."""
    cap, img = small
    dark = img.copy()
    r, c = np.argwhere(cap.mask)[len(np.argwhere(cap.mask)) // 2]
    dark[:, r, c] = 0.0
    res = lambertian.photometric_stereo(dark, cap.lights, cap.mask, method=method)
    assert not res.normals[r, c].any()
    others = cap.mask.copy()
    others[r, c] = False
    assert np.allclose(np.linalg.norm(res.normals[others], axis=-1), 1.0, atol=1e-4)
