"""The command line: the demo end to end, outputs of `ps`, one-line errors with exit 2."""

import json

import numpy as np
import pytest

from lambertian.cli.main import main
from tests.conftest import need_data


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("demo", "ps", "bench", "batch"):
        assert cmd in out


def test_demo_runs_end_to_end_and_robust_beats_least_squares(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--size", "48", "--lights", "12", "--seed", "1"]) == 0
    results = {r["method"]: r for r in json.loads((out / "demo.json").read_text())["results"]}
    assert results["robust"]["mean"] < results["ls"]["mean"]
    assert results["robust"]["median"] < 1.0
    for f in ("normals.npy", "albedo.npy", "normal.png", "albedo.png", "metrics.json",
              "depth.npy", "mesh.ply", "figure.png"):
        assert (out / "robust" / f).is_file(), f
    # A second run into the same folder is allowed (it is the demo's own output) ...
    assert main(["demo", "--out", str(out), "--size", "32", "--lights", "6"]) == 0
    # ... but not into a folder the demo did not write.
    foreign = tmp_path / "mine"
    (foreign / "capture").mkdir(parents=True)
    assert main(["demo", "--out", str(foreign)]) == 2
    assert "lambertian did not write" in capsys.readouterr().err


def test_ps_writes_every_output_with_metrics_on_real_data(tmp_path):
    gray = need_data("psm", "gray")
    out = tmp_path / "gray"
    assert main(["ps", str(gray), "--method", "ls", "--out", str(out)]) == 0
    normals = np.load(out / "normals.npy")
    assert normals.dtype == np.float32 and normals.ndim == 3 and normals.shape[2] == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["mean"] < 10.0 and metrics["method"] == "ls"
    summary = json.loads((out / "ps.json").read_text())
    assert summary["images"] == 12


def test_bad_input_exits_2_with_one_line_naming_the_folder(tmp_path, capsys):
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    assert main(["ps", str(empty), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(empty) in err


def test_ps_refuses_to_write_into_its_input(tmp_path, capsys):
    gray = need_data("psm", "gray")
    assert main(["ps", str(gray), "--out", str(gray)]) == 2
    assert "refusing to write over an input" in capsys.readouterr().err


def test_train_ps_net_refuses_a_bad_count_before_training(tmp_path, capsys):
    out = tmp_path / "w.pt"
    for args in (["--threads", "0"], ["--steps", "0"], ["--batch", "0"],
                 ["--interface-steps", "-1"], ["--lsq-steps", "0"]):
        assert main(["train-ps-net", *args, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        # --lsq-steps 0 alone is refused for the third stage it would leave without a head
        flag = "--interface-steps" if args[0] == "--lsq-steps" else args[0]
        assert len(err.splitlines()) == 1 and flag in err, err
    assert not out.exists()
