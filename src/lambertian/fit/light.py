"""Fit ambient + one directional light (NMR's model) to a masked grey photograph, at a
known pose, by gradient descent.

With unknown albedo only albedo x intensity is identifiable: the fit assumes albedo 1
(or a given per-pixel albedo) and reports intensities relative to it.

Reference: H. Kato, Y. Ushiku, T. Harada, "Neural 3D Mesh Renderer", CVPR 2018 (lighting
model and fitting lights by back-propagation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from lambertian.core.light import DirectionalLight
from lambertian.fit.losses import cauchy_loss, robust_scale
from lambertian.render import shadows
from lambertian.render.camera import Camera
from lambertian.render.mesh import Mesh
from lambertian.render.rasterize import Fragments
from lambertian.render.shade import pixel_normals, project_light_to_world, shade


@dataclass
class LightParams:
    """Unconstrained light parameters: ``direction = v / |v|`` (camera project frame)."""

    ambient: torch.Tensor
    intensity: torch.Tensor
    v: torch.Tensor

    @classmethod
    def init(cls, ambient: float = 0.3, intensity: float = 0.7,
             direction: tuple[float, float, float] = (0.0, 0.0, 1.0),
             dtype: torch.dtype = torch.float32) -> LightParams:
        return cls(torch.tensor(ambient, dtype=dtype, requires_grad=True),
                   torch.tensor(intensity, dtype=dtype, requires_grad=True),
                   torch.tensor(direction, dtype=dtype, requires_grad=True))

    @property
    def direction(self) -> torch.Tensor:
        return self.v / self.v.norm()

    def parameters(self) -> list[torch.Tensor]:
        return [self.ambient, self.intensity, self.v]

    def to_light(self, **notes: Any) -> DirectionalLight:
        """The current values as the project's light type (detached, float64)."""
        return DirectionalLight(self.direction.detach().double().numpy(),
                                float(self.intensity.detach()), float(self.ambient.detach()),
                                notes=dict(notes))

    @classmethod
    def from_light(cls, light: DirectionalLight,
                   dtype: torch.dtype = torch.float32) -> LightParams:
        """Fresh trainable parameters starting at ``light``."""
        return cls.init(light.ambient, light.intensity,
                        tuple(float(v) for v in light.direction), dtype=dtype)


@dataclass
class MeshLightFit:
    """Result of :func:`fit_light`: ``light`` (camera project frame), the final robust
    ``loss``, ``rmse`` over the inliers and ``inlier_fraction``."""

    light: DirectionalLight
    loss: float
    rmse: float
    inlier_fraction: float


def shading_residual(light: LightParams, normals: torch.Tensor, image: torch.Tensor,
                     mask: torch.Tensor, albedo: torch.Tensor | float = 1.0,
                     ambient_visibility: torch.Tensor | None = None,
                     light_visibility: torch.Tensor | None = None,
                     supersample: int = 1) -> torch.Tensor:
    """Residuals (N,) photo - render on the ``mask`` pixels (normals (H, W, 3) project frame
    of the camera, image (H, W) grey). The optional (H, W) visibilities multiply the ambient
    term (ambient occlusion) and the directional term (cast shadows).

    With ``supersample`` s > 1 the normals and visibilities are (s H, s W): s x s samples
    per pixel (0 normals where no surface is seen), and each pixel renders as their mean,
    as a camera integrates over its pixel's area (:func:`pool_samples`)."""
    d = light.direction.reshape(1, 3)
    if supersample > 1:
        fine = normals.abs().sum(-1) > 0
        direct = shade(normals, fine, d, light.intensity, 0.0)[..., 0]
        amb = light.ambient * fine.to(normals.dtype)
    else:
        direct = shade(normals, mask, d, light.intensity, 0.0, albedo)[..., 0]
        amb = shade(normals, mask, d, 0.0, light.ambient, albedo)[..., 0]
    if light_visibility is not None:
        direct = direct * light_visibility
    if ambient_visibility is not None:
        amb = amb * ambient_visibility
    model = direct + amb
    if supersample > 1:
        model = pool_samples(model, supersample) * albedo
    return (image - model)[mask]


def pool_samples(fine: torch.Tensor, s: int) -> torch.Tensor:
    """(H, W) means of the s x s blocks of a (s H, s W) image of samples."""
    if s == 1:
        return fine
    return torch.nn.functional.avg_pool2d(fine[None, None], s)[0, 0]


