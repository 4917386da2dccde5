"""Relighting: a per-pixel model of how a capture looks under any light, and what the
viewer shows beside it (normals, albedo, depth).

See :mod:`lambertian.relight` for the models (PTM, Malzbender et al. 2001; HSH, Gautron
et al. 2004; ours: photometric-stereo normals + albedo + a Blinn-Phong lobe per pixel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import LightSet
from lambertian.io.capture import Capture

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
    src = str(capture.root)
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
