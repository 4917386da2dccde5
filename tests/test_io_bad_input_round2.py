"""Readers, second fuzz round: text files written on Windows (a byte-order mark), numbers
Python reads but no table holds ("1_0"), light intensities whose division overflows or
underflows float32, JSON numbers beyond float range, and a lights.txt that is not a file.
Each is either read as meant or refused in one line naming the file, exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.io import read_capture
from lambertian.io.checks import read_file_list, read_table
from lambertian.io.light_json import read_light_json
from lambertian.synth.capture import make_capture, write_camera_folder

BOM = "\ufeff"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A generic capture folder (lights.txt, intensities.txt, mask.png, 8 PNGs)."""
    root = tmp_path_factory.mktemp("round2")
    return write_camera_folder(root / "cap", make_capture(24, 8, noise=0.002, seed=3))


def _copy(folder: Path, tmp_path: Path) -> Path:
    cap = tmp_path / "cap"
    shutil.copytree(folder, cap, symlinks=True)
    return cap


def _one_line(capsys, argv: list[str], culprit: Path | str) -> str:
    """Run ``lambertian ARGV``: exit 2 and exactly one error line that names ``culprit``."""
    capsys.readouterr()
    assert main(argv) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(culprit) in lines[0], lines
    assert "unexpected" not in lines[0]
    return lines[0]


def test_a_byte_order_mark_is_not_part_of_the_first_value(tmp_path):
    table = tmp_path / "lights.txt"
    table.write_text(BOM + "0 0 1\n0 1 1\n1 0 1\n", encoding="utf-8")
    np.testing.assert_array_equal(read_table(table, 3), [[0, 0, 1], [0, 1, 1], [1, 0, 1]])
    listing = tmp_path / "filenames.txt"
    listing.write_text(BOM + "a.png\nb.png\n", encoding="utf-8")
    assert read_file_list(listing) == ["a.png", "b.png"]


def test_a_capture_with_a_byte_order_mark_in_lights_txt_solves_alike(folder, tmp_path, capsys):
    cap = _copy(folder, tmp_path)
    lights = cap / "lights.txt"
    lights.write_text(BOM + lights.read_text(), encoding="utf-8")
    assert main(["ps", str(folder), "--method", "ls", "--out", str(tmp_path / "a")]) == 0
    assert main(["ps", str(cap), "--method", "ls", "--out", str(tmp_path / "b")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a" / "normals.npy"),
                                  np.load(tmp_path / "b" / "normals.npy"))


def test_digit_grouping_is_not_a_number_in_a_table(tmp_path):
    table = tmp_path / "lights.txt"
    table.write_text("1_0 0 1\n0 1 1\n1 0 1\n")  # float("1_0") is 10
    with pytest.raises(InputError, match=r"lights\.txt: light file holds a non-numeric value"):
        read_table(table, 3, what="light")


@pytest.mark.parametrize("change", ["all 1e300", "all 1e-30", "one 1e-10"])
def test_intensities_outside_float32_reach_are_refused_naming_the_file(folder, tmp_path,
                                                                        capsys, change):
    # before: "every one of the 8 images is black" or "values up to 8.8e+29 ... rescale the
    # images", naming the capture, or (one light 1e10 brighter) a silently skewed solve
    cap = _copy(folder, tmp_path)
    inten = cap / "intensities.txt"
    e = np.loadtxt(inten)
    e = {"all 1e300": e * 1e300, "all 1e-30": e * 1e-30}.get(change, e)
    if change == "one 1e-10":
        e[2] *= 1e-10
    np.savetxt(inten, e)
    with pytest.raises(InputError) as err:
        read_capture(cap)
    assert str(err.value).startswith(str(inten))
    out = tmp_path / "out"
    _one_line(capsys, ["ps", str(cap), "--method", "ls", "--out", str(out)], inten)
    assert not out.exists()


def test_intensities_of_real_rigs_and_changed_units_are_read(folder, tmp_path):
    # any unit: this capture's intensities (0.7 .. 1) times these stay in the range
    for scale in (1e-8, 1e-3, 1.0, 1e3, 1e11):
        cap = tmp_path / f"cap{scale:g}"
        shutil.copytree(folder, cap)
        np.savetxt(cap / "intensities.txt", np.loadtxt(folder / "intensities.txt") * scale)
        assert read_capture(cap).intensities.min() > 0


def _light_rows(folder: Path) -> list[dict]:
    L = np.loadtxt(folder / "lights.txt")
    return [{"file": f"{k:03d}.png", "direction": [float(v) for v in row], "intensity": 1.0}
            for k, row in enumerate(L)]


@pytest.mark.parametrize("key, value", [("direction", [10**400, 0, 1]),
                                        ("intensity", 10**400), ("ambient", -(10**400)),
                                        ("intensity", 1e300), ("intensity", 1e-300)])
def test_light_json_numbers_beyond_reach_are_refused_naming_the_file(folder, tmp_path, capsys,
                                                                     key, value):
    # before: "unexpected OverflowError: int too large to convert to float" (no file), or
    # "image 0 holds NaN" naming the capture, or (1e300) a silently skewed solve
    rows = _light_rows(folder)
    rows[0][key] = value
    path = tmp_path / "lights.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(InputError) as err:
        read_light_json(path)
    assert str(err.value).startswith(str(path))
    _one_line(capsys, ["ps", str(folder), "--lights", str(path), "--method", "ls", "--out",
                       str(tmp_path / "out")], path)


def test_light_json_with_a_byte_order_mark_is_read(folder, tmp_path):
    path = tmp_path / "lights.json"
    path.write_text(BOM + json.dumps(_light_rows(folder)), encoding="utf-8")
    assert len(read_light_json(path).directions) == 8


@pytest.mark.parametrize("kind", ["folder", "dangling link"])
def test_a_lights_txt_that_is_not_a_file_is_named(folder, tmp_path, capsys, kind):
    # before: "unknown capture layout" (a folder) or "the lights of these images are
    # unknown (no lights.txt)" (a dangling link), naming only the capture
    cap = _copy(folder, tmp_path)
    lights = cap / "lights.txt"
    lights.unlink()
    if kind == "folder":
        lights.mkdir()
    else:
        lights.symlink_to(cap / "moved-away.txt")
    line = _one_line(capsys, ["ps", str(cap), "--out", str(tmp_path / "out")], lights)
    assert ("not a file" if kind == "folder" else "a link to nothing") in line


@pytest.mark.parametrize("layout", ["folder", "diligent"])
def test_lights_that_give_no_normals_name_the_light_file(folder, tmp_path, capsys, layout):
    # before: "<capture>: lights are coplanar or degenerate", naming the folder only
    from lambertian.synth.capture import write_capture

    if layout == "folder":
        cap = _copy(folder, tmp_path)
        lights = cap / "lights.txt"
    else:
        cap = write_capture(tmp_path / "dil", make_capture(24, 8, noise=0.002, seed=3))
        lights = cap / "light_directions.txt"
    L = np.loadtxt(lights)
    L[:] = L[0]  # one light copied into every row
    np.savetxt(lights, L)
    line = _one_line(capsys, ["ps", str(cap), "--method", "ls", "--out",
                              str(tmp_path / "out")], lights)
    assert "coplanar or degenerate" in line
