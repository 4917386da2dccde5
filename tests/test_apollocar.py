"""The ApolloCar3D readers: JSON car meshes and pose rows, checked on rendered silhouettes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lambertian.core.errors import InputError
from lambertian.core.frames import apollocar_pose_to_rt, rt_to_apollocar_pose
from lambertian.io.apollocar import (
    CarPose,
    format_pose_rows,
    parse_pose_rows,
    read_car_mesh,
    read_car_models,
)
from lambertian.render.camera import Camera
from lambertian.render.mesh import load_mesh
from lambertian.render.rasterize import rasterize
from tests.conftest import need_data

F = 100.0  # focal length of the 128 x 128 test camera (pixels)
K = np.array([[F, 0.0, 63.5], [0.0, F, 63.5], [0.0, 0.0, 1.0]])


def _rx(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def test_pose_row_matches_the_data_readme_formula_and_round_trips():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a1 = rng.uniform(-1.4, 1.4)
        a2, a3 = rng.uniform(-math.pi, math.pi, 2)
        R, t = apollocar_pose_to_rt(a1, a2, a3, 1.0, 2.0, 30.0)
        # the data README: R = (Ry(-a2) Rx(-a1) Rz(-a3))^T
        np.testing.assert_allclose(R, (_ry(-a2) @ _rx(-a1) @ _rz(-a3)).T, atol=1e-12)
        back = rt_to_apollocar_pose(R, t)
        np.testing.assert_allclose(back, (a1, a2, a3, 1.0, 2.0, 30.0), atol=1e-9)


def test_pose_rows_parse_and_format_exactly():
    text = "16 0.254839 -2.57534 -3.10256 7.96539 3.20066 11.0225 5 0.1 0.2 3.0 -1 2 40"
    poses = parse_pose_rows(text)
    assert [p.model_id for p in poses] == [16, 5]
    again = parse_pose_rows(format_pose_rows(poses))
    for p, q in zip(poses, again, strict=True):
        np.testing.assert_allclose(p.R, q.R, atol=1e-12)
        np.testing.assert_array_equal(p.t, q.t)
    np.testing.assert_allclose(poses[0].to_row()[1:], [0.254839, -2.57534, -3.10256, 7.96539,
                                                       3.20066, 11.0225], atol=1e-9)
    with pytest.raises(InputError, match="7 numbers each"):
        parse_pose_rows("1 2 3", "row.txt")
    with pytest.raises(InputError, match="row.txt"):
        parse_pose_rows("1 a 3 4 5 6 7", "row.txt")


def _silhouette(mesh, row):
    pose = CarPose.from_row(row)
    cam = Camera.create(K, pose.R, pose.t, 128, 128, dtype=torch.float64)
    return rasterize(mesh.to(torch.float64), cam).mask.numpy(), cam


def test_car_mesh_with_a_known_pose_row_has_its_roof_up_and_its_size_in_pixels():
    path = need_data("apollocar3d", "car_models_json", "019-SUV.json")
    mesh = load_mesh(path, dtype=torch.float64)
    raw = json.loads(path.read_text())
    v_file = np.asarray(raw["vertices"])
    width, height, length = np.ptp(v_file, axis=0)  # 2.14, 1.80, 4.81 m
    # upright cars in the competition's rows have a3 close to pi; seen from behind at 10 m
    sil, cam = _silhouette(mesh, (19, 0.0, 0.0, math.pi, 0.0, 0.0, 10.0))
    rows, cols = np.nonzero(sil)
    w_px, h_px = np.ptp(cols) + 1, np.ptp(rows) + 1
    # the car's widest and tallest parts lie between its middle (10 m) and its near end
    # (10 - 2.4 m): the silhouette's size lies between the two projections
    near = 10.0 - length / 2
    assert F * width / 10.0 - 1 <= w_px <= F * width / near + 1, (w_px, width)
    assert F * height / 10.0 - 1 <= h_px <= F * height / near + 1, (h_px, height)
    # seen from behind a car is wider than it is tall; the other way round if x and y swapped
    assert w_px > h_px
    # roof up: the file's roof (its lowest y, 1.3 m wide) projects above its wheels
    uv = cam.project(cam.to_camera(mesh.vertices)).numpy()
    roof = v_file[:, 1] < v_file[:, 1].min() + 0.1
    ground = v_file[:, 1] > v_file[:, 1].max() - 0.1
    assert uv[roof, 1].mean() < uv[ground, 1].mean() - 0.8 * h_px
    # side view (a2 = pi/2): the car's length across the image, the roof shorter than the base
    sil, _ = _silhouette(mesh, (19, 0.0, math.pi / 2, math.pi, 0.0, 0.0, 10.0))
    rows, cols = np.nonzero(sil)
    assert abs(np.ptp(cols) + 1 - F * length / 10.0) < 0.1 * F * length / 10.0
    top, bottom = rows.min(), rows.max()
    assert span_of(sil, top + 2) < 0.8 * span_of(sil, bottom - 4)
    # a3 = 0 (the rows' convention ignored) turns the car upside down
    sil_flip, _ = _silhouette(mesh, (19, 0.0, math.pi / 2, 0.0, 0.0, 0.0, 10.0))
    rows, _ = np.nonzero(sil_flip)
    assert span_of(sil_flip, rows.min() + 2) > span_of(sil_flip, rows.max() - 4)


def span_of(sil, r):
    return np.ptp(np.nonzero(sil[r])[0]) + 1


def test_car_mesh_normals_point_out():
    path = need_data("apollocar3d", "car_models_json", "019-SUV.json")
    v, f = read_car_mesh(path)
    tri = v[f]
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0
    assert volume > 1.0  # positive: counter-clockwise seen from outside after the mirror


def test_car_models_table():
    names = read_car_models(need_data("apollocar3d", "car_models.tsv"))
    assert len(names) == 79 and names[0] == "baojun-310-2017"


def test_bad_json_meshes_are_one_line_errors(tmp_path):
    cases = {"a.json": "{not json", "b.json": json.dumps({"vertices": [[0, 0, 0]]}),
             "c.json": json.dumps({"vertices": [[0, 0, 0]] * 3, "faces": [[0, 1, 2]]}),
             "d.json": json.dumps({"vertices": [[0, 0]], "faces": [[1, 1, 1]]})}
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(InputError) as err:
            load_mesh(p)
        assert str(err.value).startswith(str(p)) and "\n" not in str(err.value)
