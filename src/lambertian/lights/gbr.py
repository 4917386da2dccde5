"""The generalised bas-relief (GBR) group: the ambiguity left by integrability.

With ``G = [[1, 0, 0], [0, 1, 0], [mu, nu, lam]]`` (lam != 0), the surface
``z' = lam z + mu x + nu y`` with pseudo-normals ``b' = G^-T b`` under lights ``s' = G s``
produces exactly the same images (``b'.s' = b.s``), attached and cast shadows included.
``lam < 0`` composes the convex/concave flip (a half turn about the viewing axis of both
normals and lights), which no Lambertian or specular cue can resolve.

Reference: P. Belhumeur, D. Kriegman, A. Yuille, "The bas-relief ambiguity", IJCV 35(1),
1999.
"""

from __future__ import annotations

import numpy as np


def gbr_matrix(mu: float, nu: float, lam: float) -> np.ndarray:
    """(3, 3) G acting on light vectors (``s' = G s``); pseudo-normals take ``G^-T``."""
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [mu, nu, lam]])


def apply_gbr(params: np.ndarray | tuple[float, float, float], normals: np.ndarray,
              lights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform (..., 3) pseudo-normals and (K, 3) light vectors by the GBR ``params``
    = (mu, nu, lam). Returns the new pseudo-normals and lights (not normalised)."""
    G = gbr_matrix(*params)
    return normals @ np.linalg.inv(G), lights @ G.T


def unit(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` scaled to unit length (zero rows stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v, dtype=np.float64), where=n > 0)


def flip_convex_concave(normals: np.ndarray, lights: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The half turn about the viewing axis z applied to normals and lights (the GBR
    member with lam = -1 up to sign): images are unchanged."""
    R = np.diag([-1.0, -1.0, 1.0])
    return normals @ R, lights @ R
