"""Readers and writers of lambertian.io: real data sets, exact round trips, bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambertian.core.errors import InputError
from lambertian.core.frames import yaleb_light
from lambertian.core.metrics import normal_error_stats
from lambertian.io import (
    detect_layout,
    read_capture,
    read_cmu_face,
    read_diligent,
    read_exr,
    read_folder,
    read_image,
    read_mask,
    read_normal_png,
    read_psm,
    read_yaleb,
    write_albedo_png,
    write_diligent,
    write_exr,
    write_normal_png,
)
from lambertian.io.images import declared_bit_depth
from lambertian.ps import least_squares
from tests.conftest import need_data

PUBLISHED_LS = {"ball": 4.10, "bear": 8.39, "reading": 19.80}  # data README, degrees


def _unit(rng: np.random.Generator, k: int) -> np.ndarray:
    v = rng.normal(size=(k, 3))
    v[:, 2] = np.abs(v[:, 2]) + 0.5
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _write_png16(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), rgb[..., ::-1] if rgb.ndim == 3 else rgb)


# --------------------------------------------------------------------------- real data

@pytest.mark.parametrize("obj", ["ball", "bear", "reading"])
def test_diligent_ls_matches_published(obj):
    cap = read_capture(need_data("diligent", obj))
    k, h, w, c = cap.images.shape
    assert (k, c) == (96, 3) and cap.images.dtype == np.float32 and cap.bit_depth == 16
    assert cap.intensities.shape == (96, 3) and cap.normals.shape == (h, w, 3)
    np.testing.assert_allclose(np.linalg.norm(cap.lights, axis=1), 1.0, atol=1e-12)
    # 16 bits kept exactly: the stored float is the raw sample / 65535.
    raw = cv2.imread(str(cap.root / cap.files[0]), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert raw.dtype == np.uint16
    np.testing.assert_array_equal(np.rint(cap.images[0] * 65535).astype(np.uint16), raw)
    assert len(np.unique(raw)) > 256
    res = least_squares(cap.normalized_images(), cap.lights, cap.mask)
    err = normal_error_stats(res.normals, cap.normals, cap.mask)["mean"]
    assert abs(err - PUBLISHED_LS[obj]) < 0.2, err
    assert cap.meta["crop"][2:] == (w, h)


def test_diligent_depth_and_test_views():
    bear = read_diligent(need_data("diligent", "bear"))
    assert bear.depth.shape == bear.shape and bear.depth.dtype == np.float32
    assert bear.K.shape == (3, 3) and bear.K[2, 2] == 1.0
    assert np.isnan(bear.depth[~bear.mask]).all()
    pot2 = read_capture(need_data("diligent_test", "pot2"))
    assert pot2.normals is None and pot2.lights.shape == (96, 3) and pot2.bit_depth == 16


def test_psm_gray_lights_in_project_frame():
    gray = read_capture(need_data("psm", "gray"))
    assert detect_layout(need_data("psm", "gray.txt")) == "psm"
    assert gray.images.shape == (12, 340, 512, 3) and gray.bit_depth == 8
    assert gray.meta["normals_source"] == "analytic sphere from mask"
    res = least_squares(gray.images, gray.lights, gray.mask)
    err = normal_error_stats(res.normals, gray.normals, gray.mask)["mean"]
    assert err < 8.0, err  # measured 6.06
    # The frame matters: with y flipped the same data is far off.
    flipped = least_squares(gray.images, gray.lights * [1, -1, 1], gray.mask)
    assert normal_error_stats(flipped.normals, gray.normals, gray.mask)["mean"] > 30
    # The list file gives the same capture.
    same = read_psm(need_data("psm", "gray.txt"))
    assert same.files == gray.files and np.array_equal(same.images, gray.images)


def test_psm_chrome_reads_with_sphere_mask():
    from lambertian.core.sphere import fit_circle

    chrome = read_capture(need_data("psm", "chrome"))
    assert chrome.num_images == 12 and chrome.normals is None
    cy, cx, r = fit_circle(chrome.mask)
    assert 0.9 < chrome.mask.sum() / (np.pi * r * r) < 1.1


def test_yaleb_lights_names_and_dark_images():
    folder = need_data("yaleb", "yaleB01")
    cap = read_yaleb(folder)
    assert cap.images.shape == (64, 192, 168, 1) and cap.bit_depth == 8
    for name, a, e in [("yaleB01_P00A+035E+40.pgm", 35, 40),
                       ("yaleB01_P00A-050E-40.pgm", -50, -40)]:
        i = cap.files.index(name)
        ar, er = np.deg2rad(a), np.deg2rad(e)
        expected = [-np.cos(er) * np.sin(ar), np.sin(er), np.cos(er) * np.cos(ar)]
        np.testing.assert_allclose(cap.lights[i], expected, atol=1e-12)
    assert "yaleB01_P00A+000E+90.pgm" in cap.meta["near_black"]
    assert "yaleB01_P00A+000E+00.pgm" not in cap.meta["near_black"]
    dark = [cap.files.index(n) for n in cap.meta["near_black"]]
    assert cap.meta["mean_intensity"][dark].max() < 0.1
    assert cap.meta["ambient"].shape == (192, 168, 1) and "Ambient" not in "".join(cap.files)
    assert len(cap.meta["info_listed"]) == 23  # ambient + 22 of the 64 on subjects 01-10
    np.testing.assert_allclose(cap.lights, yaleb_light(*cap.meta["angles"].T))


def test_yaleb_subject_with_missing_images():
    cap = read_yaleb(need_data("yaleb", "yaleB11"))
    assert cap.num_images == 60 and len(cap.meta["info_missing"]) == 4
    assert cap.meta["ambient"] is None and "640x480" in cap.meta["ambient_note"]


def test_cmu_face_lights_and_bit_depth():
    folder = need_data("cmu_face")
    cap = read_capture(folder)
    assert cap.images.shape == (7, 431, 369, 3) and cap.bit_depth == 16
    np.testing.assert_allclose(np.linalg.norm(cap.lights, axis=1), 1.0, atol=1e-12)
    assert (cap.lights[:, 2] > 0.9).all()  # toward the camera after the OpenCV conversion
    raw = np.load(folder / "sources.npy")
    np.testing.assert_allclose(cap.intensities[:, 0], np.linalg.norm(raw, axis=1))
    np.testing.assert_allclose(cap.lights[:, 1] * np.linalg.norm(raw, axis=1), -raw[:, 1])
    plain = read_cmu_face(folder, light_norm_is_intensity=False)
    np.testing.assert_array_equal(plain.intensities, 1.0)


# ---------------------------------------------------------------------------- writers

def test_normal_png_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = rng.normal(size=(20, 30, 3))
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    mask = rng.random((20, 30)) > 0.3
    p = write_normal_png(tmp_path / "sub" / "n.png", n, mask)
    img, depth = read_image(p)
    assert depth == 16
    assert np.abs(img[mask] * 2.0 - 1.0 - n[mask]).max() <= 1 / 65535 + 1e-6
    back = read_normal_png(p)
    assert np.abs(back[mask] - n[mask]).max() < 3 / 65535
    np.testing.assert_allclose(np.linalg.norm(back[mask], axis=1), 1.0, atol=1e-12)
    assert (back[~mask] == 0).all()


def test_albedo_png_scale_and_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.random((16, 12, 3)) * 3.0
    mask = np.ones((16, 12), bool)
    mask[:2] = False
    scale = write_albedo_png(tmp_path / "a.png", a, mask)
    assert scale == pytest.approx(np.percentile(a[mask], 99.5))
    img, depth = read_image(tmp_path / "a.png")
    assert depth == 16 and (img[~mask] == 0).all()
    inside = mask[..., None] & (a < scale)
    assert np.abs(img * scale - a)[np.broadcast_to(inside, a.shape)].max() <= scale / 65535
    assert write_albedo_png(tmp_path / "b.png", a[..., 0], scale=4.0) == 4.0
    np.testing.assert_allclose(read_image(tmp_path / "b.png")[0][..., 0] * 4.0, a[..., 0],
                               atol=4.0 / 65535)


@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 1), (7, 5, 3)])
def test_exr_exact_round_trip(tmp_path, shape):
    a = (np.random.default_rng(2).normal(size=shape) * 100).astype(np.float32)
    write_exr(tmp_path / "x.exr", a)
    back = read_exr(tmp_path / "x.exr")
    np.testing.assert_array_equal(back, a.reshape(back.shape))
    img, depth = read_image(tmp_path / "x.exr")
    assert depth == 32 and img.shape == (7, 5, 1 if len(shape) == 2 else shape[2])


def test_write_diligent_round_trip_with_ground_truth(tmp_path):
    rng = np.random.default_rng(3)
    k, h, w = 5, 9, 7
    codes = rng.integers(0, 65536, size=(k, h, w, 3))
    lights = _unit(rng, k) * 2.0
    inten = rng.random((k, 3)) + 0.5
    mask = rng.random((h, w)) > 0.2
    normals = rng.normal(size=(h, w, 3))
    depth = rng.random((h, w)).astype(np.float32)
    K = np.array([[100.0, 0, 3.5], [0, 101.0, 4.5], [0, 0, 1]])
    write_diligent(tmp_path / "cap", codes / 65535.0, lights, inten, mask, normals, depth, K)
    cap = read_capture(tmp_path / "cap")
    assert cap.meta["layout"] == "diligent" and cap.bit_depth == 16
    np.testing.assert_array_equal(np.rint(cap.images * 65535), codes)
    np.testing.assert_allclose(cap.lights, lights / 2.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(cap.intensities, inten)
    np.testing.assert_array_equal(cap.mask, mask)
    np.testing.assert_array_equal(cap.normals, normals)
    np.testing.assert_array_equal(cap.depth, depth)
    np.testing.assert_array_equal(cap.K, K)
    with pytest.raises(InputError, match="001.png: already exists"):
        write_diligent(tmp_path / "cap", codes / 65535.0, lights, inten, mask)
    write_diligent(tmp_path / "cap", codes / 65535.0, lights, inten, mask, overwrite=True)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(3, 6), h=st.integers(1, 6), w=st.integers(1, 6),
       c=st.sampled_from([1, 3]), bits=st.sampled_from([8, 16]), seed=st.integers(0, 2**31))
def test_property_write_diligent_reads_back_exactly(tmp_path_factory, k, h, w, c, bits, seed):
    rng = np.random.default_rng(seed)
    top = (1 << bits) - 1
    codes = rng.integers(0, top + 1, size=(k, h, w, c))
    lights = _unit(rng, k)
    inten = rng.random((k, c)) + 0.1
    out = tmp_path_factory.mktemp("dil")
    write_diligent(out, codes / top, lights, inten, bit_depth=bits)
    cap = read_diligent(out)
    assert cap.bit_depth == bits and cap.images.shape == (k, h, w, c)
    np.testing.assert_array_equal(np.rint(cap.images * top), codes)
    np.testing.assert_allclose(cap.lights, lights, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(cap.intensities, inten)
    assert cap.mask.all()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(3, 12), seed=st.integers(0, 2**31), count_line=st.booleans(),
       ext=st.sampled_from([".png", ".tif", ".pgm"]))
def test_property_generic_folder_reads_back_exactly(tmp_path_factory, k, seed, count_line,
                                                    ext):
    rng = np.random.default_rng(seed)
    out = tmp_path_factory.mktemp("fold")
    codes = rng.integers(0, 65536, size=(k, 4, 5)).astype(np.uint16)
    # Names that sort differently as text and naturally (img2 before img10).
    for i in range(k):
        assert cv2.imwrite(str(out / f"img{i + 1}{ext}"), codes[i])
    lights = _unit(rng, k) * rng.uniform(0.5, 2.0, size=(k, 1))
    head = f"{k}\n" if count_line else ""
    (out / "lights.txt").write_text(head + "".join(" ".join(repr(float(v)) for v in r) + "\n"
                                                   for r in lights))
    cap = read_capture(out)
    assert cap.meta["layout"] == "folder" and cap.bit_depth == 16
    assert cap.files == [f"img{i + 1}{ext}" for i in range(k)]
    np.testing.assert_array_equal(np.rint(cap.images[..., 0] * 65535), codes)
    norms = np.linalg.norm(lights, axis=1)
    np.testing.assert_allclose(cap.lights, lights / norms[:, None], atol=1e-15)
    np.testing.assert_array_equal(cap.intensities, 1.0)
    scaled = read_folder(out, light_norm_is_intensity=True)
    np.testing.assert_allclose(scaled.intensities[:, 0], norms, rtol=1e-15)


def test_generic_folder_options(tmp_path):
    rng = np.random.default_rng(4)
    for name in ["b.png", "a.png", "c.png"]:
        _write_png16(tmp_path / name, rng.integers(0, 65536, (6, 4, 3), dtype=np.uint16))
    np.savetxt(tmp_path / "lights.txt", _unit(rng, 3))
    np.savetxt(tmp_path / "intensities.txt", [1.0, 2.0, 3.0])
    (tmp_path / "filenames.txt").write_text("c.png\na.png\nb.png\n")
    m = np.zeros((6, 4), np.uint8)
    m[2:4, 1:3] = 255
    cv2.imwrite(str(tmp_path / "mask.png"), m)
    cap = read_folder(tmp_path)
    assert cap.files == ["c.png", "a.png", "b.png"] and cap.mask.sum() == 4
    np.testing.assert_array_equal(cap.intensities, [[1.0] * 3, [2.0] * 3, [3.0] * 3])


def test_declared_bit_depth_headers(tmp_path):
    a16 = np.full((3, 4, 3), 40000, np.uint16)
    for ext in (".png", ".tif", ".ppm"):
        cv2.imwrite(str(tmp_path / f"x{ext}"), a16)
        cv2.imwrite(str(tmp_path / f"y{ext}"), (a16 >> 8).astype(np.uint8))
        assert declared_bit_depth(tmp_path / f"x{ext}") == 16, ext
        assert declared_bit_depth(tmp_path / f"y{ext}") == 8, ext
        img, depth = read_image(tmp_path / f"x{ext}")
        assert depth == 16 and img[0, 0, 0] == np.float32(40000 / 65535)


# -------------------------------------------------------------------------- bad input

def _folder(tmp_path: Path, k: int = 3, size=(6, 5)) -> Path:
    rng = np.random.default_rng(5)
    for i in range(k):
        _write_png16(tmp_path / f"{i:02d}.png",
                     rng.integers(0, 65536, (*size, 3), dtype=np.uint16))
    np.savetxt(tmp_path / "lights.txt", _unit(rng, k))
    return tmp_path


def test_bad_missing_image(tmp_path):
    _folder(tmp_path)
    (tmp_path / "filenames.txt").write_text("00.png\n01.png\n02.png\nmissing.png\n")
    with pytest.raises(InputError, match=r"missing\.png: image file not found"):
        read_capture(tmp_path)


def test_bad_unreadable_image(tmp_path):
    _folder(tmp_path)
    (tmp_path / "01.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(InputError, match=r"01\.png: PNG file cut short or damaged"):
        read_capture(tmp_path)


def test_bad_image_sizes_differ(tmp_path):
    _folder(tmp_path)
    _write_png16(tmp_path / "02.png", np.zeros((7, 5, 3), np.uint16))
    with pytest.raises(InputError, match=r"02\.png: image is 5x7x3 but the other images are 5x6x3"):
        read_capture(tmp_path)


def test_bad_light_count(tmp_path):
    _folder(tmp_path)
    np.savetxt(tmp_path / "lights.txt", _unit(np.random.default_rng(0), 4))
    with pytest.raises(InputError, match=r"lights\.txt: 4 lights for 3 images"):
        read_capture(tmp_path)


def test_bad_zero_light(tmp_path):
    _folder(tmp_path)
    (tmp_path / "lights.txt").write_text("0 0 1\n0 0 0\n0 1 1\n")
    with pytest.raises(InputError, match=r"lights\.txt: light 2 is a zero-length vector"):
        read_capture(tmp_path)


def test_bad_nan_light(tmp_path):
    _folder(tmp_path)
    (tmp_path / "lights.txt").write_text("0 0 1\nnan 0 1\n0 1 1\n")
    with pytest.raises(InputError, match=r"lights\.txt: .*NaN or infinite"):
        read_capture(tmp_path)


def test_bad_nan_image(tmp_path):
    rng = np.random.default_rng(6)
    for i in range(3):
        a = rng.random((4, 4, 3)).astype(np.float32)
        if i == 1:
            a[2, 2, 0] = np.inf
        write_exr(tmp_path / f"{i}.exr", a)
    np.savetxt(tmp_path / "lights.txt", _unit(rng, 3))
    with pytest.raises(InputError, match=r"1\.exr: .*NaN or infinite"):
        read_capture(tmp_path)


def test_bad_empty_mask(tmp_path):
    _folder(tmp_path)
    cv2.imwrite(str(tmp_path / "mask.png"), np.zeros((6, 5), np.uint8))
    with pytest.raises(InputError, match=r"mask\.png: mask is empty"):
        read_capture(tmp_path)


def test_bad_mask_size(tmp_path):
    _folder(tmp_path)
    cv2.imwrite(str(tmp_path / "mask.png"), np.full((5, 5), 255, np.uint8))
    with pytest.raises(InputError, match=r"mask\.png: mask is 5x5 but the images are 5x6"):
        read_capture(tmp_path)
    with pytest.raises(InputError, match="mask.png: mask is 5x5"):
        read_mask(tmp_path / "mask.png", (6, 5))


def test_bad_16bit_decoded_as_8bit(tmp_path, monkeypatch):
    p = tmp_path / "deep.png"
    _write_png16(p, np.full((3, 3, 3), 1000, np.uint16))

    # A decoder that drops to 8 bits, as Pillow and imageio do for 16-bit RGB PNG.
    def lossy_imdecode(data, flags):
        return np.full((3, 3, 3), 4, np.uint8)

    monkeypatch.setattr("lambertian.io.images.cv2.imdecode", lossy_imdecode)
    with pytest.raises(InputError, match=r"deep\.png: .*16-bit.*decoded as 8-bit, refusing"):
        read_image(p)


def test_bad_unknown_layout(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="unknown capture layout: expected a DiLiGenT"):
        read_capture(tmp_path)
    with pytest.raises(InputError, match="no such file or folder"):
        read_capture(tmp_path / "absent")


def test_bad_diligent_count_mismatch(tmp_path):
    rng = np.random.default_rng(7)
    write_diligent(tmp_path, rng.random((3, 4, 4, 3)), _unit(rng, 3))
    np.savetxt(tmp_path / "light_directions.txt", _unit(rng, 2))
    with pytest.raises(InputError, match=r"light_directions\.txt: 2 lights for 3"):
        read_diligent(tmp_path)


def test_bad_writer_values(tmp_path):
    with pytest.raises(InputError, match=r"001\.png: values span"):
        write_diligent(tmp_path / "o", np.full((3, 2, 2), 1.5), _unit(np.random.default_rng(0), 3))
    assert not (tmp_path / "o").exists()  # nothing written when a check fails


def _median_curl(normals: np.ndarray, mask: np.ndarray) -> float:
    """Median |dp/dy - dq/dx| of the gradient field of a normal map (y up, rows down)."""
    nz = np.clip(normals[..., 2], 0.2, None)
    p, q = -normals[..., 0] / nz, -normals[..., 1] / nz
    curl = -np.gradient(p, axis=0) - np.gradient(q, axis=1)
    return float(np.median(np.abs(curl[mask & (normals[..., 2] > 0.3)])))


@pytest.mark.parametrize("which", ["yaleb", "cmu_face"])
def test_face_light_frames_give_integrable_normals(which):
    # Flipping one light axis flips one normal component, which breaks integrability:
    # the frame the reader returns must give the most integrable normals.
    if which == "yaleb":
        cap = read_yaleb(need_data("yaleb", "yaleB01"))
        keep = [i for i, f in enumerate(cap.files)
                if f not in cap.meta["near_black"] and cap.lights[i, 2] > 0.5]
        imgs, L = cap.images[keep], cap.lights[keep]
        mask = np.zeros(cap.shape, bool)
        mask[30:170, 30:140] = True
    else:
        cap = read_cmu_face(need_data("cmu_face"))
        imgs, L = cap.normalized_images(), cap.lights
        g = cap.grey().mean(axis=0)
        mask = g > np.percentile(g, 40)
    curls = [_median_curl(least_squares(imgs, L * s, mask).normals, mask)
             for s in ([1, 1, 1], [1, -1, 1], [-1, 1, 1])]
    assert curls[0] < 0.8 * min(curls[1:]), curls  # measured 0.020 vs 0.038; 0.026 vs 0.036


def test_an_object_folder_taken_out_of_its_set_keeps_its_named_mask(tmp_path):
    """UW psm's chrome folder copied on its own (no ../lights.txt: a generic folder of
    images): chrome.mask.tga is its mask, not a 13th image."""
    import shutil

    src = need_data("psm", "chrome")
    folder = tmp_path / "my_sphere"
    shutil.copytree(src, folder)
    cap = read_capture(folder)
    assert cap.num_images == 12 and "chrome.mask.tga" not in cap.files
    ref = read_capture(src)
    np.testing.assert_array_equal(cap.mask, ref.mask)