def mesh_visibility(mesh: Mesh, camera: Camera, frags: Fragments, smooth: bool = True,
                    n_directions: int = 128, method: str = "shadow_map",
                    where: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """Ambient occlusion (H, W) of the visible surface, and a function from a light
    direction (3,) (camera project frame) to its cast-shadow visibility (H, W) in {0, 1},
    both from the known mesh (:mod:`lambertian.render.shadows`): by shadow mapping
    (``method="shadow_map"``) or by exact rays (``"rays"``, the irregular z-buffer of
    :func:`lambertian.render.shadows.ray_visibility`). ``where`` (H, W) bool limits both
    to those pixels (the ones a fit uses; 1 elsewhere)."""
    if method not in ("shadow_map", "rays"):
        raise ValueError(f"unknown visibility method {method!r}")
    H, W = frags.face.shape
    m = frags.mask if where is None else frags.mask & where
    X = shadows.surface_points(mesh, frags)[m]
    n = project_light_to_world(pixel_normals(mesh, camera, frags, smooth=smooth)[m].detach(),
                               camera)
    va = torch.ones(H, W, dtype=X.dtype)
    va[m] = shadows.ambient_visibility(mesh, X, n, n_directions, method=method).to(X.dtype)
    test = shadows.ray_visibility if method == "rays" else shadows.light_visibility

    def shadow(direction: torch.Tensor) -> torch.Tensor:
        s = torch.ones(H, W, dtype=X.dtype)
        s[m] = test(mesh, X, project_light_to_world(direction.detach(), camera)).to(X.dtype)
        return s

    return va, shadow


def fit_light(normals: torch.Tensor, image: torch.Tensor, mask: torch.Tensor,
              albedo: torch.Tensor | float = 1.0, steps: int = 400,
              robust: bool = True, init: LightParams | None = None,
              callback: Callable[[int, LightParams, float], None] | None = None,
              ambient_visibility: torch.Tensor | None = None,
              shadow: Callable[[torch.Tensor], torch.Tensor] | None = None,
              nonneg: bool = False, supersample: int = 1) -> MeshLightFit:
    """Fit ``(l_a, l_d, n_d)`` so that ``albedo (l_a + l_d max(0, n_d . n))`` matches ``image``.

    Parameters
    ----------
    normals : (H, W, 3) unit normals of the visible surface, camera project frame.
    image : (H, W) grey photograph, linear.
    mask : (H, W) bool, pixels used (object and rendered mesh, away from edges).
    steps : L-BFGS iterations in all.
    robust : after a least-squares start, switch to a Cauchy loss whose scale is the MAD
        of the residuals, so cast shadows and speculars count as outliers.
    callback : called as ``callback(step, light, loss)``.
    ambient_visibility : (H, W) ambient occlusion multiplying ``l_a`` (1 = open sky).
    shadow : direction (3,) -> (H, W) cast-shadow visibility multiplying the directional
        term; re-evaluated at the current direction before every round after the first
        (see :func:`mesh_visibility`). Without these, cast shadows and occlusion are
        only down-weighted by the robust loss.
    nonneg : keep ``l_a >= 0`` and ``l_d >= 0`` (a light adds radiance: a negative
        intensity only fits pixels the model cannot explain); they are optimised as
        ``softplus`` of free values, started at the initial values (clamped to 1e-3).
    supersample : s > 1: ``normals``, ``ambient_visibility`` and the shadows are
        (s H, s W), s x s samples per pixel of ``image`` and ``mask``, and a pixel renders
        as their mean (see :func:`shading_residual`).

    Returns
    -------
    :class:`MeshLightFit` with ``light`` (a DirectionalLight, camera project frame), ``loss``,
    ``rmse`` over the inliers and ``inlier_fraction``. ``init``, when given, is left at
    the fitted values too.
    """
    light = init or LightParams.init(dtype=image.dtype,
                                     ambient=float(image[mask].min()) if mask.any() else 0.3,
                                     intensity=float(image[mask].max()) if mask.any() else 0.7)
    # the tensors L-BFGS moves; with ``nonneg`` the intensities are softplus of free values
    # and ``view`` builds the light from them in every evaluation
    if nonneg:
        free = [_inv_softplus(light.ambient), _inv_softplus(light.intensity),
                light.v.detach().clone().requires_grad_(True)]

        def view() -> LightParams:
            return LightParams(torch.nn.functional.softplus(free[0]),
                               torch.nn.functional.softplus(free[1]), free[2])
    else:
        free = light.parameters()

        def view() -> LightParams:
            return light
    # L-BFGS: the problem is small and smooth almost everywhere; rounds re-estimate the
    # Cauchy scale (iteratively reweighted, Holland & Welsch 1977) after a least-squares one
    rounds = 4 if robust else 1
    if shadow is not None:
        rounds += 1
    evals = [0]
    loss = torch.zeros(())
    vis: dict[str, torch.Tensor | None] = {"ambient_visibility": ambient_visibility,
                                           "light_visibility": None}
    ss = {"supersample": supersample}
    for rnd in range(rounds):
        scale = None
        if shadow is not None and rnd > 0:
            vis["light_visibility"] = shadow(view().direction.detach())
        if rnd > 0 and robust:
            with torch.no_grad():
                r0 = shading_residual(view(), normals, image, mask, albedo, **vis, **ss)
                scale = robust_scale(r0).clamp_min(1e-3 * float(image[mask].abs().max()) + 1e-8)
        opt = torch.optim.LBFGS(free, lr=1.0, max_iter=steps // rounds,
                                tolerance_grad=1e-12, tolerance_change=1e-14,
                                line_search_fn="strong_wolfe")

        def closure(scale=scale, opt=opt):
            opt.zero_grad()
            cur = view()
            r = shading_residual(cur, normals, image, mask, albedo, **vis, **ss)
            loss = (r ** 2).mean() if scale is None else cauchy_loss(r, scale)
            loss.backward()
            if callback is not None:
                callback(evals[0], cur, float(loss.detach()))
            evals[0] += 1
            return loss

        loss = opt.step(closure)
    with torch.no_grad():
        if nonneg:  # the caller's parameters are left at the fitted values
            cur = view()
            light.ambient.copy_(cur.ambient)
            light.intensity.copy_(cur.intensity)
            light.v.copy_(cur.v)
        r = shading_residual(light, normals, image, mask, albedo, **vis, **ss)
        s = robust_scale(r).clamp_min(1e-3 * float(image[mask].abs().max()) + 1e-8)
        inl = r.abs() < 3 * s
        return MeshLightFit(light.to_light(), float(loss),
                        float(torch.sqrt((r[inl] ** 2).mean())) if inl.any() else float("nan"),
                        float(inl.float().mean()))


def _inv_softplus(x: torch.Tensor, floor: float = 1e-3) -> torch.Tensor:
    """A free leaf tensor whose softplus is ``x`` (clamped to ``floor``)."""
    x = x.detach().clamp_min(floor)
    return (x + torch.log(-torch.expm1(-x))).requires_grad_(True)
