"""The one exception type for bad input.

Every reader and estimator raises :class:`InputError` for input it cannot use. Its
message is one line that names the offending file (or argument) and the problem; the
command line prints exactly that line and exits with status 2.
"""

from __future__ import annotations

import os


class InputError(ValueError):
    """Bad input: ``str(err)`` is ``"<source>: <problem>"`` on a single line."""

    def __init__(self, source: str | os.PathLike[str] | None, problem: str) -> None:
        self.source = None if source is None else os.fspath(source)
        self.problem = " ".join(str(problem).split())  # keep it one line
        super().__init__(self.problem if self.source is None else f"{self.source}: {self.problem}")


class InputWarning(UserWarning):
    """Input that is usable but suspicious (``warnings.warn(InputWarning(...))``): the
    command line prints it as one ``warning: <source>: <problem>`` line."""

    def __init__(self, source: str | os.PathLike[str] | None, problem: str) -> None:
        text = " ".join(str(problem).split())
        super().__init__(text if source is None else f"{os.fspath(source)}: {text}")
