"""The synthetic-spheres data set of the Deep Lambertian Network experiment.

Each sample is one centred sphere (diameter ``fill`` of the image side, orthographic
camera) with one RGB albedo ``~ U(0, 1)^3``, rendered at ``resolution x resolution`` under
``n_lights`` random distant lights drawn uniformly on the unit sphere and kept when
``l_z > min_light_z`` (the upper hemisphere, away from grazing). Images follow the
project's model with unit intensity and no ambient: ``I = albedo * max(0, n . l)`` (the
clamp is the attached shadow), plus optional Gaussian noise of standard deviation
``noise`` on every pixel of every image (train and test alike, not clipped, so the noise
model is exactly Gaussian). Project frame: x right, y up, z toward the camera.

Reference: Y. Tang, R. Salakhutdinov, G. Hinton, "Deep Lambertian Networks", ICML 2012;
the specification is the seed document ``002`` (Deep Lambertian synthetic spheres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.shading import render_lambertian
from lambertian.core.sphere import sphere_normals

SPHERE_FILL = 0.8  # sphere diameter / image side
MIN_LIGHT_Z = 0.15  # lights with l_z <= this are redrawn
LIGHT_COUNTS = range(3, 9)  # 3 (Woodham's minimum) to 8 lights per sphere
TEST_SEED = 10000  # the seed's held-out test set


@dataclass
class SphereSet:
    """A batch of rendered spheres with ground truth.

    images : (S, K, H, W, 3) float32 linear images (noise included).
    lights : (S, K, 3) float32 unit light directions per sphere, project frame.
    albedo : (S, 3) float32 per-sphere RGB albedo.
    normals : (H, W, 3) float32 analytic unit normals, zeros outside ``mask``.
    mask : (H, W) bool silhouette (the same for every sphere).
    noise : standard deviation of the added Gaussian noise.
    seed : the seed the set was drawn with.
    """

    images: np.ndarray
    lights: np.ndarray
    albedo: np.ndarray
    normals: np.ndarray
    mask: np.ndarray
    noise: float
    seed: int

    @property
    def n_spheres(self) -> int:
        return int(self.images.shape[0])

    @property
    def n_lights(self) -> int:
        return int(self.images.shape[1])


def sphere_geometry(resolution: int = 32, fill: float = SPHERE_FILL
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Analytic normals ``(x, y, sqrt(1 - x^2 - y^2))`` of the centred sphere.

    Returns (H, W, 3) float32 normals (zeros outside) and the (H, W) bool mask.
    """
    c = (resolution - 1) / 2.0
    n, m = sphere_normals((resolution, resolution), (c, c), fill * resolution / 2.0)
    return n.astype(np.float32), m


def random_lights(rng: np.random.Generator, shape: tuple[int, ...],
                  min_z: float = MIN_LIGHT_Z) -> np.ndarray:
    """(*shape, 3) unit vectors uniform on the sphere, conditioned on ``z > min_z``.

    Rejection sampling of normalised Gaussian vectors (uniform on the sphere).
    """
    count = int(np.prod(shape))
    out = np.empty((0, 3))
    while out.shape[0] < count:
        v = rng.normal(size=(2 * count + 16, 3))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out = np.concatenate([out, v[v[:, 2] > min_z]])
    return out[:count].reshape(*shape, 3)


def check_sphere_args(n_spheres: int, n_lights: int, resolution: int, noise: float) -> None:
    """InputError for settings the experiment does not define."""
    if n_spheres < 1:
        raise InputError("--n-spheres", f"must be at least 1, got {n_spheres}")
    if n_lights not in LIGHT_COUNTS:
        raise InputError("--n-lights-per-sphere",
                         f"must be between 3 and 8, got {n_lights}")
    if resolution < 8:
        raise InputError("--resolution", f"must be at least 8 pixels, got {resolution}")
    if not np.isfinite(noise) or noise < 0:
        raise InputError("--noise", f"must be a finite sigma >= 0, got {noise}")


def make_spheres(n_spheres: int = 400, n_lights: int = 6, resolution: int = 32,
                 seed: int = 0, noise: float = 0.0, fill: float = SPHERE_FILL) -> SphereSet:
    """Render ``n_spheres`` random-albedo spheres under ``n_lights`` random lights each.

    Deterministic in ``seed`` (albedo, then lights, then noise are drawn from one
    ``numpy.random.default_rng(seed)``).
    """
    check_sphere_args(n_spheres, n_lights, resolution, noise)
    rng = np.random.default_rng(seed)
    albedo = rng.uniform(0.0, 1.0, size=(n_spheres, 3))
    lights = random_lights(rng, (n_spheres, n_lights))
    normals, mask = sphere_geometry(resolution, fill)
    n64 = normals.astype(np.float64)
    # Rendered in float64 one sphere at a time into the float32 set (the float64 stack
    # of a 400-sphere set alone would be 60 MB; the values are the same). The noise is
    # drawn per sphere too: consecutive draws of one Generator are one stream, so the
    # noise equals one draw of the whole (S, K, H, W, 3) array.
    images = np.empty((n_spheres, n_lights, resolution, resolution, 3), np.float32)
    for s in range(n_spheres):
        img = render_lambertian(n64, np.full((resolution, resolution, 3), albedo[s]),
                                lights[s]).numpy() * mask[None, :, :, None]
        if noise > 0:
            img = img + noise * rng.normal(size=img.shape)
        images[s] = img
    return SphereSet(images, lights.astype(np.float32),
                     albedo.astype(np.float32), normals, mask, float(noise), int(seed))
