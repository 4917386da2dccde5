"""The learned light prior as one more cue for the GBR parameters.

The integrability step leaves the lights one generalised bas-relief transformation away
from the truth (:mod:`lambertian.lights.gbr`); the physical cues (albedo entropy, diffuse
maxima, chromaticity groups) choose its three parameters and can be nearly flat along
some of them. The LCNet-like network (:mod:`lambertian.lights.light_net`) predicts every
light directly from the images, tens of degrees off on real objects image by image, but
its errors are not those of the physical cues. As a weak term of the GBR criterion it
only picks among the members the physical cues find about equally good; the GBR
constraint keeps the factorisation's precision. (The other way round, choosing the
whole 3x3 ambiguity by the network, is ``method="network"``: no physical cue at all.)

The term is the mean angle (radians) between the member's lights and the network's,
the smaller over the convex/concave flip, which the occluding boundary decides later.

Reference for the network: G. Chen, K. Han, B. Shi, Y. Matsushita, K.-Y. K. Wong,
"Self-calibrating deep photometric stereo networks", CVPR 2019.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lambertian.lights.gbr import gbr_matrix, unit

# The convex/concave flip (a half turn about the viewing axis) of light vectors.
_FLIP = np.array([-1.0, -1.0, 1.0])


def light_prior_cost(s: np.ndarray, directions: np.ndarray, weight: float
                     ) -> Callable[[np.ndarray], float]:
    """The cost of GBR parameters ``p = (mu, nu, log lam)`` (the search's
    parametrisation, :func:`lambertian.lights.albedo_entropy.resolve_gbr_entropy`):
    ``weight`` times the mean angle (radians) between the member's lights ``G s`` and the
    network's ``directions``, the smaller of the two convex/concave signs.

    s : (K, 3) lights of the integrable basis; directions : (K, 3) unit, the network's.
    Images without a light in either (zero rows of ``s``, NaN rows of ``directions``:
    black images) are left out.
    """
    s = np.asarray(s, np.float64)
    d = np.asarray(directions, np.float64)
    use = np.all(np.isfinite(d), axis=1) & (np.linalg.norm(s, axis=1) > 0)
    s, d = s[use], d[use]

    def cost(p: np.ndarray) -> float:
        if not len(s):
            return 0.0
        v = unit(s @ gbr_matrix(p[0], p[1], float(np.exp(p[2]))).T)
        same = np.arccos(np.clip(np.sum(v * d, axis=1), -1.0, 1.0)).mean()
        flipped = np.arccos(np.clip(np.sum(v * _FLIP * d, axis=1), -1.0, 1.0)).mean()
        return float(weight * min(same, flipped))

    return cost
