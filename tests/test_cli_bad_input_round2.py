"""Command options and weights files, second fuzz round: seeds beyond what NumPy and torch
take, sizes that would exhaust the machine (batch --workers, train-ps-net --batch), an
empty --scheduler, and light-model weights files that load but hold a bare tensor, NaN
or integer weights. Each is one line naming the option or file, exit 2, before any work."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.core.errors import InputError


def _one_line(capsys, argv: list[str], culprit: str) -> str:
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = exc.code
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1 and culprit in lines[0], (rc, lines)
    assert "unexpected" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("argv", [
    ["spheres", "train", "--seed", str(2**64)],
    ["spheres", "train", "--test-seed", str(2**70)],
    ["train-light", "--model", "objects", "--seed", "-1"],
    ["train-light", "--model", "objects", "--seed", str(2**70)],
    ["train-ps-net", "--steps", "1", "--seed", "-1"],
    ["train-ps-net", "--steps", "1", "--seed", str(2**70)],
    ["demo", "--seed", str(2**70)],
])
def test_seeds_out_of_range_are_one_line(tmp_path, capsys, argv):
    # before: "unexpected ValueError: Overflow when unpacking long long" (torch), or a
    # negative seed accepted by train-light / train-ps-net, which then trained for minutes
    out = ["--out", str(tmp_path / ("o.pt" if argv[0].startswith("train") else "o"))]
    option = "--test-seed" if "--test-seed" in argv else "--seed"
    _one_line(capsys, argv + (out if argv[0] != "spheres" else []), option)
    assert not (tmp_path / "o.pt").exists() and not (tmp_path / "o").exists()


def test_a_batch_larger_than_memory_is_one_line(tmp_path, capsys):
    # before: train-ps-net --batch 1000000000 allocated until the machine ran out of memory
    _one_line(capsys, ["train-ps-net", "--steps", "1", "--batch", str(10**9), "--out",
                       str(tmp_path / "w.pt")], "--batch")


def test_batch_workers_beyond_the_machine_and_an_empty_scheduler_are_one_line(tmp_path,
                                                                              capsys):
    pytest.importorskip("distributed")
    from lambertian.scale.batch import max_local_workers

    root = tmp_path / "root"
    root.mkdir()
    # before: --workers 100000 started worker processes without end
    line = _one_line(capsys, ["batch", "ps", str(root), "--out", str(tmp_path / "out"),
                              "--workers", str(max_local_workers() + 1)], "--workers")
    assert str(max_local_workers()) in line
    # before: "lambertian batch: error: : not a scheduler address" (no name at all)
    _one_line(capsys, ["batch", "ps", str(root), "--out", str(tmp_path / "out"),
                       "--scheduler", ""], "--scheduler:")


@pytest.fixture(scope="module")
def weights_blob():
    torch = pytest.importorskip("torch")
    from lambertian.learn.train_light import shipped_weights

    return torch.load(shipped_weights("objects"), map_location="cpu", weights_only=True)


@pytest.mark.parametrize("kind", ["bare tensor", "nan weights", "integer weights"])
def test_weights_files_that_load_but_are_not_ours_are_one_line(tmp_path, capsys, weights_blob,
                                                               kind):
    # before: a bare tensor printed torch's UserWarning as a second line; NaN or integer
    # weights gave "unexpected ValueError: light direction [nan, nan, nan] has no direction"
    import torch

    from lambertian.learn.train_light import load_model

    path = tmp_path / "w.pt"
    if kind == "bare tensor":
        torch.save(torch.zeros(5), path)
    else:
        state = dict(weights_blob["state_dict"])
        key = next(k for k, v in state.items() if v.is_floating_point())
        state[key] = state[key] * float("nan") if kind == "nan weights" else state[key].long()
        torch.save({**weights_blob, "state_dict": state}, path)
    with pytest.raises(InputError, match="not a valid light-model weights file"):
        load_model(path)
    image = tmp_path / "img.png"
    cv2.imwrite(str(image), (np.add.outer(np.arange(32), np.arange(32)) * 4).astype(np.uint8))
    out = tmp_path / "light.json"
    _one_line(capsys, ["light", str(image), "--model", str(path), "--out", str(out)],
              str(path))
    assert not out.exists()


def test_the_shipped_weights_still_load(weights_blob):
    from lambertian.learn.train_light import load_model, shipped_weights

    for name in ("faces", "objects"):
        model, size = load_model(shipped_weights(name))
        assert min(size) >= 1 and Path(shipped_weights(name)).is_file()
