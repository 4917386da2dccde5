"""Coarse pose search of a known car from its mask: which model, which heading, how far.

For every candidate mesh and heading (the pose rows' a2, with the car upright, a3 = pi,
and a small pitch a1) the car is placed on the ray through the mask's bounding box, at
the distance where its projected height equals the box's height (the car's known size
fixes the distance), and shifted so its projected box sits on the mask's box (bottom and
centre). Its silhouette is then rendered at a low resolution around the box and scored
against the mask; the best poses seed the gradient pose fit (:mod:`lambertian.fit.pose`).

The score is ``1 - |S xor T| / |T|`` (the symmetric difference of
:func:`lambertian.fit.losses.symmetric_difference_loss`, unbiased in distance), with
``spill`` weighting rendered pixels outside the mask (above 1, a car that stays inside a
mask holding several cars wins), and pixels in ``ignore`` (another car in front) counted
neither way, so a hidden car is judged on its visible part.

Reference: X. Song et al., "ApolloCar3D", CVPR 2019 (the car models and pose rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lambertian.core.errors import InputError
from lambertian.core.frames import apollocar_pose_to_rt
from lambertian.render.camera import Camera
from lambertian.render.mesh import Mesh
from lambertian.render.rasterize import rasterize

SEARCH_HEIGHT = 48  # pixels the mask's box is scaled to: one heading step moves the
# outline by a few pixels there, enough to rank headings, and each render takes ms


@dataclass
class PoseCandidate:
    """One scored hypothesis: ``key`` (the candidate mesh's key), pose ``R`` (3, 3) and
    ``t`` (3,) (model to OpenCV camera), heading ``a2`` and pitch ``a1`` (radians) and
    ``score`` (1 = the silhouette equals the mask)."""

    key: object
    R: np.ndarray
    t: np.ndarray
    a1: float
    a2: float
    score: float


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.nonzero(mask.any(1))[0]
    cols = np.nonzero(mask.any(0))[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def place_on_box(vertices: np.ndarray, R: np.ndarray, K: np.ndarray,
                 box: tuple[float, float, float, float], shift: float = 0.0) -> np.ndarray:
    """Translation ``t`` (3,) putting the model's vertices (V, 3), rotated by ``R``, so that
    their projected bounding box has the height of ``box`` = (u0, v0, u1, v1) (full-image
    pixels), its bottom on the box's bottom and its centre column at the box's centre +
    ``shift`` box widths."""
    u0, v0, u1, v1 = box
    X = vertices @ R.T
    t = np.linalg.inv(K) @ np.array([0.5 * (u0 + u1), 0.5 * (v0 + v1), 1.0]) * 10.0
    for _ in range(4):  # fixed point: the projected size goes as 1/z, the position as t/z
        P = X + t
        uv = (P @ K.T)[:, :2] / P[:, 2:3]
        # scaling t along its ray keeps the origin's projection and scales the size as 1/z
        t = t * (uv[:, 1].max() - uv[:, 1].min()) / max(v1 - v0 + 1.0, 1.0)
        P = X + t
        uv = (P @ K.T)[:, :2] / P[:, 2:3]
        du = 0.5 * (u0 + u1) + shift * (u1 - u0) - 0.5 * (uv[:, 0].max() + uv[:, 0].min())
        dv = v1 + 0.5 - uv[:, 1].max()
        t = t + np.array([du * t[2] / K[0, 0], dv * t[2] / K[1, 1], 0.0])
    return t


def silhouette_score(sil: np.ndarray, target: np.ndarray, ignore: np.ndarray | None = None,
                     spill: float = 1.0) -> float:
    """``(|S and T| - spill |S minus T|) / |T|``, S minus the pixels in ``ignore`` (all
    (h, w) bool): 1 when S equals T, ``1 - |S xor T| / |T|`` for ``spill`` 1."""
    if ignore is not None:
        sil = sil & ~ignore
    inside = np.logical_and(sil, target).sum()
    outside = np.logical_and(sil, ~target).sum()
    return float((inside - spill * outside) / max(target.sum(), 1))


def search_car_pose(candidates: dict[object, Mesh], mask: np.ndarray, K: np.ndarray, *,
                    headings: int = 24, pitches: tuple[float, ...] = (0.1,),
                    max_shift: float = 0.0, grow: tuple[float, ...] = (1.0,),
                    ignore: np.ndarray | None = None,
                    spill: float = 1.0, refine: int = 8, keep: int = 5,
                    coarse_grow: tuple[float, ...] | None = None) -> list[PoseCandidate]:
    """Best poses of a car (model, heading, distance) for a mask, by silhouette.

    Parameters
    ----------
    candidates : key -> mesh in the ApolloCar3D model frame
        (:func:`lambertian.io.apollocar.read_car_mesh`: y down, x across, z along the car).
    mask : (H, W) bool, the car's visible pixels in the full image.
    K : (3, 3) intrinsics of the full image (OpenCV).
    headings : number of headings a2 in [-pi, pi) (the car upright, a3 = pi).
    pitches : pitches a1 to try (radians: the road's tilt seen by the camera).
    max_shift : largest sideways offset of the car from the mask box's centre, in box
        widths (for a mask holding several cars, or a car partly hidden, whose box is
        not the car's); every pixel offset up to it is scored.
    grow : heights tried for the car's box, as multiples of the mask box's height, the
        box extended downward (its top kept): for a car whose lower part is hidden (by
        a railing, by a car in front), whose visible box is shorter than the car.
    ignore : (H, W) bool pixels hidden by cars in front (counted neither way).
    spill : weight of rendered pixels outside the mask (see :func:`silhouette_score`).
    refine : number of models (the best of the coarse grid) whose heading is refined on
        a grid 7 times finer.
    keep : number of best candidates returned.
    coarse_grow : the box heights of the coarse grid (default: all of ``grow``); the
        refinement scores all of ``grow``. One middle value makes a search with many
        heights cost about one search: the coarse grid only ranks models and headings.

    Returns
    -------
    The ``keep`` best :class:`PoseCandidate`, best first.
    """
    if mask.sum() < 10:
        raise InputError("mask", "fewer than 10 mask pixels: nothing to search a car for")
    u0, v0, u1, v1 = _box(mask)
    s = SEARCH_HEIGHT / float(v1 - v0 + 1)
    coarse = tuple(grow if coarse_grow is None else coarse_grow)
    margin = int((max(tuple(grow) + coarse) - 0.5) * (v1 - v0 + 1)) + int(max_shift * (u1 - u0 + 1))
    x0, y0 = max(u0 - margin, 0), max(v0 - margin, 0)
    x1, y1 = min(u1 + margin, mask.shape[1] - 1), min(v1 + margin, mask.shape[0] - 1)
    # the window at scale s: small pixel centre c covers full-image u = x0 + (c + 0.5) / s
    # - 0.5, so c = s u + 0.5 s - 0.5 - s x0 (cv2.resize INTER_AREA's pixel grid)
    w, h = max(1, round((x1 - x0 + 1) * s)), max(1, round((y1 - y0 + 1) * s))
    S = np.array([[s, 0.0, 0.5 * s - 0.5 - s * x0], [0.0, s, 0.5 * s - 0.5 - s * y0],
                  [0.0, 0.0, 1.0]])
    K_small = S @ K
    import cv2

    def small(m: np.ndarray) -> np.ndarray:
        return cv2.resize(m[y0:y1 + 1, x0:x1 + 1].astype(np.float32), (w, h),
                          interpolation=cv2.INTER_AREA) >= 0.5

    target = small(mask)
    ign = None if ignore is None else small(ignore)
    max_dx = int(round(max_shift * (u1 - u0 + 1) * s))

    def score_pose(key: object, mesh: Mesh, a1: float, a2: float,
                   heights: tuple[float, ...] = grow) -> PoseCandidate | None:
        scored = [c for g in heights if (c := score_box(key, mesh, a1, a2, g)) is not None]
        return max(scored, key=lambda c: c.score) if scored else None

    def score_box(key: object, mesh: Mesh, a1: float, a2: float, g: float
                  ) -> PoseCandidate | None:
        R, _ = apollocar_pose_to_rt(a1, a2, math.pi, 0.0, 0.0, 0.0)
        box = (u0, v0, u1, v0 + g * (v1 - v0 + 1) - 1)
        t = place_on_box(mesh.vertices.detach().double().numpy(), R, K, box)
        if t[2] <= 0:
            return None
        cam = Camera.create(K_small, R, t, w, h, dtype=torch.float64)
        with torch.no_grad():
            sil = rasterize(Mesh(mesh.vertices.double(), mesh.faces), cam).mask.numpy()
        # sideways shifts of a few pixels move the silhouette without changing it (the
        # perspective change is second order): score them on the one render
        best_dx, best = 0, -np.inf
        for dx in range(-max_dx, max_dx + 1):
            sc = silhouette_score(np.roll(sil, dx, axis=1), target, ign, spill)
            if sc > best:
                best_dx, best = dx, sc
        t = t + np.array([best_dx / s * t[2] / K[0, 0], 0.0, 0.0])
        return PoseCandidate(key, R, t, a1, a2, float(best))

    step = 2.0 * math.pi / headings
    found = [c for key, mesh in candidates.items() for a1 in pitches for k in range(headings)
             if (c := score_pose(key, mesh, a1, -math.pi + step * k, coarse)) is not None]
    found.sort(key=lambda c: -c.score)
    # the grid's best are refined on a finer heading grid (a step of the coarse grid moves
    # the outline more than the differences between similar models), one per model
    refined: list[PoseCandidate] = []
    seen: set[object] = set()
    for c in found:
        if len(seen) >= refine:
            break
        if c.key in seen:
            continue
        seen.add(c.key)
        for da in np.linspace(-0.5 * step, 0.5 * step, 7):
            r = score_pose(c.key, candidates[c.key], c.a1, c.a2 + float(da))
            if r is not None:
                refined.append(r)
    refined.sort(key=lambda c: -c.score)
    return refined[:keep]
