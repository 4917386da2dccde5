"""Fitting NMR light (and pose) to a masked photo of a known mesh."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from lambertian.cli.main import main
from lambertian.fit import LightParams, fit_light, fit_pose
from lambertian.fit.rotation import axis_angle_to_matrix, rotation_angle_deg
from lambertian.render import Camera, look_at_pose, render, save_mesh
from lambertian.render.shade import pixel_normals
from lambertian.synth import meshes

LIGHT = torch.tensor([0.4, 0.7, 0.5]) / torch.tensor([0.4, 0.7, 0.5]).norm()


def _scene(size: int = 64):
    mesh = meshes.car(subdivisions=2)
    R, t = look_at_pose([3.0, 2.5, 7.0], [0.0, 0.0, 0.0])
    K = torch.tensor([[70.0 * size / 64, 0, (size - 1) / 2], [0, 70.0 * size / 64, (size - 1) / 2],
                      [0, 0, 1]])
    cam = Camera.create(K, R, t, size, size)
    img, fr = render(mesh, cam, LIGHT[None], 0.6, 0.3)
    return mesh, cam, img[..., 0], fr


def _angle(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    c = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def test_light_fit_recovers_light_and_ignores_shadow_like_outliers():
    mesh, cam, img, fr = _scene()
    n = pixel_normals(mesh, cam, fr)
    res = fit_light(n, img, fr.mask)["light"]
    assert _angle(res["direction"], LIGHT) < 0.1
    assert res["intensity"] == pytest.approx(0.6, rel=1e-3)
    assert res["ambient"] == pytest.approx(0.3, rel=1e-3)
    # a "cast shadow": 15% of the lit pixels (a seeded random blob) fall to ambient only
    g = torch.Generator().manual_seed(3)
    lit = torch.nonzero(fr.mask & (img > 0.45))
    pick = lit[torch.randperm(len(lit), generator=g)[: len(lit) * 15 // 100]]
    shadowed = img.clone()
    shadowed[pick[:, 0], pick[:, 1]] = 0.3
    robust = fit_light(n, shadowed, fr.mask)["light"]
    plain = fit_light(n, shadowed, fr.mask, robust=False)["light"]
    assert _angle(robust["direction"], LIGHT) < 1.0
    assert robust["intensity"] == pytest.approx(0.6, rel=0.02)
    assert robust["ambient"] == pytest.approx(0.3, rel=0.02)
    assert abs(plain["ambient"] - 0.3) > abs(robust["ambient"] - 0.3)  # least squares is hurt


@pytest.mark.xfail(reason="issue 5: the pose fit does not yet reliably halve a 3 degree "
                   "rotation error (2.2 degrees left in one run); open work", strict=False)
def test_pose_fit_from_a_perturbed_start():
    mesh, cam, img, fr = _scene()
    light = LightParams.init(0.3, 0.6, tuple(LIGHT.tolist()))
    w = torch.tensor([0.02, -0.04, 0.03])  # 3 degrees
    cam0 = Camera(cam.K, axis_angle_to_matrix(w) @ cam.R, cam.t * 1.03, 64, 64)
    out = fit_pose(mesh, cam0, img, fr.mask, light, shading_weight=1.0, steps=100)
    start_rot = rotation_angle_deg(cam0.R, cam.R)
    assert rotation_angle_deg(out["R"], cam.R) < 0.5 * start_rot
    assert float((out["t"] - cam.t).norm() / cam.t.norm()) < 0.015


def _write_inputs(tmp_path, bits16: bool):
    mesh, cam, img, fr = _scene(size=96)
    save_mesh(mesh, tmp_path / "car.ply")
    photo = img.numpy()
    if bits16:
        cv2.imwrite(str(tmp_path / "photo.png"), (photo * 65535 + 0.5).astype(np.uint16))
    else:
        rgb = np.stack([photo] * 3, -1)
        cv2.imwrite(str(tmp_path / "photo.png"), (rgb * 255 + 0.5).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "mask.png"), fr.mask.numpy().astype(np.uint8) * 255)
    np.savetxt(tmp_path / "K.txt", cam.K.numpy())
    np.savetxt(tmp_path / "pose.txt", np.concatenate([cam.R.numpy(), cam.t.numpy()[:, None]], 1))
    return cam


@pytest.mark.parametrize("bits16", [True, False])
def test_cli_fit_writes_light_pose_and_pictures(tmp_path, bits16):
    cam = _write_inputs(tmp_path, bits16)
    out = tmp_path / "out"
    rc = main(["fit", str(tmp_path / "car.ply"), str(tmp_path / "photo.png"), "--mask",
               str(tmp_path / "mask.png"), "--camera", str(tmp_path / "K.txt"), "--pose",
               str(tmp_path / "pose.txt"), "--crop", "8", "20", "80", "60", "--out", str(out)])
    assert rc == 0
    res = json.loads((out / "fit.json").read_text())
    tol = 0.2 if bits16 else 1.0  # 8 bits quantise the photo
    assert _angle(res["light"]["direction"], LIGHT) < tol
    assert res["light"]["intensity"] == pytest.approx(0.6, rel=0.02)
    # world light = R^T (OpenCV camera light)
    world = cam.R.numpy().T @ (np.array([1, -1, -1]) * np.array(res["light"]["direction"]))
    assert np.allclose(res["light_world"]["direction"], world, atol=1e-5)
    assert (out / "overlay.png").stat().st_size > 0
    assert 0 < (out / "fit.gif").stat().st_size < 2_000_000


def test_cli_fit_bad_inputs_are_one_line_errors(tmp_path, capsys):
    _write_inputs(tmp_path, True)
    (tmp_path / "K.txt").write_text("1 2 3\n")
    rc = main(["fit", str(tmp_path / "car.ply"), str(tmp_path / "photo.png"), "--mask",
               str(tmp_path / "mask.png"), "--camera", str(tmp_path / "K.txt"), "--pose",
               str(tmp_path / "pose.txt"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "K.txt" in err and "3x3" in err and "\n" not in err
    np.savetxt(tmp_path / "K.txt", np.eye(3))
    rc = main(["fit", str(tmp_path / "car.ply"), str(tmp_path / "photo.png"), "--mask",
               str(tmp_path / "photo.png"), "--camera", str(tmp_path / "K.txt"), "--pose",
               str(tmp_path / "pose.txt"), "--crop", "0", "0", "500", "10"])
    assert rc == 2 and "--crop" in capsys.readouterr().err
