"""Shared fixtures: where the real data is, and a skip when it is absent."""

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
