"""Every script in benchmarks/ and experiments/ still imports against the package and
parses its command line (``--help``), so none of them rots silently. Running them is
their job (minutes, real data); this is the quick check that the names they use exist."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("experiments/*.py")])


@pytest.mark.parametrize("path", SCRIPTS, ids=[f"{p.parent.name}/{p.name}" for p in SCRIPTS])
def test_script_imports_and_answers_help(path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location(f"_script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # top-level imports and constants
    assert callable(getattr(module, "main", None)), "a script exposes main()"
    if "argparse" not in path.read_text():
        return  # no --help to ask (its main() runs the whole benchmark)
    monkeypatch.setattr(sys, "argv", [str(path), "--help"])
    with pytest.raises(SystemExit) as done:
        module.main()
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out


# Scripts cheap enough to run for real at a tiny size (the others need the real data sets
# and minutes to hours; --help above is their check).
TINY_RUNS = {"benchmarks/bench_camera_files.py": ["--size", "24", "--lights", "6"]}


@pytest.mark.parametrize("rel", sorted(TINY_RUNS))
def test_script_runs_at_a_tiny_size(rel, monkeypatch, capsys):
    path = ROOT / rel
    spec = importlib.util.spec_from_file_location(f"_script_{path.stem}_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", [str(path), *TINY_RUNS[rel]])
    module.main()
    out = capsys.readouterr().out
    assert "| ls |" in out and "intersection over union" in out
