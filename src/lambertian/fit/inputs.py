"""Read the inputs of ``lambertian fit``: a grey linear photo, a mask (K.txt and POSE.txt
are read by :mod:`lambertian.io.matrix`).

Images go through :mod:`lambertian.io` (16 bits kept, bit depth checked); every problem
is a one-line :class:`InputError` naming the file.
"""

from __future__ import annotations

import os

import numpy as np

from lambertian.io import read_image
from lambertian.io import read_mask as _read_mask
from lambertian.io.matrix import read_matrix, read_pose  # noqa: F401  (re-exported)
from lambertian.ps.inputs import to_grey


def read_grey(path: str | os.PathLike[str]) -> np.ndarray:
    """(H, W) float32 linear grey in [0, 1] from an 8- or 16-bit grey or RGB image
    (0.2989 R + 0.5870 G + 0.1140 B)."""
    img, _ = read_image(path)
    return to_grey(img[None])[0]


def read_mask(path: str | os.PathLike[str], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool mask, checked against the photo's ``shape``."""
    return _read_mask(path, shape)
