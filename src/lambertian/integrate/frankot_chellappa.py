"""Frankot-Chellappa integration: the least-squares surface on a full rectangle by FFT.

Reference: R. T. Frankot, R. Chellappa, "A method for enforcing integrability in shape
from shading algorithms", IEEE TPAMI 10(4), 1988. The gradient field is projected onto
the integrable (periodic) fields in the Fourier domain. It assumes the whole rectangle
is surface: gradients outside the mask are taken as 0, so on object masks with a
background :func:`.poisson.poisson` or :func:`.bilateral.bilateral` are the right tools.
"""

from __future__ import annotations

import time

import numpy as np

from lambertian.integrate.geometry import gradient_coefficients
from lambertian.integrate.poisson import prepare
from lambertian.integrate.result import DepthResult

# Grazing normals (|c| below this) would give near-infinite slopes; their gradient is
# clipped to what this slope allows (about 89.4 degrees).
MIN_COEFFICIENT = 1e-2


def integrate_gradients_fft(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(H, W) gradients ``p = dz/du`` (along columns), ``q = dz/dv`` (along rows) ->
    (H, W) ``z`` with zero mean, the least-squares integrable surface (periodic
    boundary)."""
    h, w = p.shape
    wu = 2.0 * np.pi * np.fft.fftfreq(w)[None, :]
    wv = 2.0 * np.pi * np.fft.fftfreq(h)[:, None]
    denom = wu ** 2 + wv ** 2
    denom[0, 0] = 1.0  # the mean is free: set to 0 below
    Z = (-1j * wu * np.fft.fft2(p) - 1j * wv * np.fft.fft2(q)) / denom
    Z[0, 0] = 0.0
    return np.real(np.fft.ifft2(Z))


def frankot_chellappa(normals: np.ndarray, mask: np.ndarray | None = None,
                      K: np.ndarray | None = None, *, median_depth: float = 1.0,
                      source: str = "normals", mask_source: str = "mask") -> DepthResult:
    """Depth from normals by Frankot-Chellappa (FFT) integration over the whole image.

    Parameters
    ----------
    normals : (H, W, 3) unit normals, project frame.
    mask : (H, W) bool (default: non-zero normals); slopes outside it are 0.
    K : (3, 3) intrinsics (perspective: the log-depth is integrated) or None.
    median_depth : perspective only: depth given to the median masked pixel.

    Returns
    -------
    DepthResult, depth NaN outside the mask (median 0 orthographic, ``median_depth``
    perspective).
    """
    t0 = time.perf_counter()
    n, m, K, notes = prepare(normals, mask, K, source, mask_source)
    cu, cv, a, b = gradient_coefficients(n, m, K)
    sign_u, sign_v = np.where(cu < 0, -1.0, 1.0), np.where(cv < 0, -1.0, 1.0)
    scale = 1.0 if K is None else float(max(K[0, 0], K[1, 1]))  # cu, cv ~ f * c
    cu = sign_u * np.maximum(np.abs(cu), MIN_COEFFICIENT * scale)
    cv = sign_v * np.maximum(np.abs(cv), MIN_COEFFICIENT * scale)
    p = np.zeros(m.shape)
    q = np.zeros(m.shape)
    p[m], q[m] = -a / cu, -b / cv
    z = integrate_gradients_fft(p, q)[m]
    z -= np.median(z)
    if K is not None:
        z = median_depth * np.exp(z)
    depth = np.full(m.shape, np.nan, np.float32)
    depth[m] = z
    info = {"method": "frankot_chellappa",
            "projection": "orthographic" if K is None else "perspective",
            "components": 1, "notes": notes, "seconds": time.perf_counter() - t0}
    if K is not None:
        info["median_depth"] = float(median_depth)
    return DepthResult(depth, m, K, info)
