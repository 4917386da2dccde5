"""Bad input, third fuzz round: a capture folder with two mask files, one negated float
image among normal ones, a LightSet with intensities of the wrong shape, coplanar lights
under ``ps --stream``, a 5-channel ``integrate --albedo`` and ``bench`` on a folder with
no captures. Each is one line naming the file, folder or option, exit 2 (or, from
Python, an InputError naming it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from lambertian.core.errors import InputError
from lambertian.io import read_capture
from lambertian.synth.capture import make_capture, write_camera_folder, write_capture
from tests.conftest import one_error_line


@pytest.fixture(scope="module")
def synth():
    return make_capture(24, 8, noise=0.002, seed=3)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, synth) -> Path:
    """A generic capture folder (lights.txt, intensities.txt, mask.png, 8 PNGs)."""
    return write_camera_folder(tmp_path_factory.mktemp("round3") / "cap", synth)


@pytest.fixture(scope="module")
def diligent(tmp_path_factory, synth) -> Path:
    """The same capture in the DiLiGenT layout (light_directions.txt, mask.png)."""
    return write_capture(tmp_path_factory.mktemp("round3") / "dil", synth)


def _copy(src: Path, tmp_path: Path) -> Path:
    cap = tmp_path / src.name
    shutil.copytree(src, cap)
    return cap




# ------------------------------------------------------------------- two mask files

@pytest.mark.parametrize("second", ["mask.jpg", "cap_mask.png", "cap.mask.tga"])
@pytest.mark.parametrize("stream", [False, True])
def test_two_mask_files_are_refused_naming_both(folder, tmp_path, capsys, second, stream):
    # before: the first by name was used and the other silently ignored
    cap = _copy(folder, tmp_path)
    shutil.copy(cap / "mask.png", cap / second)
    line = one_error_line(capsys, ["ps", cap, "--method", "ls", "--out", tmp_path / "out",
                              *(["--stream"] if stream else [])], cap)
    assert "two mask files" in line and "mask.png" in line and second in line
    assert not (tmp_path / "out").exists()


def test_two_object_named_masks_are_refused(folder, tmp_path):
    # before: two <object>_mask files gave no mask at all (computed from the images)
    cap = _copy(folder, tmp_path)
    (cap / "mask.png").rename(cap / "a_mask.png")
    shutil.copy(cap / "a_mask.png", cap / "b-mask.png")
    with pytest.raises(InputError, match="two mask files: a_mask.png and b-mask.png") as err:
        read_capture(cap)
    assert err.value.source == str(cap)


def test_one_mask_file_of_any_accepted_name_is_still_read(folder, tmp_path):
    cap = _copy(folder, tmp_path)
    (cap / "mask.png").rename(cap / "cap.mask.png")
    assert read_capture(cap).mask.sum() == read_capture(folder).mask.sum()


def test_a_diligent_folder_with_a_second_mask_is_refused(diligent, tmp_path, capsys):
    cap = _copy(diligent, tmp_path)
    shutil.copy(cap / "mask.png", cap / "mask.jpg")
    line = one_error_line(capsys, ["ps", cap, "--method", "ls", "--out", tmp_path / "out"], cap)
    assert "mask.jpg" in line and "mask.png" in line


# ------------------------------------------------------------- one negated float image

def _float_tiffs(folder: Path, tmp_path: Path, change) -> Path:
    """The capture as 32-bit float TIFFs, ``change(k, image)`` applied to each."""
    cap = _copy(folder, tmp_path)
    for k, p in enumerate(sorted(cap.glob("0*.png"))):
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED).astype(np.float32) / 65535
        cv2.imwrite(str(p.with_suffix(".tif")), change(k, img))
        p.unlink()
    return cap


@pytest.mark.parametrize("stream", [False, True])
def test_one_negated_float_image_is_named(folder, tmp_path, capsys, stream):
    # before: "<capture>: values from -0.88 to 0.87: ..." (the folder, not the image)
    cap = _float_tiffs(folder, tmp_path, lambda k, a: -a if k == 2 else a)
    line = one_error_line(capsys, ["ps", cap, "--method", "ls", "--out", tmp_path / "out",
                              *(["--stream"] if stream else [])], cap / "002.tif")
    assert "negative" in line
    with pytest.raises(InputError) as err:
        read_capture(cap)
    assert err.value.source == str(cap / "002.tif")


def test_float_images_with_dark_frame_noise_below_zero_are_read(folder, tmp_path):
    # a dark-frame subtraction leaves small negative values: valid linear data
    rng = np.random.default_rng(0)
    cap = _float_tiffs(folder, tmp_path,
                       lambda k, a: a + rng.normal(0, 0.003, a.shape).astype(np.float32))
    assert read_capture(cap).images.min() < 0


# ------------------------------------------------------------------------ LightSet

@pytest.mark.parametrize("field, value", [("intensities", np.ones(5)),
                                          ("intensities", np.ones((8, 3))),
                                          ("ambient", np.zeros(2))])
def test_lightset_with_a_wrongly_shaped_field_is_an_input_error(field, value):
    from lambertian.core.light import LightSet

    # before: a plain ValueError
    with pytest.raises(InputError, match=f"{field}: must have 8 values") as err:
        LightSet(np.tile([0.0, 0.0, 1.0], (8, 1)), **{field: value})
    assert err.value.source == field


# ------------------------------------------------------------ ps --stream, coplanar lights

@pytest.mark.parametrize("layout, light_file", [("folder", "lights.txt"),
                                                ("diligent", "light_directions.txt")])
def test_streamed_coplanar_lights_name_the_light_file(request, tmp_path, capsys, layout,
                                                      light_file):
    cap = _copy(request.getfixturevalue(layout), tmp_path)
    a = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    coplanar = np.c_[0.5 * np.cos(a), np.zeros(8), 0.8 + 0.2 * np.sin(a)]  # all y = 0
    np.savetxt(cap / light_file, coplanar)
    for stream in ([], ["--stream"]):  # before: --stream named the capture folder
        line = one_error_line(capsys, ["ps", cap, "--method", "ls", "--out", tmp_path / "out",
                                  *stream], cap / light_file)
        assert "coplanar" in line


# ------------------------------------------------------------------ integrate --albedo

@pytest.mark.parametrize("channels", [2, 5])
def test_integrate_albedo_of_other_than_1_or_3_channels_is_refused(synth, tmp_path, capsys,
                                                                   channels):
    normals = tmp_path / "normals.npy"
    np.save(normals, synth.normals.astype(np.float32))
    albedo = tmp_path / "albedo.npy"
    np.save(albedo, np.ones((*synth.normals.shape[:2], channels), np.float32))
    # before: 5 channels accepted (the first three taken as RGB); 2 a traceback
    line = one_error_line(capsys, ["integrate", normals, "--albedo", albedo, "--out",
                              tmp_path / "out"], albedo)
    assert f"{channels} channels" in line
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ bench, no captures

@pytest.mark.parametrize("suite", ["ps", "lights", "integrate"])
def test_bench_on_a_folder_without_captures_is_refused(tmp_path, capsys, suite):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "bench.md"
    # before: "(no rows)" written to bench.md, exit 0
    line = one_error_line(capsys, ["bench", "--suite", suite, "--data", empty, "--out", out], empty)
    assert "no captures found" in line
    assert not out.exists() and not out.with_suffix(".json").exists()
