"""The one grey conversion: ITU-R BT.601 weights, those of the DiLiGenT evaluation
(grey = 0.2989 R + 0.5870 G + 0.1140 B). NumPy only."""

from __future__ import annotations

import numpy as np

GREY_WEIGHTS = np.asarray([0.2989, 0.5870, 0.1140], dtype=np.float32)


def to_grey(images: np.ndarray) -> np.ndarray:
    """(..., C) -> (...) grey along the last axis: C = 1 is taken as it is, RGB (and RGBA,
    its alpha dropped) gets :data:`GREY_WEIGHTS`, other channel counts their mean.

    Examples
    --------
    >>> import numpy as np
    >>> from lambertian.core.grey import to_grey
    >>> to_grey(np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], np.float32)).shape
    (1, 2)
    >>> [round(float(v), 4) for v in to_grey(np.eye(3, dtype=np.float32))]
    [0.2989, 0.587, 0.114]
    """
    c = images.shape[-1]
    if c == 1:
        return images[..., 0]
    if c in (3, 4):
        return images[..., :3] @ GREY_WEIGHTS
    return images.mean(axis=-1)
