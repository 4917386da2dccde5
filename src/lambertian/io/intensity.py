"""The range of light intensities every reader accepts (intensities.txt, light JSON).

Images are divided by their light's intensity before solving, in float32. An intensity
far outside the range below turns that division into overflow (an image of inf, reported
as "NaN in image 0" of the capture) or underflow (an image of zeros, silently solved as
an image in shadow); one intensity far from the others gives its image a weight that no
capture has. Both are typos or wrong units, and are refused naming the light file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from lambertian.core.errors import InputError

# Absolute bounds: dividing [0, 1] images by 1e-9 gives values up to 1e9, whose squares
# stay far inside float32 (the solvers' MAX_VALUE is 1e15); by 1e12, values the solvers
# still take alike (images scaled by 1e-12 solve as the originals, test_ps_bad_input.py).
INTENSITY_RANGE = (1e-9, 1e12)
# Largest ratio between two intensities of one capture: real rigs differ by a few times
# (DiLiGenT's LEDs by up to 11x over all channels), exposure brackets by a few hundred; a
# million is a typo.
MAX_INTENSITY_RATIO = 1e6


def check_intensity_range(intensities: Sequence[float] | np.ndarray,
                          source: str | os.PathLike[str] | None,
                          what: str = "intensity") -> None:
    """InputError naming ``source`` for intensities that are not finite and positive,
    lie outside :data:`INTENSITY_RANGE`, or are spread by more than
    :data:`MAX_INTENSITY_RATIO`."""
    e = np.asarray(intensities, dtype=np.float64).ravel()
    if e.size == 0:
        return
    if not np.isfinite(e).all() or (e <= 0).any():
        raise InputError(source, "intensities must be finite and positive")
    lo, hi = float(e.min()), float(e.max())
    if lo < INTENSITY_RANGE[0] or hi > INTENSITY_RANGE[1]:
        bad = lo if lo < INTENSITY_RANGE[0] else hi
        raise InputError(source, f"{what} {bad:.3g} is outside {INTENSITY_RANGE[0]:g} .. "
                                 f"{INTENSITY_RANGE[1]:g} (wrong units or a typo?)")
    if hi > MAX_INTENSITY_RATIO * lo:
        raise InputError(source, f"intensities range from {lo:.3g} to {hi:.3g}, a ratio above "
                                 f"{MAX_INTENSITY_RATIO:g}: one light that much brighter than "
                                 "another is a typo or wrong units")
