"""Read the inputs of ``lambertian fit``: a grey linear photo, a mask (K.txt and POSE.txt
are read by :mod:`lambertian.io.matrix`).

Images go through :mod:`lambertian.io` (16 bits kept, bit depth checked); every problem
is a one-line :class:`InputError` naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from lambertian.io import read_image
from lambertian.io import read_mask as _read_mask
from lambertian.io.matrix import read_matrix, read_pose  # noqa: F401  (re-exported)
from lambertian.ps.inputs import to_grey


def read_grey(path: str | os.PathLike[str]) -> np.ndarray:
    """(H, W) float32 linear grey in [0, 1] from an 8- or 16-bit grey or RGB image
    (0.2989 R + 0.5870 G + 0.1140 B)."""
    img, _ = read_image(path)
    return to_grey(img[None])[0]


def read_mask(path: str | os.PathLike[str], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool mask, checked against the photo's ``shape``."""
    return _read_mask(path, shape)


def mesh_files(path: str | os.PathLike[str]) -> list[Path]:
    """Every file that reading the mesh ``path`` opens: the mesh itself, and for an OBJ
    the material libraries (``mtllib``) and their texture maps, for a ``.gltf`` its
    buffers and images (trimesh reads them all, though the fit ignores colours).

    These count as inputs for the output check: a texture inside OUT would otherwise be
    deleted when OUT is replaced. Best effort: a file that cannot be read lists only
    what was found so far (its reader reports the problem later).
    """
    p = Path(path)
    found = [p]
    suffix = p.suffix.lower()
    if suffix == ".obj":
        for lib in _obj_lines(p, "mtllib"):
            mtl = p.parent / lib
            found.append(mtl)
            # map_Kd, map_Bump, bump, disp, decal, refl: the file name is the last token
            # (options such as "-s 1 1 1" come first).
            found += [mtl.parent / rest.split()[-1]
                      for key, rest in _mtl_lines(mtl) if key.startswith("map_")
                      or key in ("bump", "disp", "decal", "refl")]
    elif suffix == ".gltf":
        found += _gltf_uris(p)
    return found


def _obj_lines(p: Path, key: str) -> list[str]:
    """The file names on the OBJ's ``key`` lines (``mtllib a.mtl b.mtl``)."""
    names: list[str] = []
    for k, rest in _keyed_lines(p):
        if k == key:
            names += rest.split()
    return names


def _mtl_lines(p: Path) -> list[tuple[str, str]]:
    return [(k.lower(), rest) for k, rest in _keyed_lines(p) if rest]


def _keyed_lines(p: Path) -> list[tuple[str, str]]:
    """(first word, the rest) of each line of a text file; [] when it cannot be read."""
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if parts and not parts[0].startswith("#"):
            out.append((parts[0], parts[1].strip() if len(parts) > 1 else ""))
    return out


def _gltf_uris(p: Path) -> list[Path]:
    """The external files (buffers, images) a ``.gltf`` names; data: URIs are inline."""
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    out = []
    for key in ("buffers", "images"):
        items = data.get(key)
        for item in items if isinstance(items, list) else []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if isinstance(uri, str) and uri and not uri.startswith("data:"):
                out.append(p.parent / unquote(uri))
    return out
