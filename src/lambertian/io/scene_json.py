"""SCENE.json: several known objects in one photo, for ``lambertian fit``.

    {"objects": [{"mesh": PATH, "pose": 3x4 [R|t], "mask": PATH (optional)}, ...]}

``pose`` maps the object's mesh to the OpenCV camera (``X_cam = R X_mesh + t``, metres or
the mesh's unit); ``mask`` holds this object's visible pixels. Paths are relative to the
JSON file. Every problem is one :class:`InputError` naming the file and the object.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError


@dataclass
class SceneEntry:
    """One object of a SCENE.json: ``mesh`` path, pose ``R`` (3, 3) and ``t`` (3,)
    (object to OpenCV camera), optional ``mask`` path, and ``name`` for messages."""

    name: str
    mesh: Path
    R: np.ndarray
    t: np.ndarray
    mask: Path | None = None


def is_scene_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a JSON object with an ``objects`` key, False for any other
    file (a mesh: OBJ, PLY, or a mesh JSON such as an ApolloCar3D car, which has
    ``vertices`` instead).

    Raises
    ------
    InputError
        for a ``.json`` file that is not JSON, or is neither a scene nor a mesh JSON
        (otherwise it would be read as a mesh and the error would talk about --mask).
    """
    p = os.fspath(path)
    if not p.lower().endswith(".json") or not os.path.isfile(p):
        return False
    try:
        with open(p, encoding="utf-8") as f:
            data = json.load(f)
    except OSError:
        return False  # the mesh reader names the file and the reason
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(p, f"not valid JSON ({exc})") from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise InputError(p, "not a scene or mesh JSON (nested too deeply)") from None
    if isinstance(data, dict) and "objects" in data:
        return True
    if isinstance(data, dict) and "vertices" in data:
        return False
    raise InputError(p, 'neither a SCENE.json (an object with "objects") nor a mesh JSON '
                        '(an object with "vertices" and "faces")')


def check_rotation(R: np.ndarray, source: str) -> np.ndarray:
    """``R`` (3, 3) when it is a rotation (orthonormal, det +1, to 1e-4), else InputError."""
    R = np.asarray(R, dtype=np.float64)
    if R.shape != (3, 3) or not np.isfinite(R).all():
        raise InputError(source, "the pose's left 3x3 block is not a finite 3x3 matrix")
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
        raise InputError(source, "the pose's left 3x3 block is not a rotation matrix")
    return R


def read_scene(path: str | os.PathLike[str]) -> list[SceneEntry]:
    """The objects of a SCENE.json, paths resolved against its folder (files not opened)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "scene file not found")
    try:
        data = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(p, f"not a JSON file ({type(err).__name__})") from None
    except RecursionError:
        raise InputError(p, "not a scene JSON (nested too deeply)") from None
    objs = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(objs, list) or not objs:
        raise InputError(p, "'objects' must be a non-empty list of "
                            "{\"mesh\": PATH, \"pose\": 3x4, \"mask\": PATH}")
    out = []
    for i, o in enumerate(objs):
        src = f"{p}: objects[{i}]"
        if not isinstance(o, dict):
            raise InputError(src, "each object must be a JSON object")
        for key in ("mesh", "pose"):
            if key not in o:
                raise InputError(src, f"missing field '{key}'")
        try:
            pose = np.asarray(o["pose"], dtype=np.float64)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond float
            raise InputError(src, "'pose' must be a 3x4 array of numbers") from None
        if pose.shape != (3, 4):
            raise InputError(src, f"'pose' must be a 3x4 [R|t], got shape {pose.shape}")
        if not np.isfinite(pose).all():
            raise InputError(src, "'pose' holds NaN or infinite values")
        R = check_rotation(pose[:, :3], src)
        mask = o.get("mask")
        if not isinstance(o["mesh"], str) or (mask is not None and not isinstance(mask, str)):
            raise InputError(src, "'mesh' and 'mask' must be paths (strings)")
        name = str(o.get("name", f"object {i}"))
        out.append(SceneEntry(name, p.parent / o["mesh"], R, pose[:, 3].copy(),
                              None if mask is None else p.parent / mask))
    return out
