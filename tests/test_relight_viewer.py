"""The viewer's 8-bit tiles decode to a model that relights like the fitted one."""

from __future__ import annotations

import numpy as np
import pytest

from lambertian.relight import display, fit_model, relight
from lambertian.synth.capture import make_capture
from lambertian.viz.viewer import decode_model, encode_model, read_viewer, write_viewer


@pytest.mark.parametrize("kind", ["ours", "ptm", "hsh9", "hsh16"])
@pytest.mark.parametrize("grey", [False, True])
def test_decoded_tiles_relight_within_a_grey_level(kind, grey):
    cap = make_capture(size=24, num_lights=20, noise=0.0, seed=6)
    img = cap.images / cap.intensities[:, None, None, :].astype(np.float32)
    if grey:
        img = img.mean(-1)
    model = fit_model(kind, img, cap.lights, cap.mask, method="ls")
    data = encode_model(model, cap.normals, cap.albedo)
    assert data.tiles.dtype == np.uint8 and data.tiles.shape[-1] == 3
    back, normals, _ = decode_model(data)
    assert np.array_equal(back.mask, cap.mask)
    for light in ([0.2, 0.1, 0.97], [-0.6, 0.3, 0.74]):
        a = display(relight(model, np.array(light))).astype(int)
        b = display(relight(back, np.array(light))).astype(int)
        if a.shape[-1] == 1:
            a = np.repeat(a, 3, -1)
        assert np.median(np.abs(a - b)[cap.mask]) <= 1
        assert np.abs(a - b)[cap.mask].max() <= 12


def test_written_viewer_decodes_like_the_tiles(tmp_path):
    cap = make_capture(size=20, num_lights=12, noise=0.0, seed=7)
    model = fit_model("ours", cap.images, cap.lights, cap.mask, method="ls")
    depth = np.where(cap.mask, cap.height, np.nan)
    write_viewer(tmp_path / "v", model, depth=depth, title="t")
    back, meta = read_viewer(tmp_path / "v")
    ref, _, _ = decode_model(encode_model(model))
    for name in ("normals", "albedo", "specular", "shininess"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ref, name))
    assert meta["depth"]["w"] == 20 and meta["bbox"][2] <= 20
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
