"""The one output mechanism: a set appears whole or not at all, never on an input."""

from __future__ import annotations

import pytest

from lambertian.core.errors import InputError
from lambertian.io.output_dir import MARKER, output_file, output_folder


def test_folder_appears_only_when_complete_and_replaces_an_earlier_set(tmp_path):
    out = tmp_path / "out"
    with output_folder(out) as tmp:
        (tmp / "a.txt").write_text("1")
        assert not out.exists()  # nothing visible before the block ends
    assert (out / "a.txt").read_text() == "1" and (out / MARKER).is_file()
    with output_folder(out) as tmp:
        (tmp / "b.txt").write_text("2")
    # replaced whole: no file of the earlier set survives beside the new one
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "b.txt"])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left


@pytest.mark.parametrize("exc", [RuntimeError("solver failed"), KeyboardInterrupt()])
def test_failure_or_interrupt_leaves_the_earlier_set_as_it_was(tmp_path, exc):
    out = tmp_path / "out"
    with output_folder(out) as tmp:
        (tmp / "normals.npy").write_bytes(b"old")
    with pytest.raises(type(exc)), output_folder(out) as tmp:
        (tmp / "normals.npy").write_bytes(b"new")
        raise exc
    assert (out / "normals.npy").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_keep_existing_when_not_replacing(tmp_path):
    out = tmp_path / "out"
    with output_folder(out) as tmp:
        (tmp / "first").write_text("1")
    with output_folder(out, replace=False) as tmp:
        (tmp / "second").write_text("2")
    assert (out / "first").is_file() and not (out / "second").exists()


def test_refuses_inputs_files_and_foreign_folders(tmp_path):
    img = tmp_path / "img.png"
    img.write_bytes(b"x")
    with pytest.raises(InputError, match="input"), output_folder(img, [img]):
        pass
    with pytest.raises(InputError, match="holds the input"), output_folder(tmp_path, [img]):
        pass
    with pytest.raises(InputError, match="existing file"), output_folder(img):
        pass
    with pytest.raises(InputError, match="is a file"), output_folder(img / "sub"):
        pass
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="did not write"), output_folder(mine):
        pass
    assert (mine / "thesis.tex").read_text() == "years of work"
    assert img.read_bytes() == b"x"


def test_single_file_is_replaced_atomically(tmp_path):
    out = tmp_path / "light.json"
    out.write_text("old")
    with pytest.raises(ValueError), output_file(out) as tmp:
        tmp.write_text("half")
        raise ValueError
    assert out.read_text() == "old"
    with output_file(out) as tmp:
        assert tmp.suffix == ".json" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert out.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == [
        "light.json"]
    with pytest.raises(InputError, match="input"), output_file(out, [out]):
        pass


def test_an_output_of_an_earlier_version_is_recognised(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "ps.json").write_text("{}")  # written before the marker existed
    (old / "normals.npy").write_bytes(b"old")
    with output_folder(old) as tmp:
        (tmp / "ps.json").write_text("{\"new\": 1}")
    assert not (old / "normals.npy").exists() and (old / MARKER).is_file()
