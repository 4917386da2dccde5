"""The ApolloCar3D car set: its JSON car meshes and its pose rows.

Mesh files hold ``vertices`` (N, 3, metres) and ``faces`` (F, 3, 1-indexed), plus a
``car_type``. A pose row is ``model_id a1 a2 a3 x y z`` (the competition's
``PredictionString`` repeats it once per car); its frame convention lives in
:mod:`lambertian.core.frames` (:func:`~lambertian.core.frames.apollocar_pose_to_rt`).

Reference: X. Song et al., "ApolloCar3D: A Large 3D Car Instance Understanding Benchmark
for Autonomous Driving", CVPR 2019.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.frames import (
    apollocar_file_to_model,
    apollocar_pose_to_rt,
    rt_to_apollocar_pose,
)


def read_car_mesh(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """An ApolloCar3D JSON mesh in the pose rows' model frame.

    Returns
    -------
    vertices : (V, 3) float64 metres, model frame (the file's y negated).
    faces : (F, 3) int64, 0-indexed, counter-clockwise seen from outside (the file's
        winding reversed, because negating y mirrors the mesh).
    """
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError(p, "mesh file not found")
    try:
        with open(p) as f:
            data = json.load(f)
        v = np.asarray(data["vertices"], dtype=np.float64)
        faces = np.asarray(data["faces"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise InputError(p, f"cannot read the JSON mesh ({type(err).__name__})") from None
    except (KeyError, TypeError):
        raise InputError(p, "a JSON mesh needs 'vertices' (N x 3) and 'faces' (F x 3)") from None
    except (ValueError, OverflowError):  # OverflowError: an integer beyond float's range
        raise InputError(p, "'vertices' or 'faces' is not a rectangular array of numbers") from None
    # integers beyond int64 arrive as an object array (Python ints), and floats may hold
    # NaN: neither can index a vertex
    if faces.dtype.kind not in "iuf":
        raise InputError(p, "'faces' holds values that are not vertex indices")
    if faces.dtype.kind == "f" and not np.isfinite(faces).all():
        raise InputError(p, "'faces' holds non-finite indices")
    if v.ndim != 2 or v.shape[1] != 3 or len(v) == 0:
        raise InputError(p, f"'vertices' must be N x 3, got shape {v.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise InputError(p, f"'faces' must be F x 3, got shape {faces.shape}")
    if not np.isfinite(v).all():
        raise InputError(p, "mesh has non-finite vertex coordinates")
    if not np.issubdtype(faces.dtype, np.integer):
        if not np.all(faces == np.round(faces)):
            raise InputError(p, "'faces' holds non-integer indices")
        faces = np.round(faces)
    faces = faces.astype(np.int64)
    if faces.min() < 1 or faces.max() > len(v):
        raise InputError(p, f"'faces' are 1-indexed into {len(v)} vertices, found indices "
                            f"{faces.min()}..{faces.max()}")
    return np.asarray(apollocar_file_to_model(v)), faces[:, ::-1] - 1


@dataclass
class CarPose:
    """One pose row: ``model_id`` and the object-to-camera pose ``R`` (3, 3), ``t`` (3,)
    (OpenCV, ``X_cam = R X_model + t``, model frame of :func:`read_car_mesh`)."""

    model_id: int
    R: np.ndarray
    t: np.ndarray

    @classmethod
    def from_row(cls, row: list[float] | tuple[float, ...] | np.ndarray) -> CarPose:
        """From ``(model_id, a1, a2, a3, x, y, z)``."""
        mid, a1, a2, a3, x, y, z = (float(v) for v in row)
        R, t = apollocar_pose_to_rt(a1, a2, a3, x, y, z)
        return cls(int(round(mid)), R, t)

    def to_row(self) -> tuple[int, float, float, float, float, float, float]:
        """``(model_id, a1, a2, a3, x, y, z)``."""
        return (self.model_id, *rt_to_apollocar_pose(self.R, self.t))


def parse_pose_rows(text: str, source: str = "poses") -> list[CarPose]:
    """A ``PredictionString``: 7 numbers per car, whitespace separated."""
    try:
        vals = [float(v) for v in text.split()]
    except ValueError:
        raise InputError(source, "pose rows must be numbers: model_id a1 a2 a3 x y z") from None
    if len(vals) % 7:
        raise InputError(source, f"pose rows are 7 numbers each, found {len(vals)} numbers")
    if not np.isfinite(vals).all():
        raise InputError(source, "pose rows hold non-finite numbers")
    return [CarPose.from_row(vals[i:i + 7]) for i in range(0, len(vals), 7)]


def format_pose_rows(poses: list[CarPose]) -> str:
    """The inverse of :func:`parse_pose_rows` (``repr`` precision: exact round trips)."""
    return " ".join(" ".join(repr(v) if isinstance(v, float) else str(v) for v in p.to_row())
                    for p in poses)


def read_car_models(path: str | os.PathLike[str]) -> dict[int, str]:
    """``car_models.tsv`` (id, name, category; a header line): id -> name."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError(p, "file not found")
    out: dict[int, str] = {}
    with open(p) as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and parts[0] == "id":
                continue
            try:
                out[int(parts[0])] = parts[1]
            except (ValueError, IndexError):
                raise InputError(p, f"line {i + 1}: expected 'id<TAB>name<TAB>category'") from None
    return out
