"""The one exception type for bad input.

Every reader and estimator raises :class:`InputError` for input it cannot use. Its
message is one line that names the offending file (or argument) and the problem; the
command line prints exactly that line and exits with status 2.
"""

from __future__ import annotations

import os
from pathlib import Path


class InputError(ValueError):
    """Bad input: ``str(err)`` is ``"<source>: <problem>"`` on a single line."""

    def __init__(self, source: str | os.PathLike[str] | None, problem: str) -> None:
        self.source = None if source is None else os.fspath(source)
        self.problem = " ".join(str(problem).split())  # keep it one line
        super().__init__(_line(source, problem))


class InputWarning(UserWarning):
    """Input that is usable but suspicious (``warnings.warn(InputWarning(...))``): the
    command line prints it as one ``warning: <source>: <problem>`` line."""

    def __init__(self, source: str | os.PathLike[str] | None, problem: str) -> None:
        super().__init__(_line(source, problem))


def as_path(value: object, name: str) -> Path:
    """``value`` as a Path, or InputError naming the argument ``name`` when it is not a
    path (None, a number, bytes): else ``Path()``'s TypeError escapes from deep inside."""
    if not isinstance(value, (str, os.PathLike)):
        raise InputError(name, f"a file or folder path is wanted, got {type(value).__name__}")
    return Path(value)


def _line(source: str | os.PathLike[str] | None, problem: str) -> str:
    """``"<source>: <problem>"`` (or the problem alone) on a single line."""
    text = " ".join(str(problem).split())
    return text if source is None else f"{os.fspath(source)}: {text}"
