"""NumPy at the edges without importing torch: modules that only read results (metrics,
writers) use this so that ``import lambertian.core`` stays light."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy array from a tensor (detached, on the CPU) or anything array-like.

    Tensors are recognised by their ``detach`` method, so torch need not be imported.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
