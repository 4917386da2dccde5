"""ps outputs: a mask pixel black in every image (a dead pixel) has no normal; it is
written as unknown and said in one warning line, in memory and streamed, instead of
failing the run with a message about a temporary file (docs/robustness.md)."""

from __future__ import annotations

import contextlib
import io
import json

import cv2
import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.io import read_capture
from lambertian.io.writers import normals_to_png16
from lambertian.ps.outputs import write_ps_outputs
from lambertian.ps.result import PSResult
from lambertian.synth.capture import make_capture, write_capture

SIZE, LIGHTS = 24, 8


def _dead_pixel(synth) -> tuple[int, int]:
    """A mask pixel lit in most images (so that only the damage makes it black)."""
    lit = (synth.images.reshape(LIGHTS, SIZE, SIZE, -1) > 0).all(axis=-1).sum(axis=0)
    rows, cols = np.nonzero(synth.mask & (lit == LIGHTS))
    return int(rows[len(rows) // 2]), int(cols[len(cols) // 2])


@pytest.fixture(scope="module")
def dead(tmp_path_factory):
    """A capture in the DiLiGenT layout with one mask pixel black in every image."""
    root = tmp_path_factory.mktemp("dead_pixel")
    synth = make_capture(SIZE, LIGHTS, noise=0.002, seed=3)
    r, c = _dead_pixel(synth)
    synth.images[:, r, c] = 0.0
    return write_capture(root / "cap", synth), (r, c)


def _run(argv: list[str]) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    return rc, [ln for ln in err.getvalue().replace("\r", "\n").splitlines()
                if ln.strip() and "%|" not in ln]


@pytest.mark.parametrize("method, stream", [("ls", False), ("robust", False), ("ls", True)])
def test_one_black_pixel_is_an_unknown_normal_not_a_failed_run(dead, tmp_path, method,
                                                               stream):
    cap, (r, c) = dead
    out = tmp_path / "out"
    rc, lines = _run(["ps", str(cap), "--method", method, "--out", str(out),
                      *(["--stream"] if stream else [])])
    assert rc == 0, lines
    if stream:  # counted band by band (scale/stream.py)
        assert lines == [f"warning: {cap}: 1 mask pixel(s) black in every image: their "
                         "normals are unknown (zero in normals.npy, none in normal.png)"]
    else:
        assert lines == [f"warning: {cap}: mask pixel (row {r}, column {c}) is black in every "
                         "image: its normal is unknown (zero in normals.npy, none in "
                         "normal.png)"]
    assert json.loads((out / "ps.json").read_text())["unknown_pixels"] == 1
    n = np.load(out / "normals.npy")
    assert not n[r, c].any()
    png = cv2.imread(str(out / "normal.png"), cv2.IMREAD_UNCHANGED)
    assert not png[r, c].any()  # "no normal"
    mask = cv2.imread(str(cap / "mask.png"), cv2.IMREAD_UNCHANGED) > 0
    mask = mask if mask.ndim == 2 else mask.any(axis=-1)
    mask[r, c] = False
    # every other mask pixel has a unit normal and a code
    np.testing.assert_allclose(np.linalg.norm(n[mask], axis=-1), 1.0, atol=1e-5)
    assert png[mask].any(axis=-1).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing temporary left


def test_depth_leaves_the_unknown_pixel_out(dead, tmp_path):
    cap, (r, c) = dead
    rc, lines = _run(["ps", str(cap), "--method", "ls", "--depth", "--out", str(tmp_path / "o")])
    assert rc == 0, lines
    d = np.load(tmp_path / "o" / "depth.npy")
    assert np.isnan(d[r, c]) and np.isfinite(d).sum() > 100


def test_zero_normal_at_a_lit_pixel_is_refused_naming_the_capture(dead, tmp_path):
    """A solver that found no normal where the images hold light broke down: one line
    naming the capture, before anything is written."""
    cap_dir, (r, c) = dead
    cap = read_capture(cap_dir)
    n = np.zeros((SIZE, SIZE, 3), np.float32)
    n[cap.mask] = (0.0, 0.0, 1.0)
    n[r, c + 1] = 0.0  # a neighbour of the dead pixel, lit
    res = PSResult(n, np.zeros((SIZE, SIZE, 3), np.float32), cap.mask)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="no normal at 1 of") as err:
        write_ps_outputs(cap, res, "ls", out, source="capture-dir")
    assert err.value.source == "capture-dir"
    n[r, c + 1] = np.nan
    with pytest.raises(InputError, match="NaN or infinite normals") as err:
        write_ps_outputs(cap, res, "ls", out, source="capture-dir")
    assert err.value.source == "capture-dir" and not out.exists()


def test_normal_encoder_writes_a_zero_vector_as_no_normal():
    n = np.zeros((2, 3, 3))
    n[..., 2] = 1.0
    n[1, 1] = 0.0
    code = normals_to_png16(n, np.ones((2, 3), bool))
    assert not code[1, 1].any() and code[0, 0].tolist() == [32768, 32768, 65535]
