"""Bad input, fourth fuzz round: output names (a file --out with a trailing slash, names
longer than the file system takes), demo and spheres sizes that cannot run, spheres gif
options that failed after the training, a $LAMBERTIAN_DATA that is not a folder, a
chrome sphere with two highlights, a UW psm object folder copied without the set's
lights.txt, HDR and 16-bit arrays given to ``light_of_image``, Python calls with None,
scalars or strings where arrays are wanted, options that would go unused (lights
--method without --ps, train-light's faces options with objects) and batch's message
for a capture without lights. Each is one line naming the file or option, exit 2 (or,
from Python, an InputError naming it), or, for the valid neighbours, the right answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from lambertian.app.light_of_image import light_of_image
from lambertian.app.photometric_stereo import photometric_stereo
from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight, LightSet
from lambertian.io import read_capture
from lambertian.synth.capture import make_capture, write_capture
from tests.conftest import one_error_line

# Angle within which two runs on the same data count as the same answer.
SAME_DEG = 0.05


@pytest.fixture(scope="module")
def synth():
    return make_capture(24, 8, noise=0.002, seed=3)


@pytest.fixture(scope="module")
def world(tmp_path_factory, synth) -> dict:
    root = tmp_path_factory.mktemp("round4")
    cap = write_capture(root / "cap", synth)
    np.save(root / "normals.npy", synth.normals.astype(np.float32))
    return {"root": root, "cap": cap, "image": cap / "001.png",
            "normals": root / "normals.npy"}




def _angle(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b),
                                              -1, 1))))


# ------------------------------------------------------------------------ output names

def test_a_file_output_with_a_trailing_slash_is_refused(world, tmp_path, capsys):
    # before: "--out new/" wrote a light JSON file named "new", exit 0
    out = f"{tmp_path / 'new'}/"
    line = one_error_line(capsys, ["light", world["image"], "--normals", world["normals"],
                              "--out", out], out)
    assert "slash" in line
    assert not (tmp_path / "new").exists()
    ptm = f"{tmp_path / 'model'}/"
    line = one_error_line(capsys, ["relight", world["cap"], "--out", tmp_path / "viewer",
                              "--ptm", ptm], ptm)
    assert not (tmp_path / "model").exists() and not (tmp_path / "viewer").exists()


@pytest.mark.parametrize("command", ["ps", "integrate", "light"])
def test_an_output_name_too_long_for_the_file_system_isone_error_line(world, tmp_path, capsys,
                                                                 command):
    # before: "unexpected OSError: [Errno 36] File name too long"
    long = "x" * 300
    argv = {"ps": ["ps", world["cap"], "--method", "ls", "--out", tmp_path / long],
            "integrate": ["integrate", world["normals"], "--out", tmp_path / long / "depth"],
            "light": ["light", world["image"], "--normals", world["normals"], "--out",
                      tmp_path / f"{long}.json"]}[command]
    line = one_error_line(capsys, argv, "too long for the file system")
    assert str(tmp_path) in line
    assert list(tmp_path.iterdir()) == []


def test_a_name_that_only_its_temporary_sibling_would_overflow_is_refused(world, tmp_path,
                                                                           capsys):
    # 250 bytes fit a name, not ".<name>.tmp-12345678" beside it: refused, writing nothing
    out = tmp_path / ("y" * 250)
    one_error_line(capsys, ["ps", world["cap"], "--method", "ls", "--out", out], out)
    assert list(tmp_path.iterdir()) == []
    ok = tmp_path / ("z" * 200)  # a long name that fits is written
    assert main(["ps", str(world["cap"]), "--method", "ls", "--out", str(ok)]) == 0
    assert (ok / "normals.npy").is_file()


# ---------------------------------------------------------------- demo, spheres sizes

@pytest.mark.parametrize("argv, culprit", [(["--lights", "3"], "--lights"),
                                           (["--lights", "5"], "--lights"),
                                           (["--size", "8"], "--size")])
def test_demo_options_it_cannot_run_are_refused_before_any_work(tmp_path, capsys, argv,
                                                                culprit):
    # before: --lights 3 passed the check, rendered, solved with ls, robust, shadow_aware,
    # then failed at the network ("3 lights: the network needs at least 6")
    out = tmp_path / "demo"
    line = one_error_line(capsys, ["demo", "--out", out, *argv], culprit)
    assert line.startswith(f"lambertian demo: error: {culprit}: must be at least")
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--resolution", "100000", "--n-spheres", "2"],
                                  ["--n-spheres", "100000000"]])
def test_spheres_larger_than_memory_areone_error_line(tmp_path, capsys, argv):
    # before: "unexpected MemoryError: Unable to allocate 149. GiB ..."
    out = tmp_path / "r.json"
    line = one_error_line(capsys, ["spheres", "train", "--n-epochs", "1", "--results-json", out,
                              *argv], "--n-spheres/--resolution")
    assert "GB are available" in line
    assert not out.exists()


# ------------------------------------------------------------------- $LAMBERTIAN_DATA

@pytest.mark.parametrize("kind", ["file", "missing"])
def test_lambertian_data_that_is_not_a_folder_is_named(world, tmp_path, capsys, monkeypatch,
                                                       kind):
    from lambertian.io.data_root import data_root

    target = world["normals"] if kind == "file" else tmp_path / "nowhere"
    monkeypatch.setenv("LAMBERTIAN_DATA", str(target))
    out = tmp_path / "bench.md"
    # before: silently ignored, and the bench ran on ../shared/data instead, exit 0
    line = one_error_line(capsys, ["bench", "--suite", "integrate", "--out", out],
                     "$LAMBERTIAN_DATA")
    assert str(target) in line and "not a folder" in line
    assert not out.exists()
    with pytest.raises(InputError, match="not a folder") as err:
        data_root(strict=True)
    assert err.value.source == "$LAMBERTIAN_DATA"
    data_root()  # tests and benchmarks keep their fallback (or None): no error


# ------------------------------------------------------------------------ chrome sphere

def _chrome_folder(root: Path, spots: list[list[tuple[int, int]]]) -> Path:
    """A generic folder of 16-bit grey images of a 'mirror sphere' (a dim disc) with the
    highlights ``spots[k]`` (row, column) in image k, and its disc mask."""
    size, c, r = 64, 32, 24
    yy, xx = np.mgrid[0:size, 0:size]
    disc = (yy - c) ** 2 + (xx - c) ** 2 <= r * r
    folder = root / "chrome"
    folder.mkdir(parents=True)
    for k, image_spots in enumerate(spots):
        img = np.where(disc, 0.03, 0.0)
        for row, col in image_spots:
            img = img + 0.9 * np.exp(-((yy - row) ** 2 + (xx - col) ** 2) / 3.0)
        cv2.imwrite(str(folder / f"{k:03d}.png"),
                    (np.clip(img * disc, 0, 1) * 65535).astype(np.uint16))
    cv2.imwrite(str(folder / "mask.png"), disc.astype(np.uint8) * 255)
    return folder


def test_a_chrome_image_with_two_highlights_is_refused_naming_it(tmp_path, capsys):
    one = [[(24, 30)], [(32, 40)], [(38, 26)], [(28, 22)]]
    good = _chrome_folder(tmp_path / "a", one)
    out = tmp_path / "lights"
    assert main(["calibrate", str(good), "--out", str(out)]) == 0
    two = [list(s) for s in one]
    two[2] = [(38, 26), (22, 40)]  # a second lamp (or a window) as bright as the light
    bad = _chrome_folder(tmp_path / "b", two)
    # before: the first blob found was taken as the light, exit 0
    line = one_error_line(capsys, ["calibrate", bad, "--out", tmp_path / "out"], bad / "002.png")
    assert "2 separate highlights" in line
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ psm without lights

def _psm_object(root: Path, synth, name: str = "obj") -> Path:
    """``synth`` as a UW psm object folder (8-bit TGA, <obj>.mask.tga) with no lights.txt
    beside it, as when the folder is copied out of the set."""
    folder = root / name
    folder.mkdir(parents=True)
    img = synth.images / synth.images.max()
    for k, im in enumerate(img):
        Image.fromarray((im * 255).round().astype(np.uint8)).save(folder / f"{name}.{k}.tga")
    Image.fromarray(np.repeat(synth.mask[..., None].astype(np.uint8) * 255, 3, -1)).save(
        folder / f"{name}.mask.tga")
    return folder


def test_a_psm_object_without_the_sets_light_file_has_unknown_lights(synth, tmp_path,
                                                                     capsys):
    obj = _psm_object(tmp_path / "psm", synth)
    # before: "lights.txt: light file not found" from `lights` (which estimates them)
    out = tmp_path / "lights"
    assert main(["lights", str(obj), "--out", str(out)]) == 0
    assert (out / "lights.json").is_file()
    assert np.isnan(read_capture(obj).lights).all()
    # ps needs them, and says so naming the folder
    line = one_error_line(capsys, ["ps", obj, "--out", tmp_path / "ps"], obj)
    assert "lights of these images are unknown" in line
    # a psm set's own lights.txt is still read and checked
    lights_txt = tmp_path / "psm" / "lights.txt"
    lights_txt.write_text(f"{len(synth.lights)}\n" +
                          "".join(f"{x} {y} {z}\n" for x, y, z in synth.lights))
    np.testing.assert_allclose(read_capture(obj).lights, synth.lights, atol=1e-6)
    lights_txt.write_text("2\n0 0 1\n0 1 1\n")
    with pytest.raises(InputError) as err:
        read_capture(obj)
    assert err.value.source == str(lights_txt)


# ------------------------------------------------------------ light_of_image's arrays

def test_light_of_image_takes_16_bit_and_hdr_arrays(synth, world, tmp_path, capsys):
    img = synth.images[0]
    ref = light_of_image(img, normals=synth.normals)
    # before: uint16 values were all "saturated" (>= 0.99): "only 0 lit pixels"
    u16 = light_of_image((img / img.max() * 65535).round().astype(np.uint16),
                         normals=synth.normals)
    assert _angle(u16.direction, ref.direction) < SAME_DEG
    # before: an HDR image (values above 1) lost its lit pixels the same way
    hdr = light_of_image(img * 10, normals=synth.normals)
    assert _angle(hdr.direction, ref.direction) < SAME_DEG
    assert hdr.intensity == pytest.approx(10 * ref.intensity, rel=1e-3)
    # and from a float TIFF on the command line
    tif = tmp_path / "hdr.tif"
    cv2.imwrite(str(tif), np.ascontiguousarray((img * 10)[..., ::-1]).astype(np.float32))
    out = tmp_path / "light.json"
    assert main(["light", str(tif), "--normals", str(world["normals"]), "--out",
                 str(out)]) == 0
    assert out.is_file()


@pytest.mark.parametrize("image", [None, np.array(0.5), "photo.png"])
def test_light_of_image_refuses_what_is_not_an_image(synth, image):
    # before: IndexError "too many indices for array"
    for kw in ({"normals": synth.normals}, {"model": "objects"}):
        with pytest.raises(InputError, match="H x W") as err:
            light_of_image(image, **kw)
        assert err.value.source == "image"


def test_light_of_image_refuses_a_model_that_is_not_a_name(synth):
    # before: TypeError "expected str, bytes or os.PathLike object, not int"
    with pytest.raises(InputError, match="weights file expected") as err:
        light_of_image(synth.images[0], model=3)
    assert err.value.source == "model"


# ------------------------------------------------------------- photometric_stereo's

@pytest.mark.parametrize("images", [None, np.array(1.0), "my_object"])
def test_photometric_stereo_refuses_what_is_not_images(synth, images):
    # before: TypeError "len() of unsized object"
    with pytest.raises(InputError, match="K x H x W") as err:
        photometric_stereo(images, LightSet(synth.lights), synth.mask, method="ls")
    assert err.value.source == "images"


# ------------------------------------------------------------------ the light types

@pytest.mark.parametrize("kwargs, field", [
    ({"direction": [0, 0, 0]}, "direction"),
    ({"direction": [0, np.nan, 1]}, "direction"),
    ({"direction": [0, 1]}, "direction"),
    ({"direction": None}, "direction"),
    ({"direction": "up"}, "direction"),
    ({"direction": [0, 0, 1], "intensity": float("nan")}, "intensity"),
    ({"direction": [0, 0, 1], "intensity": "bright"}, "intensity"),
    ({"direction": [0, 0, 1], "intensity": np.ones(3)}, "intensity"),
    ({"direction": [0, 0, 1], "ambient": float("inf")}, "ambient"),
    ({"direction": [0, 0, 1], "ambient": None}, "ambient"),
])
def test_directional_light_with_bad_values_is_an_input_error(kwargs, field):
    # before: plain ValueError / TypeError, or NaN and inf kept (and written to JSON)
    with pytest.raises(InputError) as err:
        DirectionalLight(**kwargs)
    assert err.value.source == field


@pytest.mark.parametrize("directions", ["abc", np.eye(3) * 1j,
                                        np.array([[0, 0, 1], [0, "a", 1]], dtype=object)])
def test_light_set_of_non_numbers_is_an_input_error(directions):
    # before: ValueError "could not convert string to float", or complex -> NaN rows
    with pytest.raises(InputError, match="real numbers") as err:
        LightSet(directions)
    assert err.value.source == "directions"


def test_light_types_still_take_lists_tensors_and_unknown_lights():
    import torch

    assert DirectionalLight(torch.tensor([0.0, 0.0, 2.0]), intensity=torch.tensor(0.5)
                            ).direction.tolist() == [0.0, 0.0, 1.0]
    s = LightSet([[0, 0, 1], [np.nan] * 3], intensities=[1.0, np.nan])
    assert s.known.tolist() == [True, False] and s[1] is None



# ------------------------------------------------------- options that would go unused

def test_light_reads_the_normal_png_that_ps_writes(world, tmp_path):
    # before: "not a valid normal map file: not a NumPy .npy array" (integrate reads it)
    ps_out = tmp_path / "ps"
    assert main(["ps", str(world["cap"]), "--method", "ls", "--out", str(ps_out)]) == 0
    lights = []
    for normals in ("normal.png", "normals.npy"):
        out = tmp_path / f"{normals}.json"
        assert main(["light", str(world["image"]), "--normals", str(ps_out / normals),
                     "--out", str(out)]) == 0
        lights.append(DirectionalLight.from_dict(json.loads(out.read_text())))
    assert _angle(lights[0].direction, lights[1].direction) < 0.5  # 16-bit quantised


def test_lights_method_without_ps_is_refused(world, tmp_path, capsys):
    # before: --method was silently unused without --ps
    out = tmp_path / "lights"
    one_error_line(capsys, ["lights", world["cap"], "--method", "net", "--out", out], "--method")
    assert not out.exists()


@pytest.mark.parametrize("option", ["--data", "--backbone", "--cache"])
def test_train_light_faces_options_with_objects_are_refused(world, tmp_path, capsys, option):
    # before: silently unused, and the objects model trained for minutes
    out = tmp_path / "objects.pt"
    one_error_line(capsys, ["train-light", "--model", "objects", option, world["cap"], "--out",
                       out], option)
    assert not out.exists()


def test_train_light_cache_that_is_a_file_is_refused(world, tmp_path, capsys):
    out = tmp_path / "faces.pt"
    one_error_line(capsys, ["train-light", "--model", "faces", "--cache", world["normals"],
                       "--out", out], world["normals"])
    assert not out.exists()


@pytest.mark.parametrize("option, value", [("--fps", "0"), ("--fps", "-1"), ("--dpi", "0"),
                                           ("--dpi", "100000"), ("--snapshot-every", "-5")])
def test_spheres_gif_options_are_checked_before_training(tmp_path, capsys, option, value):
    # before: after the training, "unexpected ZeroDivisionError" (--fps 0), OverflowError
    # (--fps -1), IndexError (--dpi 0 or 100000); a negative --snapshot-every ran
    out = tmp_path / "train.gif"
    line = one_error_line(capsys, ["spheres", "gif", "--model", "perpixel", "--n-spheres", "2",
                              "--n-test-spheres", "2", "--n-epochs", "1", "--resolution", "8",
                              option, value, "--out", out], option)
    assert "must be" in line
    assert not out.exists()


def test_batch_names_a_capture_without_lights_as_ps_does(world, tmp_path, capsys):
    root = tmp_path / "root"
    shutil.copytree(world["cap"], root / "good")
    plain = root / "plain"  # one's own photos, no light file
    plain.mkdir()
    for f in world["cap"].glob("00*.png"):
        shutil.copy(f, plain / f.name)
    shutil.copy(world["cap"] / "mask.png", plain / "mask.png")
    # before: "light 1 is non-finite (holds NaN or infinite values)"
    capsys.readouterr()
    rc = main(["batch", "ps", str(root), "--method", "ls", "--out", str(tmp_path / "out")])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert rc == 2 and len(lines) == 1, lines
    assert f"{plain}: the lights of these images are unknown" in lines[0]
    assert (tmp_path / "out" / "good" / "normals.npy").is_file()  # the others still ran
