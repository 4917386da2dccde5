"""The static web viewer of a relighting model: write it, and read back what it draws.

A viewer folder holds ``index.html``, ``viewer.js`` (WebGL 1, no dependencies),
``model.js`` (the model as one PNG atlas of 8-bit tiles in a ``data:`` URI plus the numbers
to decode it, so that the page works from ``file://`` where a browser refuses to upload
a separate image file to WebGL) and ``lambertian-viewer.json`` (the same description
without the atlas, for programs). Each tile holds three channels of one quantity (a
coefficient of the three colour channels, the normal, the albedo, ...), decoded as
``byte / 255 * scale + bias`` with one scale and bias per tile and channel.

:func:`read_viewer` decodes a written viewer into the :class:`RelightModel` it draws, so
that ``lambertian.relight.relight`` of that model is what the page shows (the browser test
checks this pixel by pixel).
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from lambertian.core.errors import InputError
from lambertian.relight.lobe import SHININESS
from lambertian.relight.model import RATIO_TERMS, RelightModel

ASSETS = ("index.html", "viewer.js")
MARKER = "lambertian-viewer.json"
#: Largest atlas side: WebGL implementations guarantee little, 8192 is common to all
#: current desktop ones (SwiftShader included).
MAX_ATLAS = 8192
#: The 3D view's depth grid has at most this many vertices along its longer side.
DEPTH_GRID = 192


@dataclass
class ViewerData:
    """Quantised tiles and how to decode them.

    tiles : (T, H, W, 3) uint8; scale, bias : (T, 3) float64; names : (T,) what each
    tile holds; kind : the model kind; terms : polynomial terms (0 for ``ours``).
    """

    tiles: np.ndarray
    scale: np.ndarray
    bias: np.ndarray
    names: list[str]
    kind: str
    terms: int


def _rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64)
    return np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a


def _quantise(values: np.ndarray, mask: np.ndarray, lo: np.ndarray | None = None,
              span: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = _rgb(values)
    if lo is None or span is None:
        inside = v[mask] if mask.any() else v.reshape(-1, 3)
        lo = inside.min(axis=0)
        span = inside.max(axis=0) - lo
        span = np.where(span > 0, span, np.maximum(np.abs(lo), 1.0))
        span = np.array([float(f"{s:.6g}") for s in span])
        lo = np.array([float(f"{b:.6g}") for b in lo])
    q = np.clip(np.round((v - lo) / span * 255.0), 0, 255).astype(np.uint8)
    q[~mask] = 0
    return q, np.asarray(span, np.float64), np.asarray(lo, np.float64)


def encode_model(model: RelightModel, normals: np.ndarray | None = None,
                 albedo: np.ndarray | None = None) -> ViewerData:
    """Quantise a model (and, for polynomial kinds, the normals and albedo shown by the
    viewer's other modes) into 8-bit tiles.

    Parameters
    ----------
    model : a fitted RelightModel.
    normals : (H, W, 3) unit normals for the normals / specular-enhancement modes of a
        polynomial model (``ours`` carries its own); zeros when None.
    albedo : (H, W, C) albedo for the albedo mode of a polynomial model.
    """
    m = model.mask
    h, w = model.shape
    tiles, scales, biases, names = [], [], [], []

    def add(name, values, lo=None, span=None):
        q, s, b = _quantise(values, m, lo, span)
        tiles.append(q)
        scales.append(s)
        biases.append(b)
        names.append(name)

    # aux channel 0: 0 outside the mask, inside 1 (+ the shininess index for ``ours``), so
    # that the mask and the exponent cost one byte (``ours`` fits 16 bytes a pixel).
    aux = np.zeros((h, w, 3), np.float64)
    aux[..., 0] = m
    if model.kind == "ours":
        assert model.normals is not None and model.albedo is not None
        assert model.specular is not None and model.shininess is not None
        terms = 0
        add("normals", model.normals, np.full(3, -1.0), np.full(3, 2.0))
        add("albedo", model.albedo)
        spec = np.asarray(model.specular, np.float64)[..., :1]
        axis = model.normals if model.axis is None else model.axis
        add("specular + lobe axis", np.concatenate([spec, axis[..., :2]], axis=-1))
        ratio = np.zeros((h, w, RATIO_TERMS)) if model.ratio is None else model.ratio
        for t in range(RATIO_TERMS // 3):
            part = ratio[..., 3 * t:3 * t + 3]
            # a few outlying pixels would waste the 8 bits of every other: their
            # coefficients are clipped to the 0.1-99.9 percentile range of the mask's.
            inside = part[m] if m.any() else part.reshape(-1, 3)
            lo, hi = np.percentile(inside, [0.1, 99.9], axis=0)
            span = np.where(hi > lo, hi - lo, 1.0)
            add(f"diffuse ratio {3 * t}-{3 * t + 2}", part,
                np.array([float(f"{v:.6g}") for v in lo]),
                np.array([float(f"{v:.6g}") for v in span]))
        table = np.asarray(SHININESS)
        idx = np.abs(model.shininess[..., None] - table).argmin(-1)
        if not np.allclose(table[idx][m], model.shininess[m]):
            raise ValueError("the viewer stores shininess as an index into SHININESS")
        aux[..., 0] += m * idx
    else:
        assert model.coefficients is not None
        terms = model.coefficients.shape[-1]
        for k in range(terms):
            add(f"coefficient {k}", model.coefficients[..., k])
        n = np.zeros((h, w, 3)) if normals is None else normals
        a = np.zeros((h, w, 1)) if albedo is None else albedo
        add("normals", n, np.full(3, -1.0), np.full(3, 2.0))
        add("albedo", a)
    add("aux (mask + shininess index)", aux, np.zeros(3), np.full(3, 255.0))
    return ViewerData(np.stack(tiles), np.stack(scales), np.stack(biases), names,
                      model.kind, terms)


def decode_model(data: ViewerData) -> tuple[RelightModel, np.ndarray, np.ndarray]:
    """The model the viewer draws: (model with 3 channels, normals (H, W, 3), albedo)."""
    vals = data.tiles.astype(np.float64) / 255.0 * data.scale[:, None, None, :] \
        + data.bias[:, None, None, :]
    aux = np.round(vals[-1])
    mask = aux[..., 0] >= 1
    at = {name.split(" (")[0]: i for i, name in enumerate(data.names)}
    normals = vals[at["normals"]].astype(np.float32)
    albedo = vals[at["albedo"]].astype(np.float32)
    if data.kind == "ours":
        index = (aux[..., 0].astype(int) - 1).clip(0, len(SHININESS) - 1)
        shin = np.asarray(SHININESS, np.float32)[index]
        ratio = np.concatenate([vals[i] for i, name in enumerate(data.names)
                                if name.startswith("diffuse ratio")], axis=-1)
        sa = vals[at["specular + lobe axis"]]
        axis = np.stack([sa[..., 1], sa[..., 2],
                         np.sqrt(np.maximum(1.0 - sa[..., 1] ** 2 - sa[..., 2] ** 2, 0.0))], -1)
        model = RelightModel("ours", mask, normals=normals, albedo=albedo,
                             specular=sa[..., :1].astype(np.float32),
                             axis=np.where(mask[..., None], axis, 0).astype(np.float32),
                             shininess=np.where(mask, shin, 0).astype(np.float32),
                             ratio=np.where(mask[..., None], ratio, 0).astype(np.float32))
    else:
        coef = np.stack([vals[k] for k in range(data.terms)], axis=-1).astype(np.float32)
        model = RelightModel(data.kind, mask, coefficients=coef)
    return model, normals, albedo


def _layout(t: int, h: int, w: int) -> tuple[int, int]:
    for cols in sorted(range(1, t + 1), key=lambda c: abs(c - math.sqrt(t))):
        rows = math.ceil(t / cols)
        if cols * w <= MAX_ATLAS and rows * h <= MAX_ATLAS:
            return cols, rows
    raise InputError(None, f"a {w} x {h} image with {t} tiles does not fit a WebGL texture "
                           f"of {MAX_ATLAS} pixels a side; crop or downscale the capture")


def _bbox(mask: np.ndarray) -> list[int]:
    """[x0, y0, x1, y1) of the mask's pixels (the whole image when it is empty)."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return [0, 0, int(mask.shape[1]), int(mask.shape[0])]
    return [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]


def _depth_grid(depth: np.ndarray | None) -> dict[str, Any] | None:
    if depth is None or not np.isfinite(depth).any():
        return None
    h, w = depth.shape
    stride = max(1, math.ceil(max(h, w) / DEPTH_GRID))
    d = np.asarray(depth, np.float64)[::stride, ::stride]
    d = d - np.nanmedian(d)
    z = [None if not math.isfinite(v) else round(float(v), 2) for v in d.ravel()]
    return {"w": int(d.shape[1]), "h": int(d.shape[0]), "stride": stride, "z": z}


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished ``tmp`` to ``out``; an older viewer at ``out`` goes only after."""
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def check_output(out: str | os.PathLike[str], inputs: list[str | os.PathLike[str]]) -> Path:
    """Refuse an OUT that would replace an input or something that is not a viewer."""
    o = Path(out).resolve()
    for i in inputs:
        p = Path(i).resolve()
        if o == p or o in p.parents:
            raise InputError(out, f"refusing to replace {o}: it holds the input {i}")
    if o.exists() and not (o.is_dir() and (o / MARKER).is_file()):
        raise InputError(out, f"exists and is not a lambertian viewer (no {MARKER}); "
                              "refusing to replace it")
    return o


def write_viewer(out: str | os.PathLike[str], model: RelightModel, *,
                 normals: np.ndarray | None = None, albedo: np.ndarray | None = None,
                 depth: np.ndarray | None = None, title: str = "capture",
                 info: dict[str, Any] | None = None) -> Path:
    """Write a self-contained viewer folder for ``model``.

    The folder is assembled in a temporary folder beside ``out`` and renamed into place
    only when complete (a previous viewer at ``out`` is replaced then; anything else at
    ``out`` is refused by :func:`check_output`, which callers run first).

    Parameters
    ----------
    out : the viewer folder.
    model : the fitted model.
    normals, albedo : what the normals / albedo / specular-enhancement modes show for a
        polynomial model (``ours`` shows its own).
    depth : optional (H, W) depth (NaN where unknown, growing away from the camera):
        enables the shaded 3D mode.
    title : shown in the page.
    info : extra JSON-able facts for ``lambertian-viewer.json``.

    Returns
    -------
    The viewer folder.
    """
    o = Path(out)
    o.parent.mkdir(parents=True, exist_ok=True)
    data = encode_model(model, normals, albedo)
    t, h, w, _ = data.tiles.shape
    cols, rows = _layout(t, h, w)
    atlas = np.zeros((rows * h, cols * w, 3), np.uint8)
    origin = []
    for i in range(t):
        r, c = divmod(i, cols)
        atlas[r * h:(r + 1) * h, c * w:(c + 1) * w] = data.tiles[i]
        origin.append([c * w, r * h])
    ok, png = cv2.imencode(".png", np.ascontiguousarray(atlas[..., ::-1]),
                           [cv2.IMWRITE_PNG_COMPRESSION, 6])
    assert ok
    at = {name.split(" (")[0]: i for i, name in enumerate(data.names)}
    meta: dict[str, Any] = {
        "format": "lambertian relighting viewer 2",
        "title": title, "kind": model.kind, "terms": data.terms,
        "numbers_per_pixel": model.numbers_per_pixel(),
        "width": w, "height": h, "atlas_width": cols * w, "atlas_height": rows * h,
        "tiles": {"count": t, "names": data.names, "origin": origin,
                  "normals": at["normals"], "albedo": at["albedo"],
                  "specular": at.get("specular + lobe axis", -1), "aux": at["aux"]},
        "scale": data.scale.tolist(), "bias": data.bias.tolist(),
        "shininess": list(SHININESS) if model.kind == "ours" else [],
        "display_gamma": 2.2,
        "bbox": _bbox(model.mask),
        "info": info or {},
    }
    grid = _depth_grid(depth)
    tmp = Path(tempfile.mkdtemp(prefix=f".{o.name}.partial-", dir=o.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the viewer from a static server
        here = Path(__file__).parent
        for name in ASSETS:
            shutil.copyfile(here / name, tmp / name)
        (tmp / MARKER).write_text(json.dumps({**meta, "depth": grid is not None}, indent=1))
        page = {**meta, "depth": grid,
                "atlas": "data:image/png;base64," + base64.b64encode(png.tobytes()).decode()}
        (tmp / "model.js").write_text("window.LAMBERTIAN_VIEWER = " + json.dumps(page)
                                      + ";\n")
        _replace_dir(tmp, o)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return o


def read_viewer(folder: str | os.PathLike[str]) -> tuple[RelightModel, dict[str, Any]]:
    """Decode a written viewer's ``model.js``: (the model it draws, its description)."""
    p = Path(folder) / "model.js"
    text = p.read_text()
    prefix = "window.LAMBERTIAN_VIEWER = "
    if not text.startswith(prefix):
        raise InputError(p, "not a lambertian viewer model")
    meta = json.loads(text[len(prefix):].rstrip().rstrip(";"))
    png = base64.b64decode(meta["atlas"].split(",", 1)[1])
    atlas = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    h, w = meta["height"], meta["width"]
    tiles = np.stack([atlas[y:y + h, x:x + w] for x, y in meta["tiles"]["origin"]])
    data = ViewerData(tiles, np.asarray(meta["scale"]), np.asarray(meta["bias"]),
                      meta["tiles"]["names"], meta["kind"], meta["terms"])
    model, _, _ = decode_model(data)
    return model, meta


__all__ = ["check_output", "decode_model", "encode_model", "read_viewer", "write_viewer"]
