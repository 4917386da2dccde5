"""The one writer (and reader) of light files: the light JSON of DESIGN.md.

A :class:`~lambertian.core.light.DirectionalLight` is one object
``{"direction": [x, y, z], "intensity": d, "ambient": a, ...notes}``; a
:class:`~lambertian.core.light.LightSet` is a list of them, one per image, each with its
``file`` when known and ``null`` direction/intensity/ambient for a light that was not
found. Project frame (x right, y up, z toward the camera, toward the light).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from lambertian.core.errors import InputError, as_path
from lambertian.core.light import DirectionalLight, LightSet
from lambertian.io.intensity import check_intensity_range
from lambertian.io.json_file import write_json


def light_to_json(light: DirectionalLight | LightSet) -> Any:
    """The JSON value of a light or a set of lights (a dict, or a list of dicts)."""
    if isinstance(light, LightSet):
        return light.to_rows()
    if isinstance(light, DirectionalLight):
        return light.to_dict()
    raise InputError("light", f"a DirectionalLight or a LightSet is wanted, got "
                              f"{type(light).__name__}")


def write_light_json(path: str | Path, light: DirectionalLight | LightSet,
                     **extra: Any) -> Path:
    """Write a light (an object) or a set (a list) as JSON; ``extra`` keys are added to a
    single light's object (e.g. ``sh9``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from lambertian.core.light import DirectionalLight
    >>> from lambertian.io.light_json import read_light_json, write_light_json
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "light.json"
    >>> _ = write_light_json(path, DirectionalLight([0, 1, 1], 0.5))
    >>> read_light_json(path).intensity
    0.5
    """
    path = as_path(path, "path")
    if path.is_dir():  # else an IsADirectoryError from open(), after the work is done
        raise InputError(path, "is a folder; a light file (.json) is wanted")
    obj = light_to_json(light)
    if extra:
        if not isinstance(obj, dict):
            raise InputError("extra", "extra keys go with a single light only")
        obj.update(extra)
    return write_json(path, obj)


def read_light_json(path: str | Path) -> DirectionalLight | LightSet:
    """Read a light JSON: an object gives a :class:`DirectionalLight`, a list a
    :class:`LightSet`. Bad files raise :class:`InputError` naming the file."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is no error
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    except ValueError as err:
        raise InputError(path, f"not JSON ({err})") from None
    except RecursionError:
        raise InputError(path, "not a light file (nested too deeply)") from None
    try:
        if isinstance(obj, dict):
            _check_row(path, obj, None)
            return DirectionalLight.from_dict(obj)
        if isinstance(obj, list) and all(isinstance(r, dict) for r in obj):
            for i, row in enumerate(obj):
                _check_row(path, row, i)
            # the images are divided by these: the range every intensity file keeps
            check_intensity_range([r.get("intensity", 1.0) for r in obj
                                   if r.get("direction") is not None], path)
            return LightSet.from_rows(obj)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(path, f"not a light file ({err})") from None
    raise InputError(path, "not a light file (expected an object or a list of objects)")


def _number(v: Any) -> bool:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:  # JSON integers have no size limit: one beyond float range is not a number here
        return math.isfinite(v)
    except OverflowError:
        return False


def _check_row(path: Path, row: dict[str, Any], i: int | None) -> None:
    """One light's values, checked as the text light files are: a direction of three
    finite numbers and non-zero length (``null`` only in a set, for a light that was not
    found), a finite positive intensity and a finite ambient term."""
    who = "the light" if i is None else f"light {i}"
    if "direction" not in row:
        raise InputError(path, f"not a light file: {who} has no \"direction\"" + (
            "" if i is None else " (null for a light that was not found)"))
    d = row["direction"]
    if d is None and i is not None:
        return  # unknown: its intensity and ambient are unknown too
    if not (isinstance(d, list) and len(d) == 3 and all(_number(x) for x in d)):
        raise InputError(path, f"not a light file: {who}'s direction is not three finite "
                               f"numbers: {d!r}")
    length = math.hypot(*d)
    if length == 0 or not math.isfinite(length):
        raise InputError(path, f"not a light file: {who}'s direction {d} has no length")
    e = row.get("intensity", 1.0)
    if not (_number(e) and e > 0):
        raise InputError(path, f"not a light file: {who}'s intensity {e!r} is not a finite "
                               "positive number")
    a = row.get("ambient", 0.0)
    if not _number(a):
        raise InputError(path, f"not a light file: {who}'s ambient {a!r} is not a finite "
                               "number")
