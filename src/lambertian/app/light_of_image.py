"""The light of one image: ambient + one directional light, from known normals (measured,
or a mesh's rendered normal map) or, without them, from a learned model.

References: Q. Zheng, R. Chellappa, "Estimation of illuminant direction, albedo, and
shape from shading", PAMI 13(7), 1991 (the robust shading fit); R. Ramamoorthi,
P. Hanrahan, SIGGRAPH 2001 (the 9 spherical-harmonic terms); S. Prokudin, P. Gehler,
S. Nowozin, ECCV 2018 (the learned model's vMF uncertainty).
"""

from __future__ import annotations

import os

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight

# Names of the shipped learned models (``lambertian.learn.train_light.WEIGHTS``), kept
# here too so that choosing one does not load torch.
SHIPPED_MODELS = ("faces", "objects")


def light_of_image(image: np.ndarray, *, normals: np.ndarray | None = None,
                   model: str | os.PathLike[str] | None = None,
                   mask: np.ndarray | None = None, ambient: bool = True, sh: bool = False,
                   source: str = "image", normals_source: str = "normals",
                   mask_source: str = "mask") -> DirectionalLight:
    """Ambient + directional light of one linear image.

    Parameters
    ----------
    image : (H, W) or (H, W, C) linear image (a colour image's chromaticity groups the
        pixels by albedo when the normals are known).
    normals : (H, W, 3) unit normals, project frame (zero where unknown); or
    model : no normals: ``"faces"``, ``"objects"`` (the shipped learned models) or a
        weights file; the light then carries ``uncertainty_deg``.
    mask : (H, W) bool pixels to use (default: non-zero normals / the whole image).
    ambient : fit an ambient term (normals only).
    sh : also fit the 9 spherical-harmonic terms of general illumination (normals only),
        stored as ``notes["sh9"]``.
    source, normals_source, mask_source : the inputs' names for error messages.

    Returns
    -------
    DirectionalLight (project frame; intensity and ambient relative to the albedo).

    Examples
    --------
    >>> import numpy as np, lambertian
    >>> from lambertian.core.sphere import sphere_normals
    >>> n, disc = sphere_normals((80, 80), (40, 40), 36)
    >>> l = np.array([-0.4, 0.3, 0.866])
    >>> image = np.where(disc, 0.1 + 0.8 * np.clip(n @ l, 0, None), 0)
    >>> light = lambertian.light_of_image(image, normals=n, mask=disc)
    >>> np.round(light.direction, 2).tolist(), round(light.ambient, 2)
    ([-0.4, 0.3, 0.87], 0.1)
    """
    from lambertian.io.checks import check_shading
    from lambertian.ps.inputs import check_images, check_mask, check_radiance

    if (normals is None) == (model is None):
        raise InputError(source, "give exactly one of normals or a learned model")
    img = np.asarray(image)
    # both paths: None, a scalar or a string is named here, not an IndexError below
    if img.ndim not in (2, 3) or img.dtype.kind not in "biuf":
        raise InputError(source, f"an image is H x W [x C] of numbers, got shape {img.shape}"
                                 f" of {img.dtype}")
    if img.dtype.kind == "u":  # 8/16-bit values: full scale is 1, as read_image gives
        img = img.astype(np.float32) / np.iinfo(img.dtype).max
    if model is not None:
        from lambertian.learn.train_light import estimate_light_learned

        if not isinstance(model, (str, os.PathLike)):
            raise InputError("model", f"'faces', 'objects' or a weights file expected, got "
                                      f"{type(model).__name__}")
        if str(model) not in SHIPPED_MODELS and not os.path.isfile(model):
            raise InputError(model, "unknown model: use 'faces', 'objects' or a weights file")
        if mask is not None:
            mask = check_mask(mask, img.shape[:2], mask_source)
        check_shading(img, mask, source=source)  # too small or dark: unidentifiable
        # the solvers' checks of one image: finite, within float32's range, not negative
        check_radiance(check_images(img[None], source), source)
        return estimate_light_learned(img, model, mask)
    from lambertian.io.checks import check_normal_map
    from lambertian.lights.sh import fit_sh9
    from lambertian.lights.single_image import estimate_light
    from lambertian.ps.inputs import to_grey

    grey = img if img.ndim == 2 else to_grey(img[None])[0]
    normals = np.asarray(normals)
    if normals.shape != grey.shape + (3,):
        raise InputError(normals_source, f"normals are {normals.shape}, the image is "
                                         f"{grey.shape}")
    # The checks `integrate` makes (float, finite, unit length where the mask says), so
    # the two accept the same normal maps; then enough shading to fit.
    normals, used, _ = check_normal_map(normals, mask, source=normals_source,
                                        mask_source=mask_source)
    check_shading(img, used, source=source)
    # The colour image, when there is one: its chromaticity groups pixels by albedo.
    # Values at full scale are clipped highlights; an HDR image (values above 1) has no
    # clipping level, and cutting at 0.99 would drop its lit pixels as "saturated".
    finite = img[np.isfinite(img)]
    saturation = 0.99 if finite.size == 0 or float(finite.max()) <= 1.0 else None
    light = estimate_light(img if img.ndim == 3 and img.shape[2] == 3 else grey, normals,
                           mask, ambient=ambient, saturation=saturation, source=source)
    if sh:
        light.notes["sh9"] = fit_sh9(grey, normals, mask, source=source).tolist()
    return light
