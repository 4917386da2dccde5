"""Shared fixtures: where the real data is, and a skip when it is absent; the bad-input
rounds' check that a command fails in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lambertian.io.data_root import data_root

# Small ops on 2 shared cores: one thread is fastest and deterministic.
torch.set_num_threads(1)

DATA: Path | None = data_root()


def need_data(*parts: str) -> Path:
    """Path to a real data set, or skip the test with the reason."""
    if DATA is None:
        pytest.skip("real data not found: set $LAMBERTIAN_DATA or put shared/data beside the repo")
    p = DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data set {p} is absent")
    return p


@pytest.fixture
def data_dir():
    return need_data


def one_error_line(capsys, argv: list, culprit: Path | str) -> str:
    """Run ``lambertian ARGV`` in-process: exit 2 and exactly one stderr line naming
    ``culprit`` (progress bars, which a terminal redraws in place, aside). Returns it."""
    from lambertian.cli.main import main

    capsys.readouterr()
    rc = main([str(a) for a in argv])
    lines = [ln for ln in capsys.readouterr().err.replace("\r", "\n").splitlines()
             if ln.strip() and "%|" not in ln]
    assert rc == 2 and len(lines) == 1 and str(culprit) in lines[0], (rc, lines)
    assert "unexpected" not in lines[0] and "Traceback" not in lines[0]
    return lines[0]
