"""Where the real data sets live: $LAMBERTIAN_DATA, else ../shared/data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path | None:
    """The folder holding diligent/, psm/, yaleb/ ... or None when it cannot be found."""
    env = os.environ.get("LAMBERTIAN_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    # src/lambertian/io/data_root.py -> repo root is parents[3]; shared/ sits beside it.
    candidates += [here.parents[3].parent / "shared" / "data",
                   Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"]
    for c in candidates:
        if (c / "README.md").is_file() or (c / "diligent").is_dir():
            return c
    return None
