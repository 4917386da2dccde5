"""Calibrated photometric stereo by least squares.

Reference: R. J. Woodham, "Photometric method for determining surface orientation from
multiple images", Optical Engineering 19(1), 1980.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from tqdm import tqdm

from lambertian.ps.inputs import check_inputs, to_grey
from lambertian.ps.result import PSResult

DEFAULT_CHUNK = 1 << 16  # pixels per block: bounds memory at K x 64k floats per array


def pixel_chunks(num_pixels: int, chunk: int, progress: bool = False, desc: str = "pixels"):
    """Slices covering ``range(num_pixels)`` in blocks of at most ``chunk``, with an
    optional progress bar (on stderr) counting pixels."""
    chunk = max(1, int(chunk))
    bar = tqdm(total=num_pixels, desc=desc, unit="px", unit_scale=True, disable=not progress,
               leave=False)
    with bar:
        for start in range(0, num_pixels, chunk):
            stop = min(start + chunk, num_pixels)
            yield slice(start, stop)
            bar.update(stop - start)


def albedo_from_normals(obs: torch.Tensor, shading: torch.Tensor,
                        weights: torch.Tensor | None = None) -> torch.Tensor:
    """Per-channel albedo by least squares given the shading of each observation.

    obs : (P, K, C) observations; shading : (P, K) ``n . l`` values (0 where unused);
    weights : optional (P, K) 0/1 or soft weights. Returns (P, C).
    """
    s = shading if weights is None else shading * weights
    num = torch.einsum("pkc,pk->pc", obs, s)
    den = (s * shading).sum(dim=1, keepdim=True).clamp_min(1e-12)
    return num / den


def unit_rows(g: torch.Tensor) -> torch.Tensor:
    """Rows of ``g`` (P, 3) scaled to unit length, zero rows left zero. Unlike
    ``torch.nn.functional.normalize`` (which divides by at least 1e-12) it holds for any
    units of the images: a faint pixel's g can be far below 1e-12."""
    n = g.norm(dim=1, keepdim=True)
    return g / torch.where(n > 0, n, torch.ones_like(n))


def albedo_at_pixels(colour: np.ndarray, pix: np.ndarray, normals: np.ndarray,
                     lights: np.ndarray, weights: np.ndarray, chunk: int) -> np.ndarray:
    """(P, C) float32 per-channel albedo of the pixels ``pix`` (indices into the N pixels
    of ``colour``, (K, N, C) observations), fitted in float64 to their normals (P, 3) under
    ``lights`` (K, 3) on the observations ``weights`` (P, K) marks, with shading
    ``max(0, n . l)`` (:func:`albedo_from_normals`), ``chunk`` pixels at a time."""
    L = torch.as_tensor(lights, dtype=torch.float64)
    out = np.zeros((pix.size, colour.shape[2]), np.float32)
    for sl in pixel_chunks(pix.size, chunk):
        obs = torch.from_numpy(np.ascontiguousarray(colour[:, pix[sl]].transpose(1, 0, 2),
                                                    dtype=np.float64))
        n = torch.as_tensor(normals[sl], dtype=torch.float64)
        out[sl] = albedo_from_normals(obs, (n @ L.T).clamp_min(0.0),
                                      torch.as_tensor(weights[sl], dtype=torch.float64)).numpy()
    return out


def least_squares(images: np.ndarray, lights: np.ndarray, mask: np.ndarray | None = None,
                  *, chunk: int = DEFAULT_CHUNK, source: str = "images",
                  progress: bool = False) -> PSResult:
    """Per-pixel least-squares normals and albedo (Woodham 1980).

    Solves ``I = L g`` for ``g = albedo * n`` at every masked pixel, on the grey image
    (0.2989 R + 0.5870 G + 0.1140 B for colour), then fits each channel's albedo to the
    recovered normal.

    Parameters
    ----------
    images : (K, H, W) or (K, H, W, C) linear images already divided by the light
        intensities.
    lights : (K, 3) light directions, project frame (normalised here).
    mask : (H, W) bool pixels to solve (all when None).
    chunk : pixels solved per block (bounds memory).
    source : name used in error messages.
    progress : show a progress bar over pixel blocks.

    Returns
    -------
    PSResult with (H, W, 3) normals and (H, W, C) albedo.
    """
    t0 = time.perf_counter()
    img, L, m = check_inputs(images, lights, mask, source)
    k, h, w, c = img.shape
    idx = np.flatnonzero(m.ravel())
    grey = to_grey(img).reshape(k, -1)
    colour = img.reshape(k, -1, c)
    pinv = torch.from_numpy(np.linalg.pinv(L)).float()  # (3, K)
    Lt = torch.from_numpy(L).float()
    normals = np.zeros((h * w, 3), np.float32)
    albedo = np.zeros((h * w, c), np.float32)
    for sl in pixel_chunks(idx.size, chunk, progress, "least squares"):
        pix = idx[sl]
        I = torch.from_numpy(np.ascontiguousarray(grey[:, pix].T))  # (P, K)
        g = I @ pinv.T  # (P, 3)
        n = unit_rows(g)
        obs = torch.from_numpy(np.ascontiguousarray(colour[:, pix].transpose(1, 0, 2)))
        shading = n @ Lt.T  # (P, K), signed: the linear model has no clamp
        normals[pix] = n.numpy()
        albedo[pix] = albedo_from_normals(obs, shading).numpy()
    return PSResult(normals.reshape(h, w, 3), albedo.reshape(h, w, c), m,
                    info={"method": "ls", "seconds": time.perf_counter() - t0})
