"""Figures a person would rather look at than read: a per-object photometric-stereo panel
and bar charts of benchmark tables.

Everything draws on a :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot
global state, no display needed) and writes an image file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.frames import normal_to_rgb
from lambertian.core.metrics import angular_error_deg
from lambertian.io.camera_files import linear_to_srgb

# Light for the shaded-depth view: from the upper left, in front (project frame).
SHADING_LIGHT = np.array([-0.4, 0.5, 0.77])
# Error maps saturate here (degrees): beyond it the colour says "wrong" either way.
ERROR_MAX_DEG = 45.0


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=120)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, bbox_inches="tight")
    return p


def _display(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Linear image -> [0, 1] for display: the 99th percentile inside the mask is white,
    then the sRGB curve."""
    a = np.asarray(x, np.float64)
    vals = a[mask] if a.shape[:2] == mask.shape else a
    top = float(np.percentile(vals, 99.0)) if vals.size else 1.0
    return linear_to_srgb(a / (top if top > 0 else 1.0))


def _as_picture(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W), (H, W, C) or a stack (K, H, W[, C]) -> (H, W) or (H, W, 3) to show; a stack
    shows its mean (every light at once)."""
    a = np.asarray(image, np.float64)
    if a.shape[:2] != shape:  # a stack of images
        a = a.mean(axis=0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    return a


def shade_depth(depth: np.ndarray, K: np.ndarray | None = None,
                light: np.ndarray = SHADING_LIGHT) -> np.ndarray:
    """(H, W) depth (NaN outside) -> (H, W) Lambertian shading in [0, 1] (NaN outside) of
    the surface the depth describes, lit from ``light`` (project frame)."""
    from lambertian.integrate.geometry import normals_from_depth

    n = normals_from_depth(depth, K)
    ell = np.asarray(light, np.float64)
    return np.clip(n @ (ell / np.linalg.norm(ell)), 0.0, 1.0)


def ps_panel(path: str | os.PathLike[str], image: np.ndarray, normals: np.ndarray,
             albedo: np.ndarray, mask: np.ndarray, normals_gt: np.ndarray | None = None,
             depth: np.ndarray | None = None, K: np.ndarray | None = None,
             title: str | None = None) -> Path:
    """Write the side-by-side panel of one object: input, normal map, albedo, angular
    error with its colour bar (when ``normals_gt`` is given) and shaded depth.

    Parameters
    ----------
    path : image file to write (PNG, PDF, SVG ... by extension).
    image : (H, W), (H, W, C) or an image stack (K, H, W[, C]) (its mean is shown).
    normals : (H, W, 3) estimated normals, project frame.
    albedo : (H, W) or (H, W, C) albedo.
    mask : (H, W) bool.
    normals_gt : optional (H, W, 3) ground truth: adds the error map and its mean.
    depth : optional (H, W) depth (NaN outside); when None it is integrated here from
        ``normals`` (bilateral, with ``K`` when given).
    K : optional (3, 3) intrinsics of ``depth``.
    title : optional figure title.
    """
    m = np.asarray(mask, bool)
    h, w = m.shape
    n = np.asarray(normals, np.float64)
    if depth is None:
        from lambertian.integrate import integrate_normals

        depth = integrate_normals(n, m, K).depth
    panels: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    picture = _display(_as_picture(image, (h, w)), m)
    panels.append(("input", picture, {"cmap": "gray", "vmin": 0, "vmax": 1}))
    code = np.where(m[..., None], normal_to_rgb(n), 1.0)
    panels.append(("normals", np.clip(code, 0, 1), {}))
    alb = _display(_as_picture(albedo, (h, w)), m)
    alb = np.where(m if alb.ndim == 2 else m[..., None], alb, 1.0)
    panels.append(("albedo", alb, {"cmap": "gray", "vmin": 0, "vmax": 1}))
    err = None
    if normals_gt is not None:
        gt = np.asarray(normals_gt, np.float64)
        valid = m & (np.linalg.norm(gt, axis=-1) > 0)
        err = np.full((h, w), np.nan)
        err[valid] = angular_error_deg(n[valid], gt[valid])
        panels.append((f"angular error (mean {np.nanmean(err):.2f} deg)", err,
                       {"cmap": "jet", "vmin": 0, "vmax": ERROR_MAX_DEG}))
    panels.append(("shaded depth", shade_depth(depth, K),
                   {"cmap": "gray", "vmin": 0, "vmax": 1}))
    fig = _new_figure(2.6 * len(panels), 2.6 * h / w + 0.6)
    axes = fig.subplots(1, len(panels))
    for ax, (name, img, kw) in zip(axes, panels, strict=True):
        shown = ax.imshow(img, interpolation="nearest", **kw)
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
        if img is err:
            bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
            bar.set_label("degrees", fontsize=8)
            bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def parse_markdown_table(text: str) -> list[dict[str, str]]:
    """The first Markdown table in ``text`` as a list of row dicts (cells as strings)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in s.strip("|").split("|")]
        if all(set(c) <= set(":- ") and c for c in cells):
            continue  # the |---|---| separator
        rows.append(cells)
    if not rows:
        return []
    head = rows[0]
    return [dict(zip(head, r, strict=False)) for r in rows[1:]]


def _number(x: Any) -> float | None:
    try:
        return float(str(x).replace("**", "").split()[0])
    except (ValueError, IndexError):
        return None


def bar_chart(path: str | os.PathLike[str], table: str | Sequence[dict[str, Any]],
              value: str, label: str = "method", group: str | None = None,
              title: str | None = None, ylabel: str | None = None) -> Path:
    """Bar chart of one numeric column of a benchmark table.

    Parameters
    ----------
    path : image file to write.
    table : a Markdown table (text, as ``lambertian bench`` prints) or a list of row dicts.
    value : the column to plot (rows whose cell is not a number are skipped).
    label : the column naming each bar (e.g. the method).
    group : optional column grouping the bars (e.g. the object): one colour per label,
        bars side by side within each group.
    title, ylabel : optional texts (``ylabel`` defaults to ``value``).
    """
    rows = parse_markdown_table(table) if isinstance(table, str) else list(table)
    data = [(str(r.get(group, "")) if group else "", str(r.get(label, "")), _number(r.get(value)))
            for r in rows]
    data = [d for d in data if d[2] is not None]
    if not data:
        raise ValueError(f"no numeric values in column {value!r}")
    groups = list(dict.fromkeys(d[0] for d in data))
    labels = list(dict.fromkeys(d[1] for d in data))
    width = 0.8 / len(labels)
    fig = _new_figure(max(4.0, 0.5 * len(groups) * len(labels) + 1.5), 3.2)
    ax = fig.subplots()
    for j, lab in enumerate(labels):
        xs, ys = [], []
        for i, g in enumerate(groups):
            for dg, dl, v in data:
                if dg == g and dl == lab:
                    xs.append(i + (j - (len(labels) - 1) / 2) * width)
                    ys.append(v)
        bars = ax.bar(xs, ys, width=width, label=lab)
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    ax.set_xticks(range(len(groups)), groups if group else [""] * len(groups))
    ax.set_ylabel(ylabel or value)
    if len(labels) > 1 or not group:
        ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, path)
