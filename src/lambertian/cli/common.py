"""Small helpers shared by the command modules."""

from __future__ import annotations

from lambertian.io.json_file import write_json

__all__ = ["set_threads", "write_json"]


def set_threads(n: int | None) -> None:
    """Set torch's intra-op threads deliberately (1 is often fastest for small work)."""
    if n:
        import torch

        torch.set_num_threads(int(n))
