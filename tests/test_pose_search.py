"""Coarse pose search of a car from its mask (model, heading, distance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lambertian.fit.pose_search import place_on_box, search_car_pose, silhouette_score
from lambertian.io.apollocar import CarPose
from lambertian.render import Camera, rasterize
from lambertian.render.mesh import load_mesh
from tests.conftest import need_data

MODELS = ("019-SUV", "036-CAR01", "037-CAR02")
K = np.array([[200.0, 0.0, 70.0], [0.0, 200.0, 40.0], [0.0, 0.0, 1.0]])


def _cars():
    d = need_data("apollocar3d", "car_models_json")
    return {m: load_mesh(d / f"{m}.json", dtype=torch.float64) for m in MODELS}


def _mask(mesh, pose, w=128, h=96):
    cam = Camera.create(K, pose.R, pose.t, w, h, dtype=torch.float64)
    return rasterize(mesh, cam).mask.numpy()


@pytest.mark.parametrize("model,heading", [("037-CAR02", 0.7), ("019-SUV", -2.3)])
def test_search_finds_model_heading_and_distance_from_a_silhouette(model, heading):
    cars = _cars()
    truth = CarPose.from_row([0, 0.1, heading, math.pi, -0.8, 1.5, 14.0])
    mask = _mask(cars[model], truth)
    best = search_car_pose(cars, mask, K)[0]
    assert best.key == model
    # headings are tried every 15 degrees, then refined in steps of ~2 degrees
    assert abs(math.remainder(best.a2 - heading, 2 * math.pi)) < math.radians(3.0)
    assert np.linalg.norm(best.t - truth.t) < 0.03 * np.linalg.norm(truth.t)
    assert best.score > 0.9


def test_place_on_box_gives_the_box_height_and_bottom():
    cars = _cars()
    pose = CarPose.from_row([0, 0.1, 0.3, math.pi, 0.5, 1.5, 12.0])
    v = cars["036-CAR01"].vertices.numpy()
    P = v @ pose.R.T + pose.t
    uv = (P @ K.T)[:, :2] / P[:, 2:3]
    # a box of pixel indices spans [v0 - 0.5, v1 + 0.5]: the projected outline exactly
    box = (uv[:, 0].min() + 0.5, uv[:, 1].min() + 0.5, uv[:, 0].max() - 0.5, uv[:, 1].max() - 0.5)
    t = place_on_box(v, pose.R, K, box)
    P = v @ pose.R.T + t
    uv2 = (P @ K.T)[:, :2] / P[:, 2:3]
    assert np.ptp(uv2[:, 1]) == pytest.approx(np.ptp(uv[:, 1]), abs=0.05)
    assert uv2[:, 1].max() == pytest.approx(uv[:, 1].max(), abs=0.05)
    np.testing.assert_allclose(t, pose.t, rtol=2e-3)


def test_silhouette_score_counts_hidden_pixels_neither_way():
    target = np.zeros((10, 10), bool)
    target[2:8, 2:5] = True  # the visible part of a car hidden on its right
    front = np.zeros((10, 10), bool)
    front[:, 5:] = True
    whole = np.zeros((10, 10), bool)
    whole[2:8, 2:8] = True  # its full silhouette continues behind the front car
    assert silhouette_score(whole, target) == pytest.approx(0.0)
    assert silhouette_score(whole, target, ignore=front) == pytest.approx(1.0)
    assert silhouette_score(whole, target, spill=3.0) == pytest.approx(-2.0)


def test_search_finds_a_car_partly_hidden_by_a_car_in_front():
    """The far car is judged on its visible pixels, the front car's pixels ignored, with
    sideways offsets (its visible box is not its box)."""
    from lambertian.fit.scene import SceneObject, merge_objects, pixel_owner

    cars = _cars()
    front = CarPose.from_row([0, 0.1, 0.5, math.pi, -2.2, 1.5, 11.0])
    back = CarPose.from_row([0, 0.1, -0.4, math.pi, -0.3, 1.5, 16.0])
    objs = [SceneObject(cars["036-CAR01"], front.R, front.t, None, "front"),
            SceneObject(cars["019-SUV"], back.R, back.t, None, "back")]
    merged, owner = merge_objects(objs, dtype=torch.float64)
    cam = Camera.create(K, np.eye(3), np.zeros(3), 128, 96, dtype=torch.float64)
    pown = pixel_owner(rasterize(merged, cam).face, owner).numpy()
    visible, hidden_by = pown == 1, _mask(cars["036-CAR01"], front)
    full = _mask(cars["019-SUV"], back)
    assert visible.sum() < 0.85 * full.sum()  # a real occlusion
    best = search_car_pose(cars, visible, K, ignore=hidden_by, max_shift=0.3)[0]
    assert best.key == "019-SUV"
    assert abs(math.remainder(best.a2 - (-0.4), 2 * math.pi)) < math.radians(5.0)
    assert np.linalg.norm(best.t - back.t) < 0.05 * np.linalg.norm(back.t)


def test_search_grows_the_box_of_a_car_whose_lower_part_is_hidden():
    """A railing-like band hides the car's lower 40%: the visible box is short, so the
    distance from its height is wrong; growing the box downward finds the car."""
    cars = _cars()
    truth = CarPose.from_row([0, 0.1, 0.9, math.pi, -0.5, 1.5, 13.0])
    full = _mask(cars["037-CAR02"], truth)
    rows = np.nonzero(full.any(1))[0]
    band = np.zeros_like(full)
    band[rows[0] + int(0.6 * len(rows)):] = True
    visible = full & ~band
    plain = search_car_pose(cars, visible, K)[0]
    best = search_car_pose(cars, visible, K, ignore=band,
                           grow=tuple(np.linspace(1.0, 2.0, 6)), headings=12)[0]
    assert np.linalg.norm(plain.t - truth.t) > 0.2 * np.linalg.norm(truth.t)
    assert best.key == "037-CAR02"
    assert abs(math.remainder(best.a2 - 0.9, 2 * math.pi)) < math.radians(5.0)
    assert np.linalg.norm(best.t - truth.t) < 0.06 * np.linalg.norm(truth.t)
    # the coarse grid at one middle height only ranks; the refinement tries them all
    quick = search_car_pose(cars, visible, K, ignore=band, grow=tuple(np.linspace(1.0, 2.0, 6)),
                            coarse_grow=(1.5,), headings=12)[0]
    assert quick.key == "037-CAR02"
    assert abs(math.remainder(quick.a2 - 0.9, 2 * math.pi)) < math.radians(5.0)
    assert np.linalg.norm(quick.t - truth.t) < 0.06 * np.linalg.norm(truth.t)
