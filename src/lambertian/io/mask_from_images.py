"""A mask for a capture folder that has none: the object is what some light reaches.

Each pixel's brightest value over the images (grey) is thresholded by Otsu's method on
its logarithm (the object and a dark background are the two classes; the log keeps a
dim matte object apart from black cloth), then the largest connected region is kept and
its holes filled (a dark crease inside the object is still object). The caller says
that the mask was computed; a ``mask.png`` beside the images always wins.

Reference: N. Otsu, "A threshold selection method from gray-level histograms",
IEEE Trans. SMC 9(1), 1979.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# A computed mask covering less than this share of the image, or more than the upper
# one, is not an object on a background: every pixel is used instead.
MIN_SHARE, MAX_SHARE = 0.005, 0.98
BINS = 256


def otsu_threshold(values: np.ndarray, bins: int = BINS) -> float:
    """The threshold that maximises the between-class variance of ``values``.

    Examples
    --------
    >>> import numpy as np
    >>> from lambertian.io.mask_from_images import otsu_threshold
    >>> v = np.r_[np.full(100, 0.1), np.full(50, 0.8)]
    >>> bool(0.1 < otsu_threshold(v) < 0.8)
    True
    """
    hist, edges = np.histogram(values, bins=bins)
    p = hist.astype(np.float64) / max(hist.sum(), 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centres)
    total = m0[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1.0 - w0))
    between[~np.isfinite(between)] = -1.0
    return float(edges[int(np.argmax(between)) + 1])


def mask_from_images(images: np.ndarray) -> tuple[np.ndarray, str]:
    """(H, W) bool object mask from (K, H, W, C) linear images, and a note saying how.

    Returns all pixels (and says so) when no object stands out of a dark background.
    """
    return mask_from_peak(np.asarray(images, dtype=np.float32).mean(axis=-1).max(axis=0))


def mask_from_peak(peak: np.ndarray) -> tuple[np.ndarray, str]:
    """:func:`mask_from_images` from the (H, W) brightest value of each pixel over the
    images (of the channel mean), for callers that see one image at a time (streaming)."""
    h, w = peak.shape
    floor = max(float(peak.max()) * 1e-4, 1e-6)
    logv = np.log(np.maximum(peak, floor))
    m = logv > otsu_threshold(logv.ravel())
    labels, count = ndimage.label(m)
    if count:
        sizes = ndimage.sum(m, labels, index=np.arange(1, count + 1))
        m = ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))
    share = float(m.mean())
    if not MIN_SHARE <= share <= MAX_SHARE:
        return np.ones((h, w), bool), ("no mask file and no object stands out of the "
                                       "background: every pixel is used (add mask.png)")
    return m, (f"no mask file: mask computed from the images ({share:.0%} of the pixels: "
               "the brightest value of each pixel, Otsu threshold, largest region, holes "
               "filled); add mask.png to choose it")
