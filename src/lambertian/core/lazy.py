"""Lazy exports of a package (PEP 562), so that ``import lambertian`` and the command
line's ``--help`` do not import torch; scikit-image's ``lazy_loader`` is the model.

A package calls ``lazy_exports(__name__, {"name": "module.path", ...})``: each name is
imported from its module on first access and then cached. A name that is also the name
of a submodule (``lambertian.app.photometric_stereo``, the module and its function)
stays the function when the submodule is imported, as eager ``from .x import x``
imports would leave it.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class _LazyPackage(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # the import system binds a loaded submodule on its package: keep the export
        exports = self.__dict__.get("_lazy_exports", {})
        if isinstance(value, types.ModuleType) and name in exports:
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, exports: dict[str, str]) -> None:
    """Give ``package`` the attributes ``exports`` (name -> module defining it), loaded
    on first access; also sets its ``__all__``."""
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            module.__dict__[name] = value  # cached: the hook is not called again
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(module.__dict__) | set(exports))

    module.__dict__.update(__getattr__=__getattr__, __dir__=__dir__,
                           __all__=sorted(exports), _lazy_exports=dict(exports))
    module.__class__ = _LazyPackage
