"""Real camera input: sRGB JPEG linearised, EXIF orientation, RAW errors, computed masks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from lambertian.core.errors import InputError
from lambertian.core.metrics import angular_error_deg
from lambertian.io import read_capture, read_image
from lambertian.io.camera_files import check_encoding, linear_to_srgb, srgb_to_linear
from lambertian.synth.capture import write_camera_folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from lambertian.synth.capture import make_capture

    root = tmp_path_factory.mktemp("camera")
    scene = make_capture(size=64, num_lights=12, seed=3)
    for kind in ("png16", "jpeg"):
        write_camera_folder(root / kind, scene, kind)
    write_camera_folder(root / "nomask", scene, "png16", mask=False)
    return root, scene


def test_srgb_jpeg_capture_gives_the_normals_of_the_linear_16bit_capture(demo):
    from lambertian.app import photometric_stereo

    root, scene = demo
    ref = photometric_stereo(read_capture(root / "png16"), method="ls")
    jpg = read_capture(root / "jpeg")  # default: JPEG is sRGB, linearised
    assert jpg.bit_depth == 8 and jpg.meta["encoding"] == "auto"
    res = photometric_stereo(jpg, method="ls")
    m = scene.mask
    diff = angular_error_deg(res.normals[m], ref.normals[m])
    assert diff.mean() < 0.5
    # read as if linear (the old behaviour), the same files are degrees off
    raw = photometric_stereo(read_capture(root / "jpeg", encoding="linear"), method="ls")
    assert angular_error_deg(raw.normals[m], ref.normals[m]).mean() > 5 * diff.mean()


def test_srgb_curve_inverts_the_forward_curve_and_gamma_is_checked():
    v = np.linspace(0, 1, 1001)
    assert np.abs(srgb_to_linear(linear_to_srgb(v)) - v).max() < 1e-6
    assert check_encoding(2.2) == 2.2
    for bad in (1.0, 3.0, 0.5, "rec709"):
        with pytest.raises(InputError):
            check_encoding(bad)


def test_cli_gamma_outside_range_is_a_one_line_error(demo, tmp_path, capsys):
    from lambertian.cli.main import main

    root, _ = demo
    assert main(["ps", str(root / "jpeg"), "--gamma", "3.5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "gamma 3.5 is outside (1, 3)" in err and "\n" not in err


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_opencv_applies_it(tmp_path, orientation):
    rng = np.random.default_rng(orientation)
    rgb = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "o.jpg"
    im.save(path, exif=exif.tobytes(), quality=95)
    ours, _ = read_image(path)
    upright = cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]  # OpenCV applies EXIF
    assert ours.shape == upright.shape
    assert np.array_equal(np.rint(ours * 255).astype(np.uint8), upright)


def test_orientations_that_differ_within_a_capture_are_an_error(tmp_path):
    for k, o in enumerate((1, 1, 6)):
        im = Image.fromarray(np.full((8, 8, 3), 100, np.uint8))
        exif = im.getexif()
        exif[0x0112] = o
        im.save(tmp_path / f"{k}.jpg", exif=exif.tobytes())
    np.savetxt(tmp_path / "lights.txt", np.eye(3))
    with pytest.raises(InputError, match=r"2\.jpg: EXIF orientation 6 differs from 0\.jpg's"):
        read_capture(tmp_path)


def test_raw_that_cannot_be_decoded_and_raw_mixed_with_jpeg_are_errors(tmp_path, capsys):
    pytest.importorskip("rawpy")
    from lambertian.cli.main import main

    bad = tmp_path / "a.dng"
    bad.write_bytes(b"II*\x00not really a raw file" * 10)
    with pytest.raises(InputError, match=r"a\.dng: cannot decode the RAW file"):
        read_image(bad)
    Image.fromarray(np.full((8, 8, 3), 100, np.uint8)).save(tmp_path / "b.jpg")
    np.savetxt(tmp_path / "lights.txt", np.eye(2, 3))
    with pytest.raises(InputError, match="mixes RAW and non-RAW images"):
        read_capture(tmp_path)
    assert main(["ps", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "mixes RAW and non-RAW" in err and "\n" not in err


def test_folder_without_mask_gets_one_from_the_images_and_says_so(demo, capsys, tmp_path):
    from lambertian.cli.main import main

    root, scene = demo
    cap = read_capture(root / "nomask")
    inter = (cap.mask & scene.mask).sum()
    union = (cap.mask | scene.mask).sum()
    assert inter / union > 0.95
    assert "mask computed from the images" in cap.meta["mask_note"]
    assert main(["ps", str(root / "nomask"), "--method", "ls", "--out", str(tmp_path)]) == 0
    assert "mask computed from the images" in capsys.readouterr().out


def test_raw_files_are_read_linear_16bit_through_libraw(tmp_path, monkeypatch):
    """Our side of the RAW path with LibRaw replaced by a stand-in (no small RAW file can
    be generated here): linear 16-bit postprocessing is asked for, the samples are scaled
    by 65535 and never linearised again, and the folder reader takes RAW files."""
    rawpy = pytest.importorskip("rawpy")
    asked = {}
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 65536, (6, 9, 3), dtype=np.uint16) for _ in range(3)]

    class FakeRaw:
        def __init__(self, path):
            self.k = int(Path(path).stem)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def postprocess(self, **kw):
            asked.update(kw)
            return frames[self.k]

    monkeypatch.setattr(rawpy, "imread", FakeRaw)
    for k in range(3):
        (tmp_path / f"{k}.nef").write_bytes(b"raw")
    np.savetxt(tmp_path / "lights.txt", np.eye(3))
    cap = read_capture(tmp_path, encoding="srgb")  # RAW is linear whatever is asked
    assert asked["gamma"] == (1, 1) and asked["output_bps"] == 16
    assert asked["no_auto_bright"] is True
    assert cap.bit_depth == 16 and cap.images.shape == (3, 6, 9, 3)
    assert np.allclose(cap.images[2], frames[2] / 65535.0, rtol=0, atol=1e-7)  # no curve
