"""The light types: every light estimate, whatever made it, is one of these two.

:class:`DirectionalLight` is ambient + one distant light (one image's light: the single
image fit, a learned model, a mesh fit). :class:`LightSet` is one such light per image of
a capture (a calibration sphere, uncalibrated photometric stereo), with NaN rows where a
light is unknown. Both are in the project frame (x right, y up, z toward the camera;
the direction points from the surface toward the light) and both are written by one
writer, :func:`lambertian.io.light_json.write_light_json`, as the light JSON of DESIGN.md:
``{"direction": [x, y, z], "intensity": d, "ambient": a}`` (a list for a set).

``intensity`` and ``ambient`` are relative to the albedo (only albedo x intensity is
identifiable from images). ``uncertainty_deg`` is an expected angular error when the
estimator has one (the learned models); ``notes`` holds what the estimator wants a user
to know (inlier shares, the sphere's circle, the ambiguity left), JSON-ready.

This module imports NumPy (and :mod:`lambertian.core.errors`) only, so
``import lambertian.core`` stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lambertian.core.errors import InputError

# Keys of the light JSON that are fields, not notes.
LIGHT_KEYS = ("direction", "intensity", "ambient", "uncertainty_deg")


def vector_length(d: np.ndarray) -> np.ndarray:
    """(..., 1) lengths of (..., 3) vectors, scaled by the largest component first (the
    squares of very long vectors would overflow)."""
    big = np.abs(d).max(axis=-1, keepdims=True)
    return big * np.linalg.norm(d / np.where(big > 0, big, 1.0), axis=-1, keepdims=True)


def _numbers(value: Any, name: str) -> np.ndarray:
    """``value`` as float64, or InputError naming ``name`` (strings, None, complex numbers
    are not light values; InputError is a ValueError, as NumPy's was)."""
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise InputError(name, f"must be real numbers, got {a.dtype} "
                               f"({type(value).__name__})")
    return a.astype(np.float64)


def _unit(d: Any) -> np.ndarray:
    v = _numbers(d, "direction")
    if v.size != 3:
        raise InputError("direction", f"must be 3 numbers (x, y, z), got shape {v.shape}")
    v = v.reshape(3)
    norm = float(vector_length(v)[0])
    if not np.isfinite(norm) or norm == 0:
        raise InputError("direction", f"light direction {v.tolist()} has no direction")
    # a unit vector read back from a file stays bit for bit what was written
    return v if abs(norm - 1.0) < 1e-12 else v / norm


def _scalar(value: Any, name: str) -> float:
    """One finite number, or InputError naming ``name`` (a NaN or infinite intensity
    would be written to the light JSON as a silent wrong answer)."""
    a = _numbers(value, name)
    if a.size != 1:
        raise InputError(name, f"must be one number, got shape {a.shape}")
    v = float(a.reshape(()))
    if not np.isfinite(v):
        raise InputError(name, f"must be a finite number, got {v}")
    return v


# eq=False: fields are arrays, whose == is elementwise (compare .direction explicitly)
@dataclass(eq=False)
class DirectionalLight:
    """A distant light toward ``direction`` plus ambient.

    Parameters
    ----------
    direction : (3,) light vector, project frame; stored unit length.
    intensity : directional intensity (relative to the albedo).
    ambient : ambient term (relative to the albedo).
    uncertainty_deg : expected angular error of ``direction`` in degrees, or None.
    notes : JSON-ready facts from the estimator (``model``, ``kappa``, ``inlier_share``...).

    Examples
    --------
    >>> from lambertian.core.light import DirectionalLight
    >>> light = DirectionalLight([0, 0, 2], intensity=0.8, ambient=0.1)
    >>> light.direction.tolist()
    [0.0, 0.0, 1.0]
    >>> light.to_dict()
    {'direction': [0.0, 0.0, 1.0], 'intensity': 0.8, 'ambient': 0.1}
    """

    direction: np.ndarray
    intensity: float = 1.0
    ambient: float = 0.0
    uncertainty_deg: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.uncertainty_deg, dict):
            raise TypeError("DirectionalLight: pass notes by keyword (notes=...)")
        self.direction = _unit(self.direction)
        self.intensity = _scalar(self.intensity, "intensity")
        self.ambient = _scalar(self.ambient, "ambient")
        if self.uncertainty_deg is not None:
            self.uncertainty_deg = _scalar(self.uncertainty_deg, "uncertainty_deg")

    @property
    def extra(self) -> dict[str, Any]:
        """The former name of :attr:`notes`."""
        return self.notes

    def to_dict(self) -> dict[str, Any]:
        """The light JSON of DESIGN.md (notes appended as further keys)."""
        out: dict[str, Any] = {"direction": [float(v) for v in self.direction],
                               "intensity": self.intensity, "ambient": self.ambient}
        if self.uncertainty_deg is not None:
            out["uncertainty_deg"] = self.uncertainty_deg
        out.update(self.notes)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DirectionalLight:
        """Inverse of :meth:`to_dict`; unknown keys become notes."""
        notes = {k: v for k, v in d.items() if k not in LIGHT_KEYS}
        unc = d.get("uncertainty_deg")
        return cls(np.asarray(d["direction"], float), float(d.get("intensity", 1.0)),
                   float(d.get("ambient", 0.0)), None if unc is None else float(unc), notes)


