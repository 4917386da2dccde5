"""PTM 1.2 and HSH .rti files: exact round trips after quantisation, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from lambertian.core.errors import InputError
from lambertian.io.ptm import read_ptm, write_ptm
from lambertian.io.rti import read_rti, write_rti
from lambertian.relight import fit_model, relight
from lambertian.relight.basis import ptm_basis
from lambertian.relight.files import load_ptm, load_rti, save_ptm, save_rti
from lambertian.synth.capture import make_capture


def test_ptm_rgb_round_trip_is_exact_after_quantisation(tmp_path):
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(7, 5, 3, 6)).astype(np.float32)
    p = write_ptm(tmp_path / "a.ptm", coef)
    f = read_ptm(p)
    assert f.format == "PTM_FORMAT_RGB" and f.rgb is None
    step = f.scale  # one quantisation step per term
    assert np.all(np.abs(f.coefficients - coef) <= 0.5 * step + 1e-6)
    # Writing what was read gives the same bytes, and reading them the same numbers.
    p2 = write_ptm(tmp_path / "b.ptm", f.coefficients)
    assert p2.read_bytes() == p.read_bytes()
    np.testing.assert_array_equal(read_ptm(p2).coefficients, f.coefficients)


def test_ptm_rows_are_stored_bottom_row_first(tmp_path):
    coef = np.zeros((2, 1, 3, 6), np.float32)
    coef[0, 0, :, 5] = 1.0  # the top pixel is bright
    p = write_ptm(tmp_path / "a.ptm", coef)
    body = p.read_bytes()[-2 * 18:]
    red = np.frombuffer(body[:12], np.uint8).reshape(2, 6)  # red block, two rows
    assert red[0, 5] < red[1, 5]  # the first stored row is the bottom one


def test_ptm_lrgb_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    lum = rng.normal(size=(6, 4, 6)).astype(np.float32)
    rgb = rng.integers(0, 256, size=(6, 4, 3), dtype=np.uint8)
    p = write_ptm(tmp_path / "l.ptm", lum, rgb)
    f = read_ptm(p)
    assert f.format == "PTM_FORMAT_LRGB"
    np.testing.assert_array_equal(f.rgb, rgb)
    assert np.all(np.abs(f.coefficients - lum) <= 0.5 * f.scale + 1e-6)
    assert write_ptm(tmp_path / "l2.ptm", f.coefficients, f.rgb).read_bytes() == p.read_bytes()


def test_rti_round_trip_is_exact_after_quantisation(tmp_path):
    rng = np.random.default_rng(2)
    for terms in (9, 16):
        coef = rng.normal(size=(5, 8, 3, terms)).astype(np.float32)
        p = write_rti(tmp_path / f"h{terms}.rti", coef)
        f = read_rti(p)
        assert np.all(np.abs(f.coefficients - coef) <= 0.5 * f.scale / 255 + 1e-6)
        p2 = write_rti(tmp_path / f"h{terms}b.rti", f.coefficients)
        assert p2.read_bytes() == p.read_bytes()
        np.testing.assert_array_equal(read_rti(p2).coefficients, f.coefficients)


@pytest.mark.parametrize("kind,lrgb", [("ptm", False), ("ptm", True), ("hsh9", False),
                                       ("hsh16", False)])
def test_fitted_models_relight_the_same_after_a_file(tmp_path, kind, lrgb):
    cap = make_capture(size=32, num_lights=24, noise=0.0, seed=4)
    model = fit_model(kind, cap.images, cap.lights, cap.mask)
    path = tmp_path / ("m.ptm" if kind == "ptm" else "m.rti")
    back = (save_ptm(path, model, lrgb=lrgb) and load_ptm(path)) if kind == "ptm" \
        else (save_rti(path, model) and load_rti(path))
    assert back.kind == kind
    light = np.array([0.3, -0.2, 0.93])
    a, b = relight(model, light)[cap.mask], relight(back, light)[cap.mask]
    # 8-bit coefficients: the relit images agree to about a grey level.
    assert np.sqrt(np.mean((a - b) ** 2)) < (0.01 if lrgb else 0.005)
    if kind == "ptm" and not lrgb:
        # RTIViewer evaluates the stored polynomial in 8-bit units (0-255).
        raw = read_ptm(path).coefficients @ ptm_basis(light)[0]
        np.testing.assert_allclose(raw[cap.mask], 255 * a, atol=2.0)


def test_unknown_format_and_truncation_are_one_line_errors(tmp_path):
    coef = np.zeros((4, 4, 3, 6), np.float32)
    good = write_ptm(tmp_path / "g.ptm", coef).read_bytes()
    bad = tmp_path / "jpeg.ptm"
    bad.write_bytes(good.replace(b"PTM_FORMAT_RGB", b"PTM_FORMAT_JPEG_RGB"))
    with pytest.raises(InputError, match="unknown format line 'PTM_FORMAT_JPEG_RGB'") as e:
        read_ptm(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)
    cut = tmp_path / "cut.ptm"
    cut.write_bytes(good[:-10])
    with pytest.raises(InputError, match="truncated coefficients: 278 bytes"):
        read_ptm(cut)
    other = tmp_path / "v.ptm"
    other.write_bytes(b"PTM_1.1\n" + good[8:])
    with pytest.raises(InputError, match="unknown format line"):
        read_ptm(other)
    rti = write_rti(tmp_path / "g.rti", np.zeros((3, 3, 3, 9), np.float32)).read_bytes()
    (tmp_path / "t.rti").write_bytes(rti[:-1])
    with pytest.raises(InputError, match="truncated coefficients"):
        read_rti(tmp_path / "t.rti")
    (tmp_path / "p.rti").write_bytes(rti.replace(b"\n3\n", b"\n1\n", 1))
    with pytest.raises(InputError, match="unknown format line '1'"):
        read_rti(tmp_path / "p.rti")


def test_grey_models_are_written_as_three_equal_channels(tmp_path):
    cap = make_capture(size=16, num_lights=12, noise=0.0, seed=8)
    grey = cap.images.mean(-1)
    for kind, save, load, name in (("ptm", save_ptm, load_ptm, "g.ptm"),
                                   ("hsh9", save_rti, load_rti, "g.rti")):
        model = fit_model(kind, grey, cap.lights, cap.mask)
        back = load(save(tmp_path / name, model))
        assert back.channels == 3
        light = np.array([0.1, 0.2, 0.97])
        a = relight(model, light)[cap.mask]
        b = relight(back, light)[cap.mask]
        assert np.abs(b - a).max() < 0.02 and np.allclose(b[:, 0], b[:, 2])
