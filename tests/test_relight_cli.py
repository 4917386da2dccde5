"""``lambertian relight``: a complete viewer or nothing, one-line errors, inputs untouched."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.relight import display, relight
from lambertian.synth.capture import make_capture, write_capture
from lambertian.viz.viewer import read_viewer
from tests.conftest import need_data


@pytest.fixture(scope="module")
def capture_dir(tmp_path_factory):
    cap = make_capture(size=32, num_lights=16, noise=0.0, seed=2)
    return write_capture(tmp_path_factory.mktemp("cap") / "obj", cap), cap


def test_writes_a_viewer_that_decodes_to_the_fitted_model(capture_dir, tmp_path):
    folder, cap = capture_dir
    out = tmp_path / "view"
    assert main(["relight", str(folder), "--out", str(out), "--method", "ls", "--depth",
                 "--ptm", str(tmp_path / "o.ptm"), "--rti", str(tmp_path / "o.rti")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "lambertian-viewer.json",
                                                     "model.js", "viewer.js"]
    meta = json.loads((out / "lambertian-viewer.json").read_text())
    assert meta["kind"] == "ours" and meta["numbers_per_pixel"] == 16 and meta["depth"]
    model, _ = read_viewer(out)
    # The decoded model relights the generated (Lambertian) capture to within a few grey
    # levels of the truth under a new light (8-bit tiles, least-squares normals).
    light = np.array([0.2, 0.3, 0.93])
    truth = cap.albedo * np.maximum(cap.normals @ light, 0)[..., None]
    got = display(relight(model, light)).astype(int)
    assert np.median(np.abs(got - display(truth).astype(int))[cap.mask]) <= 2
    assert (tmp_path / "o.ptm").stat().st_size > 0 and (tmp_path / "o.rti").stat().st_size > 0
    # Running again replaces the previous viewer, leaving no temporary folders behind.
    assert main(["relight", str(folder), "--out", str(out), "--model", "hsh9"]) == 0
    assert read_viewer(out)[0].kind == "hsh9"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.ptm", "o.rti", "view"]


def test_coplanar_lights_are_one_line_exit_2_and_leave_nothing(capture_dir, tmp_path, capsys):
    folder, cap = capture_dir
    bad = tmp_path / "flat"
    write_capture(bad, make_capture(size=16, num_lights=8, seed=1))
    ang = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    flat = np.stack([np.cos(ang), np.sin(ang), np.zeros(8)], 1)
    np.savetxt(bad / "light_directions.txt", flat)
    out = tmp_path / "view"
    assert main(["relight", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "coplanar" in err and str(bad) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat"]


def test_refuses_to_replace_an_input_or_a_foreign_folder(capture_dir, tmp_path, capsys):
    folder, _ = capture_dir
    before = sorted(p.name for p in folder.iterdir())
    assert main(["relight", str(folder), "--out", str(folder)]) == 2
    assert main(["relight", str(folder), "--out", str(folder.parent)]) == 2
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.txt").write_text("keep me")
    assert main(["relight", str(folder), "--out", str(other)]) == 2
    err = capsys.readouterr().err
    assert "holds the input" in err and "is not a lambertian viewer" in err
    assert (other / "thesis.txt").read_text() == "keep me"
    assert sorted(p.name for p in folder.iterdir()) == before


def test_lights_from_a_chrome_sphere(tmp_path):
    psm = need_data("psm")
    out = tmp_path / "view"
    assert main(["relight", str(psm / "gray"), "--chrome", str(psm / "chrome"), "--out",
                 str(out), "--model", "hsh9", "--method", "ls"]) == 0
    meta = json.loads((out / "lambertian-viewer.json").read_text())
    assert meta["info"]["lights"] == "chrome sphere" and meta["info"]["images"] == 12
    model, _ = read_viewer(out)
    # psm/gray is a matte sphere: lit from the camera, its centre is brighter than its rim.
    img = relight(model, np.array([0.0, 0.0, 1.0])).mean(-1)
    ys, xs = np.nonzero(model.mask)
    centre = img[int(ys.mean()), int(xs.mean())]
    rim = img[ys[np.argmin(xs)], xs.min() + 2]
    assert centre > 2 * rim
