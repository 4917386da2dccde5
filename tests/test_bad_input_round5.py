"""Bad input, fifth round: None where a path is wanted (read_capture, read_image,
relight_file), write_light_json given no light or a folder, read_mask given a shape that
is not (H, W), a LightSet whose ``names`` is one string, photometric stereo on 2- or
4-channel or boolean stacks, and ``batch`` with its output root inside its input root.
Each is an InputError naming the argument or file (from the command line: one line
naming the option, exit 2), and the valid neighbours still give the right answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lambertian
from lambertian.app.photometric_stereo import photometric_stereo
from lambertian.app.relight import relight_file
from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight, LightSet
from lambertian.fit.inputs import read_mask as fit_read_mask
from lambertian.io import images as io_images
from lambertian.io.light_json import read_light_json, write_light_json
from lambertian.scale.batch import run_batch
from lambertian.synth.capture import make_capture, write_capture
from tests.conftest import one_error_line


@pytest.fixture(scope="module")
def synth():
    return make_capture(24, 8, noise=0.002, seed=3)


@pytest.fixture(scope="module")
def world(tmp_path_factory, synth) -> dict:
    root = tmp_path_factory.mktemp("round5")
    cap = write_capture(root / "cap", synth)
    return {"root": root, "cap": cap, "mask": cap / "mask.png", "image": cap / "001.png"}




# ------------------------------------------------------------- None where a path is wanted

@pytest.mark.parametrize("reader", [lambertian.read_capture, io_images.read_image,
                                    lambertian.read_image, lambertian.io.read_image,
                                    relight_file], ids=lambda f: f.__module__ + "." + f.__name__)
@pytest.mark.parametrize("bad", [None, 3, b"cap"])
def test_a_path_that_is_not_a_path_is_named(reader, bad):
    # before: TypeError "expected str, bytes or os.PathLike object" from pathlib
    with pytest.raises(InputError, match=r"^path: .*path is wanted"):
        reader(bad)


def test_the_path_readers_still_read(world):
    assert lambertian.read_capture(world["cap"]).num_images == 8
    img, depth = lambertian.read_image(str(world["image"]))
    assert img.shape == (24, 24, 3) and depth in (8, 16)


# ------------------------------------------------------------------------ write_light_json

@pytest.mark.parametrize("light", [None, {"direction": [0, 0, 1]}, np.array([0, 0, 1.0])])
def test_write_light_json_of_something_not_a_light_names_it(tmp_path, light):
    # before: TypeError "not a light type"
    with pytest.raises(InputError, match=r"^light: .*DirectionalLight or a LightSet"):
        write_light_json(tmp_path / "light.json", light)
    assert not (tmp_path / "light.json").exists()


def test_write_light_json_onto_a_folder_names_it(tmp_path):
    # before: IsADirectoryError
    folder = tmp_path / "lights"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep me")
    with pytest.raises(InputError, match="is a folder") as err:
        write_light_json(folder, DirectionalLight([0, 0, 1], 0.5))
    assert str(folder) in str(err.value)
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    with pytest.raises(InputError, match=r"^path: "):
        write_light_json(None, DirectionalLight([0, 0, 1], 0.5))


def test_write_light_json_still_writes_both_kinds(tmp_path):
    write_light_json(tmp_path / "one.json", DirectionalLight([0, 1, 1], 0.5), sh9=[0.0] * 9)
    assert read_light_json(tmp_path / "one.json").intensity == 0.5
    s = LightSet(np.array([[0, 0, 1.0], [1, 0, 1], [0, 1, 1]]), names=["a", "b", "c"])
    write_light_json(tmp_path / "set.json", s)
    assert read_light_json(tmp_path / "set.json").names == ["a", "b", "c"]
    with pytest.raises(InputError, match=r"^extra: "):  # was a TypeError
        write_light_json(tmp_path / "x.json", s, sh9=[0.0] * 9)


# -------------------------------------------------------------------------------- read_mask

@pytest.mark.parametrize("shape", [(3,), (24, 24, 3), (), 24, "ab", (24.0, 24.0)])
@pytest.mark.parametrize("reader", [io_images.read_mask, fit_read_mask])
def test_read_mask_with_a_shape_that_is_not_h_w_names_it(world, reader, shape):
    # before: IndexError "tuple index out of range" (for (3,))
    with pytest.raises(InputError, match=r"^shape: must be \(H, W\)"):
        reader(world["mask"], shape)


def test_read_mask_with_the_right_shape_or_a_wrong_size(world, synth):
    m = fit_read_mask(world["mask"], (24, 24))
    np.testing.assert_array_equal(m, synth.mask)
    np.testing.assert_array_equal(io_images.read_mask(world["mask"], [24, 24]), synth.mask)
    with pytest.raises(InputError, match="mask is 24x24 but the images are 30x20") as err:
        fit_read_mask(world["mask"], (20, 30))
    assert str(world["mask"]) in str(err.value)


# ---------------------------------------------------------------------------- LightSet names

@pytest.mark.parametrize("names", ["abc", b"abc", 3])
def test_lightset_names_that_are_not_a_list_are_refused(names):
    # before: "abc" silently became the names ["a", "b", "c"]
    with pytest.raises(InputError, match=r"^names: must be a list of 3 names"):
        LightSet(np.array([[0, 0, 1.0], [1, 0, 1], [0, 1, 1]]), names=names)


def test_lightset_names_as_a_list_or_tuple():
    d = np.array([[0, 0, 1.0], [1, 0, 1], [0, 1, 1]])
    assert LightSet(d, names=("x.png", "y.png", "z.png")).names == ["x.png", "y.png", "z.png"]
    assert LightSet(d, names=np.array(["a", "b", "c"])).names == ["a", "b", "c"]


# --------------------------------------------------------------- photometric stereo channels

def _grey(synth) -> np.ndarray:
    return (synth.images / synth.intensities[:, None, None, :]).mean(axis=-1)


@pytest.mark.parametrize("channels", [2, 4])
@pytest.mark.parametrize("as_set", [False, True])
def test_ps_of_2_or_4_channels_is_refused(synth, channels, as_set):
    # before: solved silently, each channel taken for a colour (an alpha as radiance)
    imgs = np.repeat(_grey(synth)[..., None], channels, axis=-1)
    lights = LightSet(synth.lights) if as_set else synth.lights
    with pytest.raises(InputError, match=rf"^my_stack: .*1 \(grey\) or 3 \(RGB\) channels, "
                                         rf"got {channels}"):
        photometric_stereo(imgs, lights, synth.mask, source="my_stack")


@pytest.mark.parametrize("as_set", [False, True])
def test_ps_of_a_boolean_stack_is_refused(synth, as_set):
    # before: solved silently as 0/1 radiance (with a LightSet, after its division)
    imgs = _grey(synth) > 0.3
    lights = LightSet(synth.lights) if as_set else synth.lights
    with pytest.raises(InputError, match=r"^images: .*booleans"):
        photometric_stereo(imgs, lights, synth.mask)


def test_ps_of_1_or_3_channels_still_solves(synth):
    grey = _grey(synth)
    a = photometric_stereo(grey, synth.lights, synth.mask)
    b = photometric_stereo(grey[..., None], synth.lights, synth.mask)
    c = photometric_stereo(np.repeat(grey[..., None], 3, axis=-1), synth.lights, synth.mask)
    assert b.albedo.shape[-1] == 1 and c.albedo.shape[-1] == 3
    m = synth.mask
    np.testing.assert_allclose(a.normals[m], b.normals[m], atol=1e-5)
    np.testing.assert_allclose(a.normals[m], c.normals[m], atol=1e-4)
    err = np.degrees(np.arccos(np.clip((a.normals[m] * synth.normals[m]).sum(-1), -1, 1)))
    assert err.mean() < 5.0
    # 8-bit integer stacks are images too
    u8 = np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8)
    assert photometric_stereo(u8, synth.lights, synth.mask).normals.shape == (24, 24, 3)


# ------------------------------------------------------------------------ batch OUT in ROOT

@pytest.fixture()
def batch_root(tmp_path, synth) -> Path:
    root = tmp_path / "captures"
    write_capture(root / "a", synth)
    write_capture(root / "b", synth)
    return root


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("where", ["results", "a/results", "a"])
def test_batch_out_inside_root_is_refused(batch_root, capsys, where):
    # before: outputs written among (or into) the input captures; a capture folder at
    # OUT/<capture> passed for a finished one and was skipped
    before = _tree(batch_root)
    out = batch_root / where
    line = one_error_line(capsys, ["batch", "ps", batch_root, "--out", out], out)
    assert "--out" in line and "inside the batch root" in line
    assert _tree(batch_root) == before
    with pytest.raises(InputError, match="inside the batch root"):
        run_batch(batch_root, out, progress=False)
    assert _tree(batch_root) == before


def test_batch_of_one_capture_into_its_parent_is_refused(batch_root, capsys):
    # ROOT is itself a capture and OUT its parent: OUT/<capture> is the capture, which
    # exists, so it was reported "skipped" with exit 0 and no output
    cap = batch_root / "a"
    before = _tree(batch_root)
    line = one_error_line(capsys, ["batch", "ps", cap, "--out", batch_root], batch_root)
    assert "--out" in line and "the capture itself" in line
    assert _tree(batch_root) == before
