"""Mitsuba 3 is optional (``pip install lambertian[mitsuba]``): import it once, choose the
variant once (``scalar_rgb`` works as installed; the LLVM variants need libLLVM)."""

from __future__ import annotations

from typing import Any

from lambertian.core.errors import InputError


def load_mitsuba(purpose: str = "Mitsuba rendering") -> Any:
    """The ``mitsuba`` module with a variant set, or InputError saying how to install it."""
    try:
        import mitsuba as mi
    except ImportError:
        raise InputError("mitsuba", f"{purpose} needs `pip install mitsuba` "
                                    "(the lambertian[mitsuba] extra)") from None
    if mi.variant() is None:
        mi.set_variant("scalar_rgb")
    return mi
