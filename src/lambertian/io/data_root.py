"""Where the real data sets live: $LAMBERTIAN_DATA, else ../shared/data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

from lambertian.core.errors import InputError


def data_root(*, strict: bool = False) -> Path | None:
    """The folder holding diligent/, psm/, yaleb/ ... or None when it cannot be found.

    With ``strict`` (the commands and jobs that read the data), a $LAMBERTIAN_DATA that
    is set is the answer or an InputError: falling back to ../shared/data would run on
    other data than the user named. Without it (tests, benchmarks) a bad setting is
    passed over, as before, so that they skip or find the shared copy.
    """
    env = os.environ.get("LAMBERTIAN_DATA")
    if strict and env:
        if not Path(env).is_dir():
            raise InputError("$LAMBERTIAN_DATA", f"{env}: not a folder "
                             f"({'a file' if Path(env).exists() else 'not found'})")
        return Path(env)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    # src/lambertian/io/data_root.py -> repo root is parents[3]; shared/ sits beside it.
    candidates += [here.parents[3].parent / "shared" / "data",
                   Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"]
    for c in candidates:
        if (c / "README.md").is_file() or (c / "diligent").is_dir():
            return c
    return None
