"""Depth and a mesh from a normal map (normal integration).

The integrators live in :mod:`lambertian.integrate` (:data:`~lambertian.integrate.METHODS`;
the default, bilateral, keeps depth discontinuities: X. Cao, H. Santo, B. Shi, F. Okura,
Y. Matsushita, "Bilateral normal integration", ECCV 2022).
"""

from __future__ import annotations

import numpy as np

from lambertian.integrate.result import DepthResult


def depth_from_normals(normals: np.ndarray, mask: np.ndarray | None = None, *,
                       K: np.ndarray | None = None, method: str | None = None,
                       source: str = "normals", mask_source: str = "mask") -> DepthResult:
    """Depth of a surface from its normals, checked first.

    Parameters
    ----------
    normals : (H, W, 3) unit normals, project frame (zeros outside the mask).
    mask : (H, W) bool (default: the pixels with a non-zero normal).
    K : (3, 3) intrinsics (OpenCV, pixels): perspective depth, metric up to one scale;
        without, orthographic depth in pixels up to an offset.
    method : a name from :data:`lambertian.integrate.METHODS` (default
        :data:`lambertian.integrate.DEFAULT_METHOD`).
    source, mask_source : names for error messages.

    Returns
    -------
    lambertian.integrate.DepthResult with ``depth`` (H, W, NaN outside), ``mask``, ``K``
    and ``info`` (regions, notes); :func:`lambertian.integrate.depth_to_mesh` makes the mesh.

    Examples
    --------
    >>> import numpy as np, lambertian
    >>> n = np.zeros((32, 32, 3)); n[..., 2] = 1.0  # a plane facing the camera
    >>> res = lambertian.depth_from_normals(n, method="poisson")
    >>> float(np.nanmax(res.depth) - np.nanmin(res.depth)) < 1e-6
    True
    """
    from lambertian.integrate.checks import check_normals
    from lambertian.integrate.outputs import DEFAULT_METHOD, integrate_normals

    normals = np.asarray(normals)
    check_normals(normals, mask, source=source, mask_source=mask_source)
    return integrate_normals(normals, mask, K, method or DEFAULT_METHOD)
