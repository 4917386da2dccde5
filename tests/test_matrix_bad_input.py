"""io.matrix.check_camera: intrinsics that are finite and well formed but not a camera
(focal lengths or principal point far beyond any lens or image) are refused, naming the
file, before any arithmetic overflows on them."""

from __future__ import annotations

import numpy as np
import pytest

from lambertian.core.errors import InputError
from lambertian.io.matrix import (
    MAX_ASPECT,
    MAX_FOCAL,
    MAX_PRINCIPAL_POINT,
    MIN_FOCAL,
    check_camera,
    read_camera,
)


def _K(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize("K, problem", [
    (_K(1e300, 1e300, 32, 32), "focal lengths"),
    (_K(1e-300, 1e-300, 32, 32), "focal lengths"),
    (_K(MAX_FOCAL * 1.01, MAX_FOCAL, 0, 0), "focal lengths"),
    (_K(MIN_FOCAL / 2, MIN_FOCAL, 0, 0), "focal lengths"),
    (_K(1e6, 1e6 / (MAX_ASPECT * 2), 0, 0), "aspect ratio"),
    (_K(50, 50, 1e300, 32), "principal point"),
    (_K(50, 50, 32, -MAX_PRINCIPAL_POINT * 2), "principal point"),
])
def test_implausible_intrinsics_are_refused_naming_the_file(tmp_path, K, problem):
    path = tmp_path / "K.txt"
    np.savetxt(path, K)
    with pytest.raises(InputError, match=problem) as err:
        read_camera(path)
    assert err.value.source == str(path) and "\n" not in str(err.value)


@pytest.mark.parametrize("K", [
    _K(MIN_FOCAL, MIN_FOCAL, 0, 0), _K(MAX_FOCAL, MAX_FOCAL, MAX_PRINCIPAL_POINT,
                                       -MAX_PRINCIPAL_POINT),
    _K(1e3, 1e3 / MAX_ASPECT, 0, 0), _K(3000.0, 3000.0, 1023.5, 767.5),
])
def test_plausible_intrinsics_pass(K):
    np.testing.assert_array_equal(check_camera(K), K)


def test_non_positive_focal_lengths_keep_their_own_message():
    with pytest.raises(InputError, match="must be positive"):
        check_camera(_K(0, 0, 0, 0), "K.txt")
