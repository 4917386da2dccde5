"""Relighting: a per-pixel model of how a capture looks under any light, and what the
viewer shows beside it (normals, albedo, depth).

See :mod:`lambertian.relight` for the models (PTM, Malzbender et al. 2001; HSH, Gautron
et al. 2004; ours: photometric-stereo normals + albedo + a Blinn-Phong lobe per pixel).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lambertian.core.errors import InputError, as_path
from lambertian.core.light import LightSet
from lambertian.io.capture import Capture, require_capture

MODELS = ("ours", "ptm", "hsh9", "hsh16")


@dataclass
class Relighting:
    """A fitted relighting model and the viewer's other layers.

    model : the :class:`lambertian.relight.RelightModel` asked for.
    normals : (H, W, 3) project frame; albedo : (H, W, C); depth : (H, W) or None.
    images : the number of images used (images with an unknown light are left out).
    extra : other fitted models by kind (``"ptm"``, ``"hsh9"``), when asked for.
    """

    model: Any
    normals: np.ndarray
    albedo: np.ndarray
    depth: np.ndarray | None
    images: int
    extra: dict[str, Any]


def relight_capture(capture: Capture, lights: LightSet | None = None, *, model: str = "ours",
                    method: str = "robust", depth: bool = False,
                    also: tuple[str, ...] = (), log: Callable[[str], None] | None = None
                    ) -> Relighting:
    """Fit a relighting model to a capture.

    Parameters
    ----------
    capture : the images; its own lights are used unless ``lights`` is given.
    lights : a :class:`LightSet` (from :func:`lambertian.capture_lights`): images whose
        light is unknown are left out, images are divided by its intensities.
    model : one of :data:`MODELS`.
    method : the photometric-stereo solver for the normals (``lambertian.ps.METHODS``).
    depth : also integrate the normals (bilateral) for a shaded 3D view.
    also : other model kinds to fit as well (for RTIViewer files: ``"ptm"``, ``"hsh9"``).
    log : called with progress messages.

    Returns
    -------
    Relighting.
    """
    from lambertian.relight import fit_model
    from lambertian.relight.lobe import saturated_observations

    if model not in MODELS:
        raise InputError("--model", f"unknown relighting model {model!r}; choose from {MODELS}")
    say = log or (lambda s: None)
    src = str(require_capture(capture).root)
    if lights is None:
        dirs, inten = capture.lights, capture.intensities
    else:
        dirs = lights.directions
        e = np.asarray(lights.intensities if lights.intensities is not None
                       else np.ones(len(dirs)), np.float64)
        inten = np.where(np.isfinite(e) & (e > 0), e, 1.0).reshape(len(dirs), -1)
    keep = np.all(np.isfinite(dirs), axis=1)
    inten = np.asarray(inten, np.float64).reshape(len(dirs), -1)  # (K, C) or (K, 1)
    img = (capture.images[keep] / inten[keep][:, None, None, :]).astype(np.float32)
    L = np.asarray(dirs)[keep]
    say(f"fitting {model} on {int(keep.sum())} images ...")
    kw: dict[str, Any] = {}
    if model == "ours":
        kw = {"method": method, "progress": log is not None,
              "valid": ~saturated_observations(capture.images[keep], capture.bit_depth)}
    fitted = fit_model(model, img, L, capture.mask, source=src, **kw)
    if model == "ours":
        normals, albedo = fitted.normals, fitted.albedo
    else:
        from lambertian.ps import get_solver

        say(f"normals and albedo for the viewer's other modes ({method}) ...")
        ps = get_solver(method)(img, L, capture.mask, source=src)
        normals, albedo = ps.normals, ps.albedo
    z = None
    if depth:
        from lambertian.integrate import integrate_normals

        say("integrating the normals for the 3D view ...")
        z = integrate_normals(normals, capture.mask).depth
    extra = {k: fitted if k == model else fit_model(k, img, L, capture.mask, source=src)
             for k in also}
    return Relighting(fitted, normals, albedo, z, int(keep.sum()), extra)


#: Lights the normals and albedo of a model read from a file are measured under: a
#: Fibonacci spiral at elevations of 30-90 degrees, where PTM and HSH fits are
#: constrained by a capture's lights (they extrapolate badly toward the horizon).
FILE_LIGHTS = 32
FILE_MIN_ELEVATION_DEG = 30.0


def _file_lights() -> np.ndarray:
    k = np.arange(FILE_LIGHTS) + 0.5
    zmin = np.sin(np.radians(FILE_MIN_ELEVATION_DEG))
    z = 1.0 - (1.0 - zmin) * k / FILE_LIGHTS  # uniform in solid angle over the cap
    phi = k * np.pi * (3.0 - np.sqrt(5.0))
    r = np.sqrt(1.0 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def relight_file(path: str | os.PathLike[str], *, method: str = "ls", depth: bool = False,
                 log: Callable[[str], None] | None = None) -> Relighting:
    """A relighting model read from an RTI file, with the viewer's other layers.

    Parameters
    ----------
    path : a ``.ptm`` (PTM 1.2, Malzbender et al. 2001: RGB or LRGB) or an HSH ``.rti``
        file, as RTIBuilder, PTMfitter or ``lambertian relight --ptm/--rti`` write them.
    method : the photometric-stereo solver run on the model's own images.
    depth : also integrate the normals (bilateral) for a shaded 3D view.
    log : called with progress messages.

    Returns
    -------
    Relighting whose normals and albedo are photometric stereo on the model relit under
    :data:`FILE_LIGHTS` lights spread over the upper part of the hemisphere (a file holds
    no normals; for a PTM this is the least-squares form of Malzbender's normal from the
    polynomial's maximum). Pixels whose coefficients are all zero (the background of a
    masked fit) are left out.
    """
    from lambertian.ps import get_solver
    from lambertian.relight.files import load_ptm, load_rti
    from lambertian.relight.render import relight

    p = os.fspath(as_path(path, "path"))
    say = log or (lambda s: None)
    suffix = Path(p).suffix.lower()
    if suffix not in (".ptm", ".rti"):
        raise InputError(p, "not an RTI file: expected a .ptm or .rti file")
    model = load_ptm(p) if suffix == ".ptm" else load_rti(p)
    assert model.coefficients is not None
    model.mask = np.any(model.coefficients != 0, axis=(2, 3))
    if not model.mask.any():
        raise InputError(p, "every coefficient is zero: the file holds no image")
    L = _file_lights()
    say(f"read a {model.kind} model of {model.shape[1]}x{model.shape[0]} pixels; normals and "
        f"albedo from it under {FILE_LIGHTS} lights ({method}) ...")
    img = np.stack([np.maximum(relight(model, l), 0.0) for l in L])
    ps = get_solver(method)(img, L, model.mask, source=p)
    z = None
    if depth:
        from lambertian.integrate import integrate_normals

        say("integrating the normals for the 3D view ...")
        z = integrate_normals(ps.normals, model.mask).depth
    return Relighting(model, ps.normals, ps.albedo, z, 0, {})
