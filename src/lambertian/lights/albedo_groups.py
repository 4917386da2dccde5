"""Group pixels of one colour image by albedo, through their chromaticity.

Under a white (or any single-colour) light, a Lambertian pixel's chromaticity
``(R, G, B) / (R + G + B)`` does not depend on its shading, so pixels of the same paint
share it whatever the light: clustering chromaticities splits a textured object into
groups of (nearly) constant albedo, each of which the single-image light fit can scale on
its own. White highlights pull a pixel toward grey and land in the nearest group, where
the robust fit treats them as outliers.

References
----------
G. J. Klinker, S. A. Shafer, T. Kanade, "A physical approach to color image
understanding", IJCV 4(1), 1990 (diffuse colours cluster along lines through the origin);
S. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2), 1982 and
D. Arthur, S. Vassilvitskii, "k-means++", SODA 2007 (the clustering).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2

# Chromaticity is noise in dark pixels: cluster only the brighter half of the pixels.
BRIGHT_QUANTILE = 0.5


def chromaticity_groups(colours: np.ndarray, groups: int, *, saturation: float | None = 0.99,
                        seed: int = 0) -> np.ndarray:
    """Albedo group of every pixel from its chromaticity (k-means, seeded).

    Parameters
    ----------
    colours : (P, C) linear colour values of the pixels, C >= 2.
    groups : number of groups (k-means clusters) to form.
    saturation : pixels with any channel at or above this are left out of the clustering
        (their colour is clipped) but are still assigned a group.
    seed : seed of the k-means++ initialisation.

    Returns
    -------
    (P,) int labels in ``[0, groups)``; all zeros when there are too few bright pixels
    to form ``groups`` clusters.
    """
    c = np.asarray(colours, dtype=np.float64)
    total = c.sum(axis=1)
    chrom = c[:, :-1] / np.maximum(total, 1e-12)[:, None]  # the last one is redundant
    ok = np.isfinite(chrom).all(axis=1) & (total > 0)
    if saturation is not None:
        ok &= c.max(axis=1) < saturation
    if ok.sum() < 10 * groups or groups < 2:
        return np.zeros(len(c), dtype=np.int64)
    ok &= total >= np.quantile(total[ok], BRIGHT_QUANTILE)
    centres, _ = kmeans2(chrom[ok], groups, seed=seed, minit="++")
    d = ((chrom[:, None, :] - centres[None]) ** 2).sum(axis=-1)
    return np.argmin(np.nan_to_num(d, nan=np.inf), axis=1)
