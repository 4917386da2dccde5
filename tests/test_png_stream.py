"""The band-by-band PNG writer decodes to exactly what was written."""

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambertian.core.errors import InputError
from lambertian.io.png_stream import PngBandWriter


@settings(max_examples=20, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 30), rgb=st.booleans(), bits=st.sampled_from([8, 16]),
       band=st.integers(1, 17), seed=st.integers(0, 1000))
def test_round_trip_is_exact(tmp_path_factory, h, w, rgb, bits, band, seed):
    rng = np.random.default_rng(seed)
    shape = (h, w, 3) if rgb else (h, w)
    dtype = np.uint16 if bits == 16 else np.uint8
    a = rng.integers(0, np.iinfo(dtype).max + 1, size=shape).astype(dtype)
    path = tmp_path_factory.mktemp("png") / "x.png"
    writer = PngBandWriter(path, h, w, 3 if rgb else 1, bits)
    for r in range(0, h, band):
        writer.write(a[r:r + band])
    writer.close()
    b = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if rgb:
        b = b[..., ::-1]
    assert b.dtype == dtype
    np.testing.assert_array_equal(a, b)


def test_incomplete_image_is_refused_and_leaves_no_file(tmp_path):
    writer = PngBandWriter(tmp_path / "x.png", 4, 3, 1)
    writer.write(np.zeros((2, 3), np.uint16))
    with pytest.raises(InputError, match="only 2 of 4 rows"):
        writer.close()
    assert not list(tmp_path.iterdir())
