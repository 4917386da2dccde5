"""A file written under ``<name>.partial`` and renamed into place only when complete."""

from __future__ import annotations

import os
from pathlib import Path


class PartialFile:
    """Base of the band-by-band writers: a reader never sees a half-written file.

    Subclasses write to ``self._f``; :meth:`commit` renames the finished file into place
    (``os.replace`` is atomic on one file system) and :meth:`abort` removes it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self._tmp, "wb")

    def commit(self) -> Path:
        self._f.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        self._f.close()
        self._tmp.unlink(missing_ok=True)
