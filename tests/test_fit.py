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
    res = fit_light(n, img, fr.mask).light
    assert _angle(res.direction, LIGHT) < 0.1
    assert res.intensity == pytest.approx(0.6, rel=1e-3)
    assert res.ambient == pytest.approx(0.3, rel=1e-3)
    # a "cast shadow": 15% of the lit pixels (a seeded random blob) fall to ambient only
    g = torch.Generator().manual_seed(3)
    lit = torch.nonzero(fr.mask & (img > 0.45))
    pick = lit[torch.randperm(len(lit), generator=g)[: len(lit) * 15 // 100]]
    shadowed = img.clone()
    shadowed[pick[:, 0], pick[:, 1]] = 0.3
    robust = fit_light(n, shadowed, fr.mask).light
    plain = fit_light(n, shadowed, fr.mask, robust=False).light
    assert _angle(robust.direction, LIGHT) < 1.0
    assert robust.intensity == pytest.approx(0.6, rel=0.02)
    assert robust.ambient == pytest.approx(0.3, rel=0.02)
    assert abs(plain.ambient - 0.3) > abs(robust.ambient - 0.3)  # least squares is hurt


def test_nonneg_light_fit_keeps_intensities_physical():
    """``nonneg``: the same light on a clean render; on a photo with a black level below
    zero (no light explains it) the free ambient goes negative, the constrained one not."""
    mesh, cam, img, fr = _scene()
    n = pixel_normals(mesh, cam, fr)
    init = LightParams.init()
    res = fit_light(n, img, fr.mask, nonneg=True, init=init).light
    assert _angle(res.direction, LIGHT) < 0.1
    assert res.intensity == pytest.approx(0.6, rel=1e-3)
    assert res.ambient == pytest.approx(0.3, rel=1e-3)
    assert float(init.intensity) == pytest.approx(0.6, rel=1e-3)  # the caller's params move
    offset = img - 0.5
    free = fit_light(n, offset, fr.mask, robust=False).light
    kept = fit_light(n, offset, fr.mask, robust=False, nonneg=True).light
    assert free.ambient == pytest.approx(-0.2, abs=1e-3)
    assert kept.intensity >= 0 and 0 <= kept.ambient < 1e-2


def test_pose_fit_from_a_perturbed_start():
    """3 degrees and 3% off at 128x128: silhouette + shading lands within 0.5 degree and
    0.5%; the silhouette alone stays further off in rotation (the seed's observation)."""
    mesh, cam, img, fr = _scene(size=128)
    light = LightParams.init(0.3, 0.6, tuple(LIGHT.tolist()))
    w = torch.tensor([0.02, -0.04, 0.03])  # 3 degrees
    cam0 = Camera(cam.K, axis_angle_to_matrix(w) @ cam.R, cam.t * 1.03, 128, 128)
    out = fit_pose(mesh, cam0, img, fr.mask, light, shading_weight=10.0, steps=100)
    rot = rotation_angle_deg(out["R"], cam.R)
    assert rot < 0.5
    assert float((out["t"] - cam.t).norm() / cam.t.norm()) < 0.005
    sil = fit_pose(mesh, cam0, img, fr.mask, light, shading_weight=0.0, steps=100)
    assert rotation_angle_deg(sil["R"], cam.R) > rot


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
               str(tmp_path / "pose.txt"), "--crop", "8", "20", "80", "60", "--out", str(out),
               "--no-shadows"])  # our NMR photo has no shadows: the shadow model is tested below
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


def _cli(tmp_path, out, *extra):
    return main(["fit", str(tmp_path / "car.ply"), str(tmp_path / "photo.png"), "--mask",
                 str(tmp_path / "mask.png"), "--camera", str(tmp_path / "K.txt"), "--pose",
                 str(tmp_path / "pose.txt"), "--out", str(out), *extra])


def test_cli_fit_models_cast_shadows_of_the_mesh_on_a_mitsuba_photo(tmp_path):
    """A Mitsuba photo of the car (cast shadows, sky occlusion): the command's default
    shadow model recovers the light; without it the ambient comes out low."""
    pytest.importorskip("mitsuba")
    from lambertian.synth.mitsuba_scene import render_mitsuba

    mesh = meshes.car(subdivisions=2)
    R, t = look_at_pose([3.0, 2.5, 7.0], [0.0, 0.0, 0.0])
    K = torch.tensor([[175.0, 0, 75.2], [0, 175.0, 84.8], [0, 0, 1]])
    cam = Camera.create(K, R, t, 160, 160)
    photo = render_mitsuba(mesh, cam, LIGHT, 0.6, 0.3, spp=16, seed=3)
    save_mesh(mesh, tmp_path / "car.ply")
    cv2.imwrite(str(tmp_path / "photo.png"), (np.clip(photo, 0, 1) * 65535 + 0.5).astype(np.uint16))
    from lambertian.render import rasterize

    mask = rasterize(mesh, cam).mask.numpy()
    cv2.imwrite(str(tmp_path / "mask.png"), mask.astype(np.uint8) * 255)
    np.savetxt(tmp_path / "K.txt", K.numpy())
    np.savetxt(tmp_path / "pose.txt", np.concatenate([R.numpy(), t.numpy()[:, None]], 1))
    assert _cli(tmp_path, tmp_path / "on", "--smooth") == 0
    on = json.loads((tmp_path / "on" / "fit.json").read_text())
    assert _angle(on["light"]["direction"], LIGHT) < 1.0
    assert on["light"]["intensity"] == pytest.approx(0.6, rel=0.02)
    assert on["light"]["ambient"] == pytest.approx(0.3, rel=0.02)
    assert _cli(tmp_path, tmp_path / "off", "--smooth", "--no-shadows") == 0
    off = json.loads((tmp_path / "off" / "fit.json").read_text())
    assert abs(off["light"]["ambient"] - 0.3) > abs(on["light"]["ambient"] - 0.3)


