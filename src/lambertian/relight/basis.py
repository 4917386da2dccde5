"""Light bases of the RTI relighting models: the PTM biquadratic and hemispherical harmonics.

A basis maps K unit light directions (project frame: x right, y up, z toward the camera,
toward the light) to a (K, n) matrix; a pixel's model is n coefficients per channel and
its value under light ``l`` is ``basis(l) @ coefficients``.

The formulas are RTIViewer's (Cultural Heritage Imaging / ISTI-CNR), so the files written
by :mod:`lambertian.io.ptm` and :mod:`lambertian.io.rti` mean the same thing there. The
viewer (``lambertian/viz/viewer/viewer.js``) evaluates the very same expressions.

References
----------
T. Malzbender, D. Gelb, H. Wolters, "Polynomial Texture Maps", SIGGRAPH 2001.
P. Gautron, J. Krivanek, S. Pattanaik, K. Bouatouch, "A Novel Hemispherical Basis for
Accurate and Efficient Rendering", Eurographics Symposium on Rendering 2004.
"""

from __future__ import annotations

import numpy as np

PTM_TERMS = 6
HSH_TERMS = (4, 9, 16)


def unit_lights(lights: np.ndarray) -> np.ndarray:
    """(K, 3) or (3,) light vectors -> (K, 3) float64 unit vectors."""
    L = np.atleast_2d(np.asarray(lights, dtype=np.float64))
    return L / np.linalg.norm(L, axis=1, keepdims=True).clip(1e-12)


def ptm_basis(lights: np.ndarray) -> np.ndarray:
    """PTM biquadratic basis ``(lu^2, lv^2, lu lv, lu, lv, 1)`` (Malzbender et al. 2001).

    ``(lu, lv)`` is the unit light's projection on the image plane, ``lu`` toward the
    image's right and ``lv`` toward its top (the project frame's x and y).

    Parameters
    ----------
    lights : (K, 3) light directions, project frame (normalised here).

    Returns
    -------
    (K, 6) float64, the PTM 1.2 coefficient order a0..a5.
    """
    L = unit_lights(lights)
    u, v = L[:, 0], L[:, 1]
    return np.stack([u * u, v * v, u * v, u, v, np.ones_like(u)], axis=1)


def hsh_basis(lights: np.ndarray, terms: int = 9) -> np.ndarray:
    """Hemispherical harmonics of orders 2-4 (4, 9 or 16 terms; Gautron et al. 2004).

    With ``theta = acos(lz)`` and ``phi = atan2(ly, lx)`` as RTIViewer computes them.
    Lights below the horizon (``lz < 0``) are clamped onto it: the basis lives on the
    upper hemisphere only.

    Parameters
    ----------
    lights : (K, 3) light directions, project frame (normalised here).
    terms : 4, 9 or 16.

    Returns
    -------
    (K, terms) float64.
    """
    if terms not in HSH_TERMS:
        raise ValueError(f"hemispherical harmonics have 4, 9 or 16 terms, not {terms}")
    L = unit_lights(lights)
    ct = np.clip(L[:, 2], 0.0, 1.0)  # cos(theta)
    phi = np.arctan2(L[:, 1], L[:, 0])
    s = np.sqrt(np.maximum(ct - ct * ct, 0.0))  # sqrt(cos t - cos^2 t)
    pi = np.pi
    cols = [
        np.full_like(ct, 1.0 / np.sqrt(2 * pi)),
        np.sqrt(6 / pi) * np.cos(phi) * s,
        np.sqrt(3 / (2 * pi)) * (-1 + 2 * ct),
        np.sqrt(6 / pi) * s * np.sin(phi),
    ]
    if terms > 4:
        q = -ct + ct * ct
        cols += [
            np.sqrt(30 / pi) * np.cos(2 * phi) * q,
            np.sqrt(30 / pi) * np.cos(phi) * (-1 + 2 * ct) * s,
            np.sqrt(5 / (2 * pi)) * (1 - 6 * ct + 6 * ct * ct),
            np.sqrt(30 / pi) * (-1 + 2 * ct) * s * np.sin(phi),
            np.sqrt(30 / pi) * q * np.sin(2 * phi),
        ]
    if terms > 9:
        q = -ct + ct * ct
        p = 1 - 5 * ct + 5 * ct * ct
        s3 = s * s * s  # (cos t - cos^2 t)^(3/2)
        cols += [
            2 * np.sqrt(35 / pi) * np.cos(3 * phi) * s3,
            np.sqrt(210 / pi) * np.cos(2 * phi) * (-1 + 2 * ct) * q,
            2 * np.sqrt(21 / pi) * np.cos(phi) * s * p,
            np.sqrt(7 / (2 * pi)) * (-1 + 12 * ct - 30 * ct * ct + 20 * ct * ct * ct),
            2 * np.sqrt(21 / pi) * s * p * np.sin(phi),
            np.sqrt(210 / pi) * (-1 + 2 * ct) * q * np.sin(2 * phi),
            2 * np.sqrt(35 / pi) * s3 * np.sin(3 * phi),
        ]
    return np.stack(cols, axis=1)


def basis(kind: str, lights: np.ndarray) -> np.ndarray:
    """The (K, n) basis of a polynomial model kind: ``ptm``, ``hsh9`` or ``hsh16``."""
    if kind == "ptm":
        return ptm_basis(lights)
    if kind in ("hsh4", "hsh9", "hsh16"):
        return hsh_basis(lights, int(kind[3:]))
    raise ValueError(f"no light basis for model kind {kind!r}")
