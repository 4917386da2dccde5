"""Relight a fitted model under a new light, and the viewer's display transform.

The web viewer (``lambertian/viz/viewer/viewer.js``) evaluates exactly these expressions
in its fragment shader; ``tests/test_relight_browser.py`` checks the two agree.
"""

from __future__ import annotations

import numpy as np

from lambertian.relight.basis import basis, ptm_basis, unit_lights
from lambertian.relight.lobe import half_vectors
from lambertian.relight.model import RelightModel

#: Display gamma of the viewer (an sRGB-like power law on linear values).
DISPLAY_GAMMA = 2.2


def relight(model: RelightModel, light: np.ndarray) -> np.ndarray:
    """The model's image under one distant light of unit intensity.

    Parameters
    ----------
    model : a fitted :class:`RelightModel`.
    light : (3,) light direction, project frame, toward the light (normalised here).

    Returns
    -------
    (H, W, C) float32 linear image, zeros outside the model's mask (not clipped).
    """
    l = unit_lights(light)  # (1, 3)
    if model.kind == "ours":
        assert model.normals is not None and model.albedo is not None
        assert model.specular is not None and model.shininess is not None
        n = model.normals.astype(np.float64)
        nl = n @ l[0]
        m = n if model.axis is None else model.axis.astype(np.float64)
        nh = np.maximum(m @ half_vectors(l)[0], 0.0)
        lobe = np.where(nl > 0, nh ** model.shininess.astype(np.float64), 0.0)
        diffuse = np.maximum(nl, 0.0)
        if model.ratio is not None:
            diffuse = diffuse * np.maximum(1.0 + model.ratio.astype(np.float64)
                                           @ ptm_basis(l)[0], 0.0)
        out = model.albedo * diffuse[..., None] + model.specular * lobe[..., None]
    else:
        assert model.coefficients is not None
        b = basis(model.kind, l)[0]  # (n,)
        out = model.coefficients.astype(np.float64) @ b
    out = np.where(model.mask[..., None], out, 0.0)
    return out.astype(np.float32)


def display(image: np.ndarray, exposure: float = 1.0) -> np.ndarray:
    """Linear image -> 8-bit display values as the viewer draws them:
    ``round(255 * clip(exposure * I, 0, 1) ^ (1 / 2.2))``."""
    x = np.clip(np.asarray(image, np.float64) * exposure, 0.0, 1.0) ** (1.0 / DISPLAY_GAMMA)
    return np.round(255.0 * x).astype(np.uint8)