def test_cli_fit_pose_end_to_end(tmp_path):
    """--fit-pose from a pose 3 degrees and 3% off: the written pose is closer to the truth."""
    cam = _write_inputs(tmp_path, True)
    w = torch.tensor([0.02, -0.04, 0.03])  # 3 degrees
    R0 = axis_angle_to_matrix(w) @ cam.R
    t0 = cam.t * 1.03
    np.savetxt(tmp_path / "pose.txt", np.concatenate([R0.numpy(), t0.numpy()[:, None]], 1))
    out = tmp_path / "out"
    assert _cli(tmp_path, out, "--fit-pose", "--no-shadows", "--steps", "80") == 0
    res = json.loads((out / "fit.json").read_text())
    R = torch.tensor(res["pose"]["R"])
    t = torch.tensor(res["pose"]["t"])
    assert rotation_angle_deg(R, cam.R) < 0.5 * rotation_angle_deg(R0, cam.R)
    assert float((t - cam.t).norm() / cam.t.norm()) < 0.01
    assert _angle(res["light"]["direction"], LIGHT) < 2.0
    assert 0 < (out / "fit.gif").stat().st_size < 2_000_000


def test_app_mesh_fit_reports_its_steps_and_returns_the_light_type():
    """lambertian.fit_mesh_light: arrays in, a MeshFit with DirectionalLights out; the
    progress callback sees light, pose, then the light again at the fitted pose."""
    from lambertian.app import fit_mesh_light
    from lambertian.core.light import DirectionalLight

    mesh, cam, _, fr = _scene()
    # the photo integrates each pixel's area, as a camera does (the fit's model: 4 x 4)
    from tests.test_fit_scene import LIGHT as SCENE_LIGHT
    from tests.test_fit_scene import _area_render

    assert np.allclose(SCENE_LIGHT, LIGHT.numpy())
    img = torch.from_numpy(_area_render(mesh, cam))
    w = torch.tensor([0.01, -0.02, 0.0])  # about 1 degree off
    R0 = (axis_angle_to_matrix(w) @ cam.R).numpy()
    stages: list[str] = []

    def progress(stage, step, loss):
        if not stages or stages[-1] != stage:
            stages.append(stage)

    res = fit_mesh_light(mesh, img.numpy(), fr.mask.numpy(), cam.K.numpy(), R0, cam.t.numpy(),
                         fit_pose=True, steps=30, progress=progress)
    assert stages == ["shadows", "light", "pose", "shadows", "light again"]
    assert isinstance(res.light, DirectionalLight) and isinstance(res.light_world,
                                                                   DirectionalLight)
    # the photo is rendered without cast shadows, which the shadow model expects: near,
    # not exact (the exact light fit is checked without the shadow model above)
    assert _angle(res.light.direction, LIGHT) < 3.0
    assert res.light.intensity == pytest.approx(0.6, rel=0.05)
    start = rotation_angle_deg(torch.from_numpy(R0), cam.R)  # 1.3 degrees
    assert rotation_angle_deg(torch.from_numpy(res.R).float(), cam.R) < start  # 30 steps
    world = res.R.T @ (np.array([1, -1, -1]) * res.light.direction)
    assert np.allclose(res.light_world.direction, world, atol=1e-5)
    assert len(res.frames) > 2 and res.frames[-1].shape == (64, 128)


def test_a_real_car_mesh_alone_on_a_mitsuba_photo():
    """`lambertian fit MESH` on a real ApolloCar3D car (a triangle soup with twin faces,
    faces smaller than a pixel) rendered by Mitsuba: the pixel-area model with exact rays
    and the backs of faces left out recovers the light; the old model (pixel centres,
    shadow maps, every pixel) was 11 degrees and 48% off on this car."""
    pytest.importorskip("mitsuba")
    from lambertian.app import fit_mesh_light
    from lambertian.io.apollocar import CarPose
    from lambertian.render import rasterize
    from lambertian.render.mesh import load_mesh
    from lambertian.synth.mitsuba_scene import render_mitsuba
    from tests.conftest import need_data

    mesh = load_mesh(need_data("apollocar3d", "car_models_json", "aodi-a6.json"))
    light = np.array([-0.5, 0.6, 0.6]) / np.linalg.norm([-0.5, 0.6, 0.6])
    pose = CarPose.from_row([0, 0.12, 2.0, np.pi, 1.5, 1.5, 10.0])
    size, f = 128, 1.1 * 128
    K = np.array([[f, 0.0, (size - 1) / 2], [0.0, f, 0.4 * size - 0.5], [0.0, 0.0, 1.0]])
    cam = Camera.create(K, pose.R, pose.t, size, size)
    photo = render_mitsuba(mesh, cam, light, 0.6, 0.3, spp=32, seed=3, smooth=False)
    res = fit_mesh_light(mesh, photo, rasterize(mesh, cam).mask.numpy(), K, pose.R, pose.t)
    assert _angle(res.light.direction, light) < 0.5  # measured 0.21
    assert res.light.intensity == pytest.approx(0.6, rel=0.03)
    assert res.light.ambient == pytest.approx(0.3, rel=0.03)


def test_a_photo_without_shading_is_refused_naming_it():
    from lambertian.app import fit_mesh_light
    from lambertian.core.errors import InputError

    mesh, cam, _, fr = _scene()
    black = np.zeros(fr.mask.shape, np.float32)
    with pytest.raises(InputError, match=r"shot\.png: no shading"):
        fit_mesh_light(mesh, black, fr.mask.numpy(), cam.K.numpy(), cam.R.numpy(),
                       cam.t.numpy(), steps=5, photo_source="shot.png")
