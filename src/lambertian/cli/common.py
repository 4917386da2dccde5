"""Small helpers shared by the command modules."""

from __future__ import annotations

from lambertian.io.json_file import write_json

__all__ = ["set_threads", "write_json"]


def set_threads(n: int | None) -> None:
    """Set torch's intra-op threads deliberately (1 is often fastest for small work).

    None leaves torch's default; anything below 1 is refused (torch would raise a
    traceback for 0 or a negative count)."""
    if n is not None and n < 1:
        from lambertian.core.errors import InputError

        raise InputError("--threads", f"must be at least 1, got {n}")
    if n:
        import torch

        torch.set_num_threads(int(n))
