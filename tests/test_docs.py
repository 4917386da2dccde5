"""The documentation: the getting-started page runs as written (its commands and its
Python, on generated photos of the demo object with a chrome ball in view), and the site
builds with ``mkdocs build --strict``."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lambertian.core.metrics import angular_error_deg
from lambertian.core.sphere import sphere_normals
from lambertian.io.camera_files import linear_to_srgb
from lambertian.lights.chrome_sphere import reflect_view

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "getting-started.md"
SIZE, BALL_R = 64, 24  # object 64 x 64, then the ball in a 56-pixel-wide strip




def _photos(folder: Path):
    """The demo object beside a mirror ball, one JPEG per light, no lights.txt."""
    from lambertian.synth.capture import make_capture

    scene = make_capture(size=SIZE, num_lights=12, seed=5)
    n, ball = sphere_normals((SIZE, 56), (SIZE / 2 - 0.5, 27.5), BALL_R)
    refl = reflect_view(n, (0, 0, 1))
    (folder / "my_object").mkdir()
    for k, (img, light) in enumerate(zip(scene.images, scene.lights, strict=True)):
        obj = img / scene.intensities[k]  # one lamp moved around: one intensity
        spot = np.where(ball, np.clip(refl @ light, 0, 1) ** 400 + 0.02, 0.0)
        photo = np.concatenate([obj, np.repeat(spot[..., None], 3, axis=2)], axis=1)
        code = np.rint(linear_to_srgb(photo[..., ::-1]) * 255).astype(np.uint8)
        cv2.imwrite(str(folder / "my_object" / f"IMG_{k + 1}.jpg"), code,
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
    mask = np.concatenate([np.zeros((SIZE, SIZE), bool), ball], axis=1)
    cv2.imwrite(str(folder / "ball_mask.png"), mask.astype(np.uint8) * 255)
    return scene


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_getting_started_runs_as_written(tmp_path, monkeypatch, capsys):
    from lambertian.cli.main import main

    scene = _photos(tmp_path)
    monkeypatch.chdir(tmp_path)
    commands = [line[2:] for block in _blocks("console") for line in block.splitlines()
                if line.startswith("$ ")]
    assert len(commands) == 3
    for cmd in commands:
        argv = shlex.split(cmd)
        assert argv[0] == "lambertian"
        assert main(argv[1:]) == 0, cmd
    assert "mask computed from the images" in capsys.readouterr().out
    normals = np.load(tmp_path / "my_result" / "normals.npy")[:, :SIZE]
    for name in ("normal.png", "depth.png", "mesh.ply"):
        assert (tmp_path / "my_result" / name).stat().st_size > 0
    inner = scene.mask & ~scene.cast_shadow.any(0)
    err = angular_error_deg(normals[inner], scene.normals[inner])
    assert np.median(err) < 2.0  # calibrated by a 24-pixel ball in 8-bit JPEG
    for block in _blocks("python"):
        exec(compile(block, str(PAGE), "exec"), {})
    assert "12 lights; depth over" in capsys.readouterr().out


def test_site_builds_strictly(tmp_path):
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    out = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict",
                          "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "site" / "getting-started" / "index.html").is_file()
