"""Nine-term spherical-harmonic lighting of a Lambertian surface of known normals.

Under any distant illumination a convex Lambertian surface's irradiance is, to within a
few percent, a quadratic polynomial of the normal: the first nine real spherical
harmonics ``Y_lm(n)``, l <= 2, each scaled by the clamped-cosine kernel's ``A_l``.

References
----------
R. Ramamoorthi, P. Hanrahan, "An efficient representation for irradiance environment
maps", SIGGRAPH 2001; R. Basri, D. Jacobs, "Lambertian reflectance and linear
subspaces", PAMI 25(2), 2003.
"""

from __future__ import annotations

import numpy as np

from lambertian.core.errors import InputError

# Lambertian kernel A_l (Ramamoorthi & Hanrahan 2001) for l = 0, 1, 2 per basis term.
_KERNEL = np.array([np.pi] + [2 * np.pi / 3] * 3 + [np.pi / 4] * 5)


def sh_basis(normals: np.ndarray) -> np.ndarray:
    """(..., 9) real SH basis Y_00, Y_1{-1,0,1}, Y_2{-2..2} at unit normals (..., 3)."""
    n = np.asarray(normals, np.float64)
    x, y, z = n[..., 0], n[..., 1], n[..., 2]
    return np.stack([
        np.full_like(x, 0.282095),
        0.488603 * y, 0.488603 * z, 0.488603 * x,
        1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3 * z * z - 1),
        1.092548 * x * z, 0.546274 * (x * x - y * y)], axis=-1)


def fit_sh9(image: np.ndarray, normals: np.ndarray, mask: np.ndarray | None = None, *,
            iterations: int = 10, source: str = "image") -> np.ndarray:
    """Robust least-squares lighting coefficients ``L_lm`` (9,) such that
    ``I(p) ~ sum_lm A_l L_lm Y_lm(n(p))`` (albedo folded in).

    image : (H, W) linear grey; normals : (H, W, 3) project frame; mask : (H, W) bool.
    Cast shadows and highlights are down-weighted by Tukey IRLS.
    """
    I = np.asarray(image, np.float64)
    N = np.asarray(normals, np.float64)
    m = np.linalg.norm(N, axis=-1) > 0.5
    if mask is not None:
        m &= np.asarray(mask, bool)
    if m.sum() < 50:
        raise InputError(source, f"only {int(m.sum())} pixels of known normal: SH lighting is "
                                 "unidentifiable")
    B = sh_basis(N[m]) * _KERNEL
    y = I[m]
    w = np.ones_like(y)
    c = np.zeros(9)
    for _ in range(iterations):
        sw = np.sqrt(w)[:, None]
        c = np.linalg.lstsq(B * sw, y * sw[:, 0], rcond=None)[0]
        r = y - B @ c
        s = max(1.4826 * np.median(np.abs(r)), 1e-9)
        u = r / (4.685 * s)
        w = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0)
    return c


def render_sh9(coeffs: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Irradiance ``sum A_l L_lm Y_lm(n)`` at (..., 3) normals (zero normals give junk)."""
    return sh_basis(normals) @ (np.asarray(coeffs, np.float64) * _KERNEL)


def directional_to_sh9(direction: np.ndarray, intensity: float = 1.0,
                       ambient: float = 0.0) -> np.ndarray:
    """SH coefficients of ambient + a distant light: a delta of ``intensity`` toward
    ``direction`` (its clamped cosine, to SH order 2) plus a constant ``ambient``."""
    d = np.asarray(direction, np.float64)
    c = intensity * sh_basis(d / np.linalg.norm(d))
    c[0] += ambient / (np.pi * 0.282095)
    return c
