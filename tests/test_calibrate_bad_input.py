"""``lambertian calibrate --sphere-mask M.png``: a mask that cannot be a sphere's is one line
naming the mask file (not the folder of images), exit 2, and a tiny mask says it is too
small instead of "not a disc (100% overlap ...)"."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.core.sphere import MIN_SPHERE_PIXELS
from lambertian.io.output_dir import MARKER
from lambertian.lights.chrome_sphere import fit_sphere_mask
from lambertian.synth.capture import make_capture, write_capture

SIZE = 32


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _masks() -> dict[str, np.ndarray]:
    yy, xx = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(yy - 15.5, xx - 15.5)
    return {"full": np.ones((SIZE, SIZE), bool),               # cut by the frame
            "ring": (r < 12) & (r > 9),                         # not a disc
            "one": (yy == 16) & (xx == 16),                     # one pixel
            "few": (np.abs(yy - 16) < 2) & (np.abs(xx - 16) < 2)}  # 9 pixels


@pytest.mark.parametrize("kind, said", [
    ("full", "touches the image border"), ("ring", "not a disc"),
    ("one", "only 1 pixel: too small for a sphere"),
    ("few", "only 9 pixels: too small for a sphere")])
def test_calibrate_bad_sphere_mask_names_the_mask_file(tmp_path, capsys, kind, said):
    chrome = write_capture(tmp_path / "chrome", make_capture(size=SIZE, num_lights=4, seed=1))
    mask = tmp_path / f"m_{kind}.png"
    cv2.imwrite(str(mask), _masks()[kind].astype(np.uint8) * 255)
    out = tmp_path / "out"  # an earlier output, kept as it was
    out.mkdir()
    (out / MARKER).write_text("earlier\n")
    (out / "lights.json").write_text("[]\n")
    before = _snapshot(tmp_path)
    rc = main(["calibrate", str(chrome), "--sphere-mask", str(mask), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "\n" not in err and said in err, err
    assert f"error: {mask}: " in err  # the mask file is the culprit, not the folder
    assert "100% overlap" not in err
    assert _snapshot(tmp_path) == before


def test_fit_sphere_mask_tiny_masks_with_or_without_a_camera():
    K = np.array([[40.0, 0, 15.5], [0, 40.0, 15.5], [0, 0, 1]])
    tiny = _masks()["few"]
    for camera in (None, K):
        with pytest.raises(InputError, match=r"^M\.png: mask has only 9 pixels: too small"):
            fit_sphere_mask(tiny, camera=camera, source="M.png")
    yy, xx = np.mgrid[:SIZE, :SIZE]
    disc = np.hypot(yy - 15.5, xx - 15.5) < 8
    assert disc.sum() >= MIN_SPHERE_PIXELS
    cy, cx, r = fit_sphere_mask(disc, source="M.png")
    assert (cy, cx) == pytest.approx((15.5, 15.5)) and r == pytest.approx(8, abs=0.2)
    with pytest.raises(InputError, match="mask is empty"):
        fit_sphere_mask(np.zeros((SIZE, SIZE), bool), source="M.png")
