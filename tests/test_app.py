"""The application layer and the front door: one light family, lazy imports, thin CLI."""

from __future__ import annotations

import ast
import doctest
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight, LightSet
from lambertian.core.metrics import angular_error_deg
from lambertian.io.light_json import read_light_json, write_light_json
from tests.conftest import need_data

SRC = Path(__file__).resolve().parents[1] / "src" / "lambertian"


def test_import_and_cli_parser_do_not_load_torch():
    """``import lambertian``, the core, the application layer and every command's parser
    (what --help builds) stay torch-free; torch loads with the first real work."""
    code = ("import sys, lambertian, lambertian.core, lambertian.app, lambertian.cli.main as m\n"
            "from lambertian.ps import METHODS, DEFAULT_METHOD\n"
            "m.build_parser()\n"
            "lambertian.photometric_stereo, lambertian.capture_lights\n"
            "print([k for k in ('torch', 'matplotlib', 'dask') if k in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_every_cli_run_is_at_most_40_lines():
    for f in sorted((SRC / "cli").glob("*.py")):
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("run"):
                assert node.end_lineno - node.lineno + 1 <= 40, f"{f.name}: {node.name}"


@pytest.mark.parametrize("module", ["lambertian", "lambertian.core.light",
                                    "lambertian.io.light_json",
                                    "lambertian.app.photometric_stereo", "lambertian.app.lights",
                                    "lambertian.app.light_of_image", "lambertian.app.integrate",
                                    "lambertian.core.grey", "lambertian.io.camera_files",
                                    "lambertian.io.mask_from_images"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_light_json_round_trips_exactly(tmp_path):
    one = DirectionalLight([0.3, -0.2, 0.9], 0.7, 0.05, 2.5, {"model": "faces", "kappa": 40.0})
    write_light_json(tmp_path / "one.json", one)
    back = read_light_json(tmp_path / "one.json")
    assert isinstance(back, DirectionalLight)
    assert np.array_equal(back.direction, one.direction)
    assert (back.intensity, back.ambient, back.uncertainty_deg) == (0.7, 0.05, 2.5)
    assert back.notes == {"model": "faces", "kappa": 40.0}
    d = np.array([[0, 0, 1], [np.nan] * 3, [0.6, 0, 0.8]])
    lights = LightSet(d, [1.0, np.nan, 0.5], [0.0, np.nan, 0.1], names=["a", "b", "c"])
    write_light_json(tmp_path / "set.json", lights)
    rows = json.loads((tmp_path / "set.json").read_text())
    assert rows[1] == {"file": "b", "direction": None, "intensity": None, "ambient": None}
    back = read_light_json(tmp_path / "set.json")
    assert isinstance(back, LightSet) and back.names == ["a", "b", "c"]
    assert np.array_equal(back.known, [True, False, True])
    assert np.array_equal(back.directions[back.known], lights.directions[lights.known])
    assert back[2].intensity == 0.5 and back[2].ambient == 0.1 and back[1] is None


def test_light_json_bad_files_are_one_line_errors(tmp_path):
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(InputError, match=r"a\.json: not JSON"):
        read_light_json(tmp_path / "a.json")
    (tmp_path / "b.json").write_text('{"intensity": 1}')
    with pytest.raises(InputError, match=r"b\.json: not a light file"):
        read_light_json(tmp_path / "b.json")


def test_light_set_from_lights_keeps_unknown_lights_unknown():
    a = DirectionalLight([0, 0, 1], 0.5, uncertainty_deg=3.0)
    s = LightSet.from_lights([a, None], names=["x", "y"], method="learned")
    assert s.known.tolist() == [True, False] and s.uncertainty_deg[0] == 3.0
    assert s[0].uncertainty_deg == 3.0 and s[0].notes == {"file": "x"}
    with pytest.raises(ValueError, match="K x 3"):
        LightSet(np.zeros(3))


def test_photometric_stereo_takes_a_light_set_and_drops_unknown_lights():
    from lambertian.app import photometric_stereo
    from lambertian.synth.capture import make_capture

    scene = make_capture(size=32, num_lights=10, noise=0.0, seed=1)
    grey = scene.images.mean(-1, keepdims=True)
    inten = scene.intensities.mean(-1)
    dirs = scene.lights.copy()
    dirs[3] = np.nan  # an image whose light was not found: left out, not guessed
    lights = LightSet(dirs, inten)
    res = photometric_stereo(grey, lights, scene.mask, method="ls")
    ref = photometric_stereo(np.delete(grey, 3, 0) / np.delete(inten, 3)[:, None, None, None],
                             np.delete(scene.lights, 3, 0), scene.mask, method="ls")
    assert np.allclose(res.normals, ref.normals, atol=1e-6)
    with pytest.raises(InputError, match="--method"):
        photometric_stereo(grey, lights, scene.mask, method="nope")


def test_every_registered_ps_method_runs_through_the_app():
    """The registry is the one list: the app solves with each (shadow_aware included)."""
    from lambertian.app import photometric_stereo
    from lambertian.ps import DEFAULT_METHOD, METHODS
    from lambertian.synth.capture import make_capture

    assert "shadow_aware" in METHODS and DEFAULT_METHOD in METHODS
    scene = make_capture(size=24, num_lights=8, noise=0.0, seed=2)
    images = scene.images / scene.intensities[:, None, None, :]
    inner = scene.mask & ~scene.cast_shadow.any(0)
    for method in METHODS:
        res = photometric_stereo(images, scene.lights, scene.mask, method=method)
        err = angular_error_deg(res.normals[inner], scene.normals[inner])
        # the learned solver approximates the exact Lambertian inverse (a few degrees)
        assert np.median(err) < (3.0 if method == "net" else 1.0), (method, np.median(err))


def test_batch_ps_defaults_to_what_ps_defaults_to():
    from lambertian.cli.main import build_parser
    from lambertian.ps import DEFAULT_METHOD

    p = build_parser()
    assert p.parse_args(["ps", "x"]).method == DEFAULT_METHOD
    assert p.parse_args(["batch", "ps", "x", "--out", "y"]).method == DEFAULT_METHOD


def test_old_command_names_are_aliases():
    from lambertian.cli.main import build_parser

    p = build_parser()
    new = p.parse_args(["light-of-image", "i.png", "--model", "faces"])
    old = p.parse_args(["light", "i.png", "--model", "faces"])
    assert new.func is old.func


def test_light_of_image_needs_exactly_one_source():
    from lambertian.app import light_of_image
    from lambertian.app.light_of_image import SHIPPED_MODELS
    from lambertian.learn.train_light import WEIGHTS

    assert set(SHIPPED_MODELS) == set(WEIGHTS)  # the torch-free copy of the names

    with pytest.raises(InputError, match="exactly one"):
        light_of_image(np.zeros((8, 8)))
    with pytest.raises(InputError, match="unknown model"):
        light_of_image(np.zeros((8, 8)), model="nope")


def test_calibrate_command_and_capture_lights_agree_on_psm(tmp_path):
    from lambertian.app import calibrate_lights, capture_lights
    from lambertian.cli.main import main
    from lambertian.io import read_capture

    chrome_dir, gray_dir = need_data("psm", "chrome"), need_data("psm", "gray")
    assert main(["calibrate", str(chrome_dir), "--out", str(tmp_path)]) == 0
    written = read_light_json(tmp_path / "lights.json")
    chrome = read_capture(chrome_dir)
    direct = calibrate_lights(chrome)
    assert np.array_equal(written.directions, direct.directions)
    assert angular_error_deg(direct.directions, chrome.lights).mean() < 3.2  # as test_lights
    gray = read_capture(gray_dir)
    via_gray = capture_lights(gray, chrome=chrome)
    assert via_gray.names == gray.files and np.array_equal(via_gray.directions,
                                                           direct.directions)
    matte = capture_lights(gray)
    assert matte.method == "matte sphere" and abs(matte.intensities.mean() - 1) < 1e-12
    assert angular_error_deg(matte.directions, direct.directions).mean() < 2.4