@dataclass(eq=False)
class LightSet:
    """One light per image of a capture.

    Parameters
    ----------
    directions : (K, 3) unit light vectors, project frame; a NaN row is a light the
        estimator could not find (never guessed).
    intensities : (K,) relative intensities (default ones; NaN where the direction is).
    ambient : (K,) ambient terms (default zeros).
    uncertainty_deg : (K,) expected angular errors, or None.
    names : K names (the image files), or None.
    method : what estimated them (``"chrome sphere"``, ``"uncalibrated"``...).
    notes : JSON-ready facts about the whole set (the sphere's circle, the ambiguity).

    Examples
    --------
    >>> import numpy as np
    >>> from lambertian.core.light import LightSet
    >>> lights = LightSet(np.array([[0, 0, 1], [1, 0, 1]]), names=["a.png", "b.png"])
    >>> len(lights), lights.known.tolist()
    (2, [True, True])
    >>> np.round(lights[1].direction, 3).tolist()
    [0.707, 0.0, 0.707]
    """

    directions: np.ndarray
    intensities: np.ndarray | None = None
    ambient: np.ndarray | None = None
    uncertainty_deg: np.ndarray | None = None
    names: list[str] | None = None
    method: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = _numbers(self.directions, "directions")
        if d.ndim != 2 or d.shape[1] != 3:
            raise InputError("directions", f"must be K x 3, got {d.shape}")
        with np.errstate(invalid="ignore", divide="ignore"):
            norm = vector_length(d)
            unit = np.where(np.abs(norm - 1.0) < 1e-12, d, d / norm)  # see _unit
            self.directions = np.where(norm > 0, unit, np.nan)
        k = len(d)

        def per_light(v: Any, fill: float, name: str) -> np.ndarray:
            a = np.full(k, fill) if v is None else _numbers(v, name).reshape(-1)
            if a.size == 1 and k != 1:
                a = np.full(k, float(a[0]))
            if a.shape != (k,):
                raise InputError(name, f"must have {k} values, got {a.shape}")
            return a

        self.intensities = per_light(self.intensities, 1.0, "intensities")
        self.ambient = per_light(self.ambient, 0.0, "ambient")
        if self.uncertainty_deg is not None:
            self.uncertainty_deg = per_light(self.uncertainty_deg, np.nan, "uncertainty_deg")
        if self.names is not None:
            # a string is iterable too: "abc" would become the names "a", "b", "c"
            if isinstance(self.names, (str, bytes)) or not isinstance(self.names, Iterable):
                raise InputError("names", f"must be a list of {k} names, got "
                                          f"{type(self.names).__name__}")
            self.names = [str(n) for n in self.names]
            if len(self.names) != k:
                raise InputError("names", f"{len(self.names)} for {k} lights")

    def __len__(self) -> int:
        return len(self.directions)

    @property
    def known(self) -> np.ndarray:
        """(K,) bool: the lights whose direction was found."""
        return np.all(np.isfinite(self.directions), axis=1)

    def __getitem__(self, k: int) -> DirectionalLight | None:
        """Light ``k`` as a :class:`DirectionalLight` (None when it is unknown)."""
        if not self.known[k]:
            return None
        unc = None if self.uncertainty_deg is None else self.uncertainty_deg[k]
        notes = {"file": self.names[k]} if self.names is not None else {}
        return DirectionalLight(self.directions[k], self.intensities[k], self.ambient[k],
                                None if unc is None or not np.isfinite(unc) else unc, notes)

    @classmethod
    def from_lights(cls, lights: Sequence[DirectionalLight | None], *,
                    names: Sequence[str] | None = None, method: str = "",
                    notes: dict[str, Any] | None = None) -> LightSet:
        """A set from one :class:`DirectionalLight` (or None, unknown) per image."""
        nan3 = [np.nan] * 3
        unc = [np.nan if g is None or g.uncertainty_deg is None else g.uncertainty_deg
               for g in lights]
        return cls(np.array([nan3 if g is None else g.direction for g in lights]).reshape(-1, 3),
                   np.array([np.nan if g is None else g.intensity for g in lights]),
                   np.array([np.nan if g is None else g.ambient for g in lights]),
                   None if all(np.isnan(unc)) else np.array(unc),
                   None if names is None else list(names), method, dict(notes or {}))

    def to_rows(self) -> list[dict[str, Any]]:
        """One light JSON object per image (``file`` first when names are known; null
        direction and intensity for an unknown light)."""
        rows = []
        for k in range(len(self)):
            ok = bool(self.known[k])
            row: dict[str, Any] = {"file": self.names[k]} if self.names is not None else {}
            row["direction"] = [float(v) for v in self.directions[k]] if ok else None
            row["intensity"] = float(self.intensities[k]) if ok else None
            row["ambient"] = float(self.ambient[k]) if ok else None
            if self.uncertainty_deg is not None:
                u = float(self.uncertainty_deg[k])
                row["uncertainty_deg"] = u if ok and np.isfinite(u) else None
            rows.append(row)
        return rows

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]], *, method: str = "") -> LightSet:
        """Inverse of :meth:`to_rows`."""
        def val(r: dict[str, Any], key: str, default: float) -> float:
            v = r.get(key, default)
            return np.nan if v is None else float(v)

        dirs = np.array([[np.nan] * 3 if r.get("direction") is None else r["direction"]
                         for r in rows], dtype=np.float64).reshape(-1, 3)
        names = [str(r["file"]) for r in rows] if rows and all("file" in r for r in rows) \
            else None
        unc = None
        if any("uncertainty_deg" in r for r in rows):
            unc = np.array([val(r, "uncertainty_deg", np.nan) for r in rows])
        return cls(dirs, np.array([val(r, "intensity", 1.0) for r in rows]),
                   np.array([val(r, "ambient", 0.0) for r in rows]), unc, names, method)
