"""``lambertian relight``: every output target (--out, --ptm, --rti) is checked before any
work, and the outputs appear all together or not at all: a failure in the last one leaves
the earlier outputs exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambertian.cli.main import main
from lambertian.io.output_dir import replace_together
from lambertian.synth.capture import make_capture, write_capture


@pytest.fixture(scope="module")
def capture_dir(tmp_path_factory) -> Path:
    cap = make_capture(size=16, num_lights=12, noise=0.0, seed=3)
    return write_capture(tmp_path_factory.mktemp("cap") / "obj", cap)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes): names and contents."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def earlier(capture_dir, tmp_path) -> Path:
    """A working folder holding an earlier run's viewer, PTM and RTI files."""
    assert main(["relight", str(capture_dir), "--out", str(tmp_path / "view"), "--method", "ls",
                 "--ptm", str(tmp_path / "o.ptm"), "--rti", str(tmp_path / "o.rti")]) == 0
    return tmp_path


@pytest.mark.parametrize("option, target, said", [
    ("--rti", "no_such_dir/o.rti", "does not exist"),
    ("--rti", "o.ptm/o.rti", "is a file"),
    ("--ptm", "sub", "names a folder"),
    ("--ptm", "view/o.ptm", "inside the viewer folder"),
    ("--out", "o.ptm/view", "is a file"),
])
def test_relight_bad_output_target_is_refused_before_any_work(capture_dir, earlier, capsys,
                                                             option, target, said):
    (earlier / "sub").mkdir()
    before = _snapshot(earlier)
    capsys.readouterr()
    argv = {"--out": str(earlier / "view"), "--ptm": str(earlier / "o.ptm"),
            "--rti": str(earlier / "o.rti"), option: str(earlier / target)}
    rc = main(["relight", str(capture_dir), "--method", "ls",
               *(x for kv in argv.items() for x in kv)])
    cap = capsys.readouterr()
    err = cap.err.strip()
    assert rc == 2, err
    assert "\n" not in err and option in err and target in err and said in err, err
    assert "fitting" not in cap.out  # refused before the fit
    assert _snapshot(earlier) == before


@pytest.mark.parametrize("failing", ["lambertian.relight.files.save_rti",
                                     "lambertian.viz.viewer.write_viewer"])
def test_relight_failure_in_the_last_output_leaves_earlier_outputs(capture_dir, earlier, capsys,
                                                                   monkeypatch, failing):
    """The first capture's viewer, PTM and RTI stay exactly as they were (no temporaries
    beside them) when a later output of a second run fails to be written."""
    before = _snapshot(earlier)
    module, name = failing.rsplit(".", 1)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(f"{module}.{name}", broken)
    rc = main(["relight", str(capture_dir), "--out", str(earlier / "view"), "--model", "hsh9",
               "--method", "ls", "--ptm", str(earlier / "o.ptm"),
               "--rti", str(earlier / "o.rti")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "disk full" in err, err
    assert _snapshot(earlier) == before


def test_replace_together_undoes_the_renames_done_when_one_fails(tmp_path):
    (tmp_path / "a").write_text("old a")
    (tmp_path / ".a.tmp").write_text("new a")
    (tmp_path / "b").write_text("old b")
    with pytest.raises(FileNotFoundError):  # b's temporary is missing: the second rename fails
        replace_together([(tmp_path / ".a.tmp", tmp_path / "a"),
                          (tmp_path / ".b.tmp", tmp_path / "b")])
    assert (tmp_path / "a").read_text() == "old a" and (tmp_path / "b").read_text() == "old b"
    assert (tmp_path / ".a.tmp").read_text() == "new a"  # back for the caller to remove
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.tmp", "a", "b"]
