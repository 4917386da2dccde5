"""Streaming photometric stereo: band by band from disk, identical to the in-memory path."""

import numpy as np
import pytest

from lambertian.io import (
    read_capture,
    read_image,
    read_normal_png,
    write_albedo_png,
    write_normal_png,
)
from lambertian.ps import least_squares
from lambertian.scale.stream import band_rows, stream_ps
from lambertian.synth.capture import make_capture, write_capture


@pytest.fixture(scope="module")
def capture_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cap") / "blob"
    write_capture(folder, make_capture(size=96, num_lights=12, seed=3))
    return folder


def test_streamed_outputs_equal_the_in_memory_solve(capture_dir, tmp_path):
    cap = read_capture(capture_dir)
    files = [capture_dir / f for f in cap.files]
    # A band budget of ~20 rows forces several bands, including ones outside the mask.
    budget = 12 * 96 * 3 * 4 * 20
    assert band_rows(12, 96, 3, budget) == 20
    info = stream_ps(files, cap.lights, cap.intensities, cap.mask, tmp_path, band_bytes=budget)
    assert info["bands"] == 5
    ref = least_squares(cap.normalized_images(), cap.lights, cap.mask)
    np.testing.assert_array_equal(np.load(tmp_path / "normals.npy"), ref.normals)
    np.testing.assert_array_equal(np.load(tmp_path / "albedo.npy"), ref.albedo)
    write_normal_png(tmp_path / "ref_normal.png", ref.normals, ref.mask)
    write_albedo_png(tmp_path / "ref_albedo.png", ref.albedo, ref.mask)
    for name in ("normal", "albedo"):
        a, b = read_image(tmp_path / f"{name}.png")[0], read_image(tmp_path / f"ref_{name}.png")[0]
        np.testing.assert_array_equal(a, b)
    png = read_normal_png(tmp_path / "normal.png")
    assert np.abs(png[cap.mask] - ref.normals[cap.mask]).max() < 1e-4
    assert not list(tmp_path.glob(".staging-*")) and not list(tmp_path.glob("*.partial"))


def test_capture_files_lists_without_decoding(capture_dir):
    from lambertian.io import capture_files

    files, lights, intensities, mask, note, _ = capture_files(capture_dir)
    cap = read_capture(capture_dir)
    assert [f.name for f in files] == cap.files
    np.testing.assert_array_equal(lights, cap.lights)
    np.testing.assert_array_equal(mask, cap.mask)
    np.testing.assert_array_equal(intensities, cap.intensities)
    assert note is None  # the mask file's mask


def test_stream_without_a_mask_file_computes_the_in_memory_mask(capture_dir, tmp_path):
    """A generic folder without mask.png: the streamed solve uses the mask the in-memory
    reader computes (not every pixel), so its numbers are the in-memory ones."""
    import shutil

    from lambertian.io import capture_files

    folder = tmp_path / "nomask"  # a generic folder: images, lights.txt, intensities.txt
    folder.mkdir()
    for f in read_capture(capture_dir).files:
        shutil.copy(capture_dir / f, folder / f)
    shutil.copy(capture_dir / "light_directions.txt", folder / "lights.txt")
    shutil.copy(capture_dir / "light_intensities.txt", folder / "intensities.txt")
    cap = read_capture(folder)
    assert "mask_note" in cap.meta and 0 < cap.mask.mean() < 1
    files, lights, intensities, mask, note, _ = capture_files(folder)
    np.testing.assert_array_equal(mask, cap.mask)
    assert note == cap.meta["mask_note"]
    stream_ps(files, lights, intensities, mask, tmp_path / "out")
    ref = least_squares(cap.normalized_images(), cap.lights, cap.mask)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "normals.npy"), ref.normals)


def test_stream_rejects_mismatched_sizes(capture_dir, tmp_path):
    from lambertian.core.errors import InputError

    cap = read_capture(capture_dir)
    files = [capture_dir / f for f in cap.files]
    with pytest.raises(InputError, match="mask is"):
        stream_ps(files, cap.lights, cap.intensities, cap.mask[:-1], tmp_path)


def test_streamed_robust_equals_in_memory_robust_with_damaged_images(tmp_path):
    from lambertian.ps import robust

    synth = make_capture(size=64, num_lights=16, seed=5)
    synth.images[[2, 7, 11]] = np.clip(synth.images[[2, 7, 11]] * 1.3, 0, 1)  # "damaged"
    folder = tmp_path / "cap"
    write_capture(folder, synth)
    cap = read_capture(folder)
    ref = robust(cap.normalized_images(), cap.lights, cap.mask)
    assert ref.info["dropped_images"]["grey"] == [2, 7, 11]
    files = [folder / f for f in cap.files]
    stream_ps(files, cap.lights, cap.intensities, cap.mask, tmp_path / "out", method="robust",
              band_bytes=16 * 64 * 3 * 4 * 10)  # 10-row bands
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "normals.npy"), ref.normals)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "albedo.npy"), ref.albedo)


def test_streamed_net_equals_in_memory_net_with_damaged_images(tmp_path):
    from lambertian.ps import net

    synth = make_capture(size=48, num_lights=16, seed=6)
    synth.images[[3, 9]] = np.clip(synth.images[[3, 9]] * 1.3, 0, 1)  # "damaged"
    folder = tmp_path / "cap"
    write_capture(folder, synth)
    cap = read_capture(folder)
    ref = net(cap.normalized_images(), cap.lights, cap.mask)
    assert ref.info["dropped_images"] == [3, 9]
    files = [folder / f for f in cap.files]
    stream_ps(files, cap.lights, cap.intensities, cap.mask, tmp_path / "out", method="net",
              band_bytes=16 * 48 * 3 * 4 * 10)  # 10-row bands
    np.testing.assert_allclose(np.load(tmp_path / "out" / "normals.npy"), ref.normals,
                               atol=1e-6)


def test_a_capture_larger_than_memory_is_streamed_or_refused_in_one_line(
        capture_dir, tmp_path, monkeypatch, capsys):
    """`lambertian ps` on a capture that would need more memory than is available solves it
    band by band (the same numbers) instead of being killed; with --depth, which needs
    the whole capture, it says so in one line."""
    import json

    from lambertian.cli import ps as ps_cli
    from lambertian.cli.main import main

    assert main(["ps", str(capture_dir), "--method", "robust", "--out",
                 str(tmp_path / "ref")]) == 0
    monkeypatch.setattr(ps_cli, "available_memory", lambda: 1 << 20)  # 1 MB
    capsys.readouterr()
    assert main(["ps", str(capture_dir), "--method", "robust", "--out",
                 str(tmp_path / "out")]) == 0
    assert "band by band" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "ps.json").read_text())["streamed"] is True
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "normals.npy"),
                                  np.load(tmp_path / "ref" / "normals.npy"))
    assert main(["ps", str(capture_dir), "--depth", "--out", str(tmp_path / "deep")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "GB" in err and str(capture_dir) in err
    assert not (tmp_path / "deep").exists()
