"""Accept NumPy arrays or tensors at the edges; compute in PyTorch."""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def as_tensor(x: ArrayLike | float, dtype: torch.dtype | None = None,
              device: torch.device | str | None = None) -> torch.Tensor:
    """``x`` as a tensor, without a copy where possible (float64 NumPy stays float64)."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype=dtype or x.dtype, device=device or x.device)
    t = torch.as_tensor(np.asarray(x))
    return t.to(dtype=dtype or (t.dtype if t.is_floating_point() else torch.float32),
                device=device)


from lambertian.core.arrays import to_numpy  # noqa: E402, F401  (one definition, torch-free)
