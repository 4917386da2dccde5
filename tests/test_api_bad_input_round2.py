"""The Python functions, second fuzz round: arrays and objects that used to fail deep
inside with an IndexError / AttributeError, or be silently misread (complex images lose
their imaginary part, NaN in a float mask counts as inside). Each raises InputError
with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

import lambertian
from lambertian.core.errors import InputError
from lambertian.core.light import LightSet
from lambertian.synth.capture import make_capture


@pytest.fixture(scope="module")
def scene():
    s = make_capture(16, 8, noise=0.002, seed=1)
    return s, (s.images / s.intensities[:, None, None, :]).astype(np.float32)


def test_complex_images_are_refused(scene):
    s, img = scene
    with pytest.raises(InputError, match="real numbers"):
        lambertian.photometric_stereo(img.astype(np.complex64), s.lights, s.mask, method="ls")


def test_nan_in_a_float_mask_is_refused(scene):
    s, img = scene
    with pytest.raises(InputError, match="mask holds NaN"):
        lambertian.photometric_stereo(img, s.lights, np.where(s.mask, 1.0, np.nan),
                                      method="ls")


@pytest.mark.parametrize("k, intensities, said", [
    (5, None, "5 lights for 8 images"),  # before: IndexError of a boolean index
    (8, np.r_[1e-300, np.ones(7)], "outside"),  # before: "image 0 holds NaN"
    (8, np.r_[0.0, np.ones(7)], "finite and positive"),
    (8, np.r_[np.nan, np.ones(7)], "finite and positive"),
])
def test_a_light_set_that_does_not_fit_the_images_is_refused(scene, k, intensities, said):
    s, img = scene
    lights = LightSet(s.lights[:k], np.ones(k) if intensities is None else intensities)
    with pytest.raises(InputError, match=said):
        lambertian.photometric_stereo(img, lights, s.mask, method="ls")


@pytest.mark.parametrize("call", ["capture_lights", "calibrate_lights", "relight_capture"])
def test_an_array_where_a_capture_is_wanted_is_refused(scene, call):
    # before: AttributeError: 'numpy.ndarray' object has no attribute 'meta' / 'root'
    _, img = scene
    with pytest.raises(InputError, match="expected a Capture"):
        getattr(lambertian, call)(img)


def test_fit_mesh_light_refuses_a_mesh_whose_faces_leave_its_vertices():
    # before: IndexError inside the renderer
    from lambertian.render.mesh import Mesh

    mesh = Mesh.create([[0, 0, 4], [1, 0, 4], [0, 1, 4]], [[0, 1, 5]])
    K = np.array([[8.0, 0, 4], [0, 8, 4], [0, 0, 1]])
    photo = np.random.default_rng(0).random((8, 8)).astype(np.float32)
    with pytest.raises(InputError, match="faces index vertices"):
        lambertian.fit_mesh_light(mesh, photo, np.ones((8, 8), bool), K, np.eye(3),
                                  np.zeros(3))
