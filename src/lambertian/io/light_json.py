"""The one writer (and reader) of light files: the light JSON of DESIGN.md.

A :class:`~lambertian.core.light.DirectionalLight` is one object
``{"direction": [x, y, z], "intensity": d, "ambient": a, ...notes}``; a
:class:`~lambertian.core.light.LightSet` is a list of them, one per image, each with its
``file`` when known and ``null`` direction/intensity/ambient for a light that was not
found. Project frame (x right, y up, z toward the camera, toward the light).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight, LightSet
from lambertian.io.json_file import write_json


def light_to_json(light: DirectionalLight | LightSet) -> Any:
    """The JSON value of a light or a set of lights (a dict, or a list of dicts)."""
    if isinstance(light, LightSet):
        return light.to_rows()
    if isinstance(light, DirectionalLight):
        return light.to_dict()
    raise TypeError(f"not a light type: {type(light).__name__}")


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
    obj = light_to_json(light)
    if extra:
        if not isinstance(obj, dict):
            raise TypeError("extra keys go with a single light only")
        obj.update(extra)
    return write_json(path, obj)


def read_light_json(path: str | Path) -> DirectionalLight | LightSet:
    """Read a light JSON: an object gives a :class:`DirectionalLight`, a list a
    :class:`LightSet`. Bad files raise :class:`InputError` naming the file."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    except ValueError as err:
        raise InputError(path, f"not JSON ({err})") from None
    try:
        if isinstance(obj, dict):
            return DirectionalLight.from_dict(obj)
        if isinstance(obj, list) and all(isinstance(r, dict) for r in obj):
            return LightSet.from_rows(obj)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(path, f"not a light file ({err})") from None
    raise InputError(path, "not a light file (expected an object or a list of objects)")
