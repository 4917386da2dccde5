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


@pytest.mark.parametrize("kind", ["ptm", "rti"])
def test_an_rti_file_is_viewed_with_normals_from_its_own_model(capture_dir, tmp_path, capsys,
                                                              kind):
    """RTIBuilder's files open as viewers: the model decodes to the file's, and the
    normals measured on its own relit images are those of the capture (PTM: 3.9 / HSH-9:
    2.9 deg mean on this Lambertian capture; a flipped axis would be tens of degrees)."""
    from lambertian.core.metrics import angular_error_deg
    from lambertian.relight.files import load_ptm, load_rti

    folder, cap = capture_dir
    rti = tmp_path / f"o.{kind}"
    model = "ptm" if kind == "ptm" else "hsh9"
    assert main(["relight", str(folder), "--out", str(tmp_path / "v0"), "--model", model,
                 "--method", "ls", f"--{kind}", str(rti)]) == 0
    out = tmp_path / "view"
    assert main(["relight", str(rti), "--out", str(out)]) == 0
    shown, _ = read_viewer(out)
    read = (load_ptm if kind == "ptm" else load_rti)(rti)
    assert shown.kind == read.kind
    light = np.array([0.3, -0.2, 0.93])
    np.testing.assert_allclose(relight(shown, light)[cap.mask], relight(read, light)[cap.mask],
                               atol=2 / 255)
    from lambertian.app.relight import relight_file

    res = relight_file(rti)
    assert np.mean(angular_error_deg(res.normals[cap.mask], cap.normals[cap.mask])) < 6.0
    # A truncated file and an unknown format line are one-line errors naming the file.
    data = rti.read_bytes()
    cut = tmp_path / f"cut.{kind}"
    cut.write_bytes(data[: len(data) // 2])
    assert main(["relight", str(cut), "--out", str(tmp_path / "v1")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(cut) in err and "truncated" in err
    assert not (tmp_path / "v1").exists()


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
