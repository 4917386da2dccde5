"""Mesh fit: the ambient + directional light (and the pose) of a known mesh in a masked
photograph, by differentiable rendering with the Neural Mesh Renderer's lighting model.

The job is three steps: fit the light at the given pose (with the mesh's cast shadows and
sky occlusion from shadow maps, unless ``shadows=False``), optionally fit the pose with
the light, then, because the pose fit has no shadow model, fit the light again at the
fitted pose. The light stays a :class:`~lambertian.core.light.DirectionalLight`
throughout (no dict round trip); only the optimiser holds it as tensors.

Reference: H. Kato, Y. Ushiku, T. Harada, "Neural 3D Mesh Renderer", CVPR 2018.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from lambertian.core.errors import InputError
from lambertian.core.light import DirectionalLight
from lambertian.io.checks import check_shading

if TYPE_CHECKING:  # torch loads with the fit, not with the import
    from lambertian.render.mesh import Mesh

# progress(stage, step, loss): stage is "light", "shadows", "pose" or "light again";
# loss is None for a stage's first report.
Progress = Callable[[str, int, "float | None"], None]
# A fit records at most this many frames per stage for the animation (fit.gif).
MAX_FRAMES = 30
# The light fits' budgets (one mesh or a scene). A light has 5 parameters: a few thousand
# pixels per object pin it far below the photo's noise and the model's error, while exact
# visibility (rays to the light and to 128 sky directions per pixel) costs time in
# proportion to the pixels.
# So each object's usable pixels are thinned, evenly, to at most MAX_FIT_PIXELS, and the
# sub-pixel samples of a window to at most MAX_SAMPLES: a window of a high-resolution photo
# (the seed photo's cars, 1015 x 236 pixels, faces of several pixels each) is sampled once
# per pixel, a 128 x 128 one 4 x 4 (real car meshes there have faces smaller than a pixel).
MAX_FIT_PIXELS = 8000
MAX_SAMPLES = 300_000


@dataclass
class MeshFit:
    """Result of :func:`fit_mesh_light`.

    light : the fitted light, project frame of the camera.
    light_world : the same light in the mesh's world frame.
    R, t : (3, 3), (3,) the (fitted) pose, OpenCV ``X_cam = R X_world + t``.
    crop : (x0, y0, w, h) window of the photo that was fitted.
    losses : the final losses of each step.
    frames : (h, 2w) grey photo | render frames of the fit, for an animation.
    render_mask : (h, w) bool pixels the mesh covers at the final pose.
    photo : (h, w) the fitted window of the photo.
    notes : what the fit assumed (albedo 1, the shadow model, the normals).
    """

    light: DirectionalLight
    light_world: DirectionalLight
    R: np.ndarray
    t: np.ndarray
    crop: tuple[int, int, int, int]
    losses: dict[str, float]
    frames: list[np.ndarray] = field(default_factory=list)
    render_mask: np.ndarray | None = None
    photo: np.ndarray | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def fit_mesh_light(mesh: Mesh | str | os.PathLike[str], photo: np.ndarray, mask: np.ndarray,
                   K: np.ndarray, R: np.ndarray, t: np.ndarray, *,
                   crop: tuple[int, int, int, int] | None = None, fit_pose: bool = False,
                   smooth: bool = False, shadows: bool = True, steps: int = 150,
                   progress: Progress | None = None, mask_source: str = "mask",
                   supersample: int = 4, visibility: str = "rays",
                   drop_back_facing: bool = True, photo_source: str = "photo",
                   pose_source: str = "pose") -> MeshFit:
    """Fit ``I = l_a + l_d max(0, n_d . n)`` (albedo 1) of ``mesh`` to a masked photo.

    Parameters
    ----------
    mesh : a :class:`lambertian.render.mesh.Mesh` or a mesh file (OBJ, PLY, GLB...).
    photo : (H, W) linear grey photograph.
    mask : (H, W) bool object pixels.
    K : (3, 3) intrinsics, OpenCV convention (pixels).
    R, t : (3, 3) rotation and (3,) translation, world to camera (OpenCV).
    crop : optional (x0, y0, w, h) window of the photo to fit.
    fit_pose : also fit R and t (then the light again at the fitted pose).
    smooth : shade with interpolated vertex normals (else per-face normals).
    shadows : model the mesh's cast shadows and sky occlusion (``visibility``).
    steps : pose iterations.
    progress : called as ``progress(stage, step, loss)`` while fitting.
    mask_source, photo_source, pose_source : the mask's, the photo's and the pose's names
        for error messages (their files).
    supersample, visibility, drop_back_facing : the model of the photo's pixels, as in
        :func:`fit_scene_light` (pixel areas, exact rays, backs of faces left out).

    Returns
    -------
    MeshFit (its ``light`` in the camera's project frame: x right, y up, z toward the
    camera, toward the light).

    Raises
    ------
    InputError : the window is not inside the image, or the mesh covers fewer than 10
        mask pixels at this pose.
    """
    import torch

    from lambertian.fit.light import LightParams, pool_samples
    from lambertian.fit.pose import fit_pose as _fit_pose
    from lambertian.fit.scene import camera_depths
    from lambertian.render.camera import Camera
    from lambertian.render.mesh import check_faces, load_mesh
    from lambertian.render.rasterize import rasterize
    from lambertian.render.shade import pixel_normals, project_light_to_world

    if isinstance(mesh, (str, os.PathLike)):
        mesh = load_mesh(mesh)
    else:  # a Mesh built in Python: the checks load_mesh makes on a file's faces
        check_faces(mesh.faces.cpu().numpy(), int(mesh.vertices.shape[0]), "mesh")
    # a pose that puts the whole mesh behind the camera is the pose's fault: without this
    # the empty render is reported as "covers fewer than 10 mask pixels", naming the mask
    z = camera_depths(mesh, R, t)
    if z.max() <= 0:
        raise InputError(pose_source, f"the mesh is behind the camera at this pose (its "
                                      f"nearest point has z = {z.max():.3g})")
    report = progress or (lambda stage, step, loss: None)
    H, W = photo.shape
    x0, y0, w, h = _crop_window(crop, W, H)
    cam = Camera.create(K, R, t, W, H).crop(x0, y0, w, h)
    img_t = torch.from_numpy(np.ascontiguousarray(photo[y0:y0 + h, x0:x0 + w], np.float32))
    mask_t = torch.from_numpy(np.ascontiguousarray(mask[y0:y0 + h, x0:x0 + w], bool))
    frames: list[np.ndarray] = []

    ss = _supersampling(supersample, w, h)

    def light_fit(stage: str, init: LightParams | None = None):
        """Fit the light at ``cam``; every 10th evaluation becomes a frame."""
        coarse, fcam, frags = _rasterize_samples(mesh, cam, ss)
        # every sample of the pixel on the mesh, none on the back of a face
        use = (coarse.mask & _erode(mask_t)
               & (pool_samples(frags.mask.float(), ss) > 1 - 1e-6))
        if drop_back_facing:
            use = use & ~_unreliable(mesh, fcam, frags, ss)
        if int(use.sum()) < 10:
            raise InputError(mask_source, "the mesh at this pose covers fewer than 10 mask pixels")
        # a black, flat or saturated photo there says nothing about the light
        check_shading(img_t.numpy(), use.numpy(), source=photo_source)
        use = _thin(use, MAX_FIT_PIXELS)
        normals = pixel_normals(mesh, fcam, frags, smooth=smooth).detach()
        return _framed_light_fit(mesh, fcam, frags, normals, img_t, use, init, shadows=shadows,
                                 smooth=smooth, stage=stage, report=report, frames=frames,
                                 supersample=ss, visibility=visibility,
                                 where=_fine(use, ss))[0]

    res = light_fit("light")
    light = res.light
    losses = {"light_loss": res.loss, "light_rmse": res.rmse,
              "inlier_fraction": res.inlier_fraction}
    if fit_pose:
        report("pose", 0, None)
        params = LightParams.from_light(light, img_t.dtype)

        def pose_cb(step: int, c: Any, img: torch.Tensor, parts: dict) -> None:
            report("pose", step, None)
            if step % max(1, steps // MAX_FRAMES) == 0:
                frames.append(_blend(img, img_t))

        pr = _fit_pose(mesh, cam, img_t, mask_t, params, steps=steps, fit_light=True,
                       shading_weight=10.0, smooth=smooth, callback=pose_cb)
        cam = pr["camera"]
        losses.update(pr["losses"])
        light = params.to_light()
        if shadows:  # the pose fit has no shadow model: refit the light at the fitted pose
            res = light_fit("light again", LightParams.from_light(light, img_t.dtype))
            light = res.light
            losses.update({"light_loss": res.loss, "light_rmse": res.rmse,
                           "inlier_fraction": res.inlier_fraction})
    with torch.no_grad():
        frags = rasterize(mesh, cam)
        normals = pixel_normals(mesh, cam, frags, smooth=smooth)
        frames.append(_render_frame(normals, frags.mask, light, img_t))
        d_world = project_light_to_world(torch.from_numpy(light.direction).to(cam.R.dtype),
                                         cam).double().numpy()
    notes = {"albedo": "fixed to 1: intensities are albedo x intensity",
             "shadows": "cast shadows and sky occlusion of the mesh modelled by "
             + ("rays" if visibility == "rays" else "shadow maps")
             if shadows else "no shadow model: only the robust loss",
             "normals": "smooth (vertex)" if smooth else "flat (per face)"}
    return MeshFit(
        light=DirectionalLight(light.direction, light.intensity, light.ambient,
                               notes={"frame": "project (camera: x right, y up, z toward the "
                                               "camera, toward the light)"}),
        light_world=DirectionalLight(d_world, light.intensity, light.ambient,
                                     notes={"frame": "world (the mesh's)"}),
        R=cam.R.detach().double().numpy(), t=cam.t.detach().double().numpy(),
        crop=(x0, y0, w, h), losses=losses, frames=frames,
        render_mask=frags.mask.numpy(), photo=img_t.numpy(), notes=notes)


def _crop_window(crop: tuple[int, int, int, int] | None, W: int, H: int
                 ) -> tuple[int, int, int, int]:
    """(x0, y0, w, h) of the fit's window (the whole image when None), or InputError."""
    x0, y0, w, h = crop if crop else (0, 0, W, H)
    if x0 < 0 or y0 < 0 or w <= 0 or h <= 0 or x0 + w > W or y0 + h > H:
        raise InputError("--crop", f"window {x0} {y0} {w} {h} is not inside the {W}x{H} image")
    return x0, y0, w, h


def _framed_light_fit(mesh: Any, cam: Any, frags: Any, normals: Any, img_t: Any, use: Any,
                      init: Any, *, shadows: bool, smooth: bool, stage: str,
                      report: Progress, frames: list[np.ndarray],
                      nonneg: bool = False, supersample: int = 1,
                      visibility: str = "shadow_map", where: Any = None
                      ) -> tuple[Any, dict[str, Any]]:
    """The light fit at one pose (one mesh, or a scene's merged mesh), with the mesh's
    visibility when ``shadows``; every 10th evaluation becomes a frame (up to
    MAX_FRAMES per stage). Returns the fit and the visibility it used. With
    ``supersample`` s > 1, ``cam``, ``frags`` and ``normals`` are s times finer than
    ``img_t`` and ``use`` (see :func:`lambertian.fit.light.fit_light`); ``where`` (fine
    grid) limits the visibility to the samples the fit uses."""
    from lambertian.fit.light import LightParams, fit_light, mesh_visibility

    vis: dict[str, Any] = {}
    if shadows:
        # NMR's model has neither cast shadows nor occlusion of the ambient light; on
        # a non-convex mesh (a car's wheels under its body) both bias a plain fit
        report("shadows", 0, None)
        va, shadow = mesh_visibility(mesh, cam, frags, smooth=smooth, method=visibility,
                                     where=where)
        vis = {"ambient_visibility": va.to(img_t.dtype), "shadow": shadow}
    report(stage, 0, None)
    stage_frames = [0]

    def cb(step: int, light: LightParams, loss: float) -> None:
        report(stage, step, loss)
        if step % 10 == 0 and stage_frames[0] < MAX_FRAMES:
            stage_frames[0] += 1
            frames.append(_render_frame(normals, frags.mask, light.to_light(), img_t,
                                        supersample))

    return fit_light(normals, img_t, use, init=init, callback=cb, nonneg=nonneg,
                     supersample=supersample, **vis), vis


def _supersampling(supersample: int, w: int, h: int) -> int:
    """Samples per pixel side: ``supersample``, lowered to keep a w x h window's samples
    within :data:`MAX_SAMPLES`."""
    return max(1, min(int(supersample), int((MAX_SAMPLES / (w * h)) ** 0.5)))


def _fine(mask: Any, s: int) -> Any:
    """(s H, s W) bool: each pixel of ``mask`` repeated over its s x s samples."""
    return mask.repeat_interleave(s, 0).repeat_interleave(s, 1)


def _unreliable(mesh: Any, fcam: Any, frags: Any, s: int) -> Any:
    """(H, W) bool pixels any of whose s x s samples sees the back of a face
    (:func:`_back_facing`)."""
    import torch

    back = _back_facing(mesh, fcam, frags).float()
    return torch.nn.functional.max_pool2d(back[None, None], s)[0, 0] > 0


def _thin(mask: Any, most: int) -> Any:
    """``mask`` with at most ``most`` of its pixels kept, evenly spaced in row-major order
    (deterministic: no seed needed)."""
    import torch

    idx = torch.nonzero(mask.reshape(-1)).reshape(-1)
    if idx.numel() <= most:
        return mask
    keep = idx[torch.linspace(0, idx.numel() - 1, most).round().long()]
    out = torch.zeros(mask.numel(), dtype=torch.bool)
    out[keep] = True
    return out.reshape(mask.shape)


def _erode(mask: Any) -> Any:
    """3x3 erosion: pixels at the silhouette's edge mix object and background."""
    import torch.nn.functional as F

    m = mask[None, None].float()
    return (-F.max_pool2d(-m, 3, stride=1, padding=1))[0, 0] > 0.5


def _render_frame(normals: Any, mask: Any, light: DirectionalLight, photo: Any,
                  supersample: int = 1) -> np.ndarray:
    """(h, 2w) photo | shaded render at ``light`` (``normals``, ``mask`` ``supersample``
    times finer than the photo: pixel means)."""
    import torch

    from lambertian.fit.light import pool_samples
    from lambertian.render.shade import shade

    d = torch.as_tensor(light.direction, dtype=normals.dtype).reshape(1, 3)
    with torch.no_grad():
        img = shade(normals.detach(), mask, d, light.intensity, light.ambient)[..., 0]
    return _blend(pool_samples(img, supersample), photo)


def _rasterize_samples(mesh: Any, cam: Any, s: int) -> tuple[Any, Any, Any]:
    """The window rasterised at its pixels and at their s x s samples: (pixel fragments,
    the sample camera, sample fragments); at s = 1 both are the one rasterisation."""
    from lambertian.render.rasterize import rasterize

    coarse = rasterize(mesh, cam)
    fcam = _fine_camera(cam, s)
    return coarse, fcam, (rasterize(mesh, fcam) if s > 1 else coarse)


def _fine_camera(cam: Any, s: int) -> Any:
    """The camera whose (s h, s w) pixels are the s x s sub-pixels of ``cam``'s window
    (pixel ``u`` covers ``[u - 1/2, u + 1/2)``: ``u' = s (u + 1/2) - 1/2``)."""
    from lambertian.render.camera import Camera

    if s == 1:
        return cam
    K = cam.K_window.detach().clone()
    K[:2] *= s
    K[0, 2] = s * (float(cam.K_window[0, 2]) + 0.5) - 0.5
    K[1, 2] = s * (float(cam.K_window[1, 2]) + 0.5) - 0.5
    return Camera(K, cam.R, cam.t, cam.width * s, cam.height * s)


def _back_facing(mesh: Any, cam: Any, frags: Any) -> Any:
    """(H, W) bool: the visible face's own (geometric) normal points away from the camera.

    A renderer sees the back of a face where a mesh is not closed and consistently
    oriented (ApolloCar3D's car meshes are triangle soups, some panels two faces thick:
    coincident twins of opposite winding, which a z-buffer resolves arbitrarily). A
    one-sided renderer draws such a pixel black (or the twin's front), a two-sided one
    lit with the flipped normal: the pixel's shading is not determined by the mesh."""
    import torch

    from lambertian.render.mesh import face_normals
    from lambertian.render.shadows import surface_points

    with torch.no_grad():
        m = frags.mask
        n = face_normals(mesh.face_vertices().detach())[frags.face.clamp_min(0)]
        X = cam.to_camera(surface_points(mesh, frags).reshape(-1, 3)).reshape(n.shape)
        n_cam = n @ cam.R.detach().to(n.dtype).T
        return m & ((n_cam * X.to(n.dtype)).sum(-1) > 0)


def _blend(img: Any, photo: Any) -> np.ndarray:
    a = np.clip(photo.detach().numpy(), 0, 1)
    b = np.clip(img.detach().numpy(), 0, 1)
    return np.concatenate([a, b], axis=1)


@dataclass
class ObjectFit:
    """One object of a :class:`SceneFit`.

    name : the object's name (SCENE.json ``name``, else ``object i``).
    R, t : (3, 3), (3,) its (fitted) pose, OpenCV ``X_cam = R X_mesh + t``.
    iou : silhouette IoU of its rendered visible pixels and its mask (None without one).
    residual_rmse : RMS grey residual photo - render of the joint light on its pixels.
    pixels : number of its pixels the light fit used.
    light_alone : the light fitted to this object's pixels alone (the others still
        occlude and shadow it), camera project frame; None for a one-object scene.
    """

    name: str
    R: np.ndarray
    t: np.ndarray
    iou: float | None
    residual_rmse: float
    pixels: int
    light_alone: DirectionalLight | None = None


@dataclass
class SceneFit:
    """Result of :func:`fit_scene_light`: the shared ``light`` (camera project frame),
    one :class:`ObjectFit` per object, the fitted ``crop`` (x0, y0, w, h), ``losses`` of
    the joint fit, animation ``frames`` (h, 2w), ``owner`` (h, w) int index of the object
    each pixel sees (-1 background), the fitted window of the ``photo`` and ``notes``."""

    light: DirectionalLight
    objects: list[ObjectFit]
    crop: tuple[int, int, int, int]
    losses: dict[str, float]
    frames: list[np.ndarray] = field(default_factory=list)
    owner: np.ndarray | None = None
    photo: np.ndarray | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def render_mask(self) -> np.ndarray | None:
        """(h, w) bool pixels any object covers."""
        return None if self.owner is None else self.owner >= 0


def load_scene(path: str | os.PathLike[str], shape: tuple[int, int], *,
               entries: list[Any] | None = None) -> list[Any]:
    """The objects of a SCENE.json (:mod:`lambertian.io.scene_json`) with their meshes and
    masks read (masks checked against the photo's ``shape`` (H, W)): a list of
    :class:`lambertian.fit.scene.SceneObject`. ``entries``: the JSON's
    :class:`lambertian.io.scene_json.SceneEntry` list when already read (the command
    reads it first, to check its files against the outputs)."""
    from lambertian.fit.scene import SceneObject
    from lambertian.io import read_mask
    from lambertian.io.scene_json import read_scene
    from lambertian.render.mesh import load_mesh

    return [SceneObject(load_mesh(e.mesh), e.R, e.t,
                        None if e.mask is None else read_mask(e.mask, shape), e.name,
                        source=f"{os.fspath(path)}: {e.name}")
            for e in (read_scene(path) if entries is None else entries)]


def fit_scene_light(objects: list[Any], photo: np.ndarray, K: np.ndarray, *,
                    mask: np.ndarray | None = None,
                    crop: tuple[int, int, int, int] | None = None, fit_pose: bool = False,
                    smooth: bool = False, shadows: bool = True, steps: int = 150,
                    each_alone: bool = True, progress: Progress | None = None,
                    nonneg: bool = True, min_grey: float = 0.0, supersample: int = 4,
                    visibility: str = "rays", drop_back_facing: bool = True,
                    photo_source: str = "photo") -> SceneFit:
    """Fit one ``I = l_a + l_d max(0, n_d . n)`` (albedo 1) to several known objects.

    The objects are rendered together (:mod:`lambertian.fit.scene`), so they occlude each
    other, and the shadow maps and sky visibility cover the whole scene: the objects
    shadow each other in the model. Each object's pixels are its rendered visible
    pixels, inside its own mask (else inside ``mask``), away from edges.

    Parameters
    ----------
    objects : :class:`lambertian.fit.scene.SceneObject` list (mesh, pose, optional mask).
    photo : (H, W) linear grey photograph.
    K : (3, 3) intrinsics, OpenCV convention (pixels), of the full photo.
    mask : optional (H, W) bool pixels of all objects (for objects without their own).
    crop : optional (x0, y0, w, h) window of the photo to fit.
    fit_pose : fit each object's pose (silhouette of its own mask, continued behind the
        objects that hide it, + shading at the joint light,
        :func:`lambertian.fit.pose.fit_pose`), then the light again; objects without a
        mask of their own keep their pose, and so does an object whose refined
        silhouette fits that mask worse (IoU lower by more than 0.005).
    smooth, shadows, steps, progress : as in :func:`fit_mesh_light`.
    each_alone : also fit the light of each object alone (the figures to compare with).
    nonneg : keep the ambient and directional intensities >= 0 (a light adds radiance;
        see :func:`lambertian.fit.light.fit_light`).
    min_grey : pixels of the (linear) photo darker than this are left out of the light
        fits (not of the silhouettes): surfaces far darker than any lit paint, such as
        dark glass, tyres, or a black railing in front, are not the albedo-1 surface the
        model assumes. 0 keeps every pixel.
    supersample : s: the model renders s x s samples per pixel and compares their mean
        with the photo's pixel (a camera, or a renderer's pixel filter, integrates over
        the pixel's area; a car mesh has faces smaller than a pixel, whose flat normals
        and shadows one sample at the pixel's centre misrepresents). Pixels are used only
        when all their samples see the object. Lowered to keep the window's samples
        within :data:`MAX_SAMPLES`; each object's pixels are thinned to
        :data:`MAX_FIT_PIXELS` (see there).
    visibility : ``"rays"`` (exact cast shadows and sky visibility,
        :func:`lambertian.render.shadows.ray_visibility`) or ``"shadow_map"`` (texel
        sampled with a depth bias: misses thin occluders, leaks light).
    drop_back_facing : leave out of the light fits the pixels where any sample sees the
        back of a face (its geometric normal pointing away from the camera): one-sided and
        two-sided renderers, and twin faces, disagree there (see ``docs/scenes.md``).
    photo_source : the photo's name for error messages (its file).

    Returns
    -------
    SceneFit, its ``light`` in the camera's project frame (x right, y up, z toward the
    camera, toward the light).

    Raises
    ------
    InputError : no objects, a mask of another size than the photo, an object behind the
        camera, a window outside the image, an object covering fewer than 10 pixels.
    """
    import torch

    from lambertian.fit.light import LightParams, fit_light, pool_samples, shading_residual
    from lambertian.fit.pose import fit_pose as _fit_pose
    from lambertian.fit.scene import merge_objects, pixel_owner, silhouette_iou
    from lambertian.render.camera import Camera
    from lambertian.render.rasterize import rasterize
    from lambertian.render.shade import pixel_normals

    if not objects:
        raise InputError("scene", "no objects to fit")
    objects = [replace(o) for o in objects]  # poses are refitted on copies, not the caller's
    report = progress or (lambda stage, step, loss: None)
    H, W = photo.shape
    for o in objects:
        if o.mask is not None and o.mask.shape != (H, W):
            raise InputError(o.who, f"mask is {o.mask.shape[1]}x{o.mask.shape[0]} but the "
                                     f"photo is {W}x{H}")
    if mask is not None and mask.shape != (H, W):
        raise InputError("mask", f"mask is {mask.shape[1]}x{mask.shape[0]} but the photo is "
                                 f"{W}x{H}")
    x0, y0, w, h = _crop_window(crop, W, H)
    img_t = torch.from_numpy(np.ascontiguousarray(photo[y0:y0 + h, x0:x0 + w], np.float32))

    def window(m: np.ndarray | None) -> Any:
        return None if m is None else torch.from_numpy(
            np.ascontiguousarray(m[y0:y0 + h, x0:x0 + w], bool))

    observed = [window(o.mask if o.mask is not None else mask) for o in objects]
    frames: list[np.ndarray] = []

    ss = _supersampling(supersample, w, h)

    def scene_fit(stage: str, init: LightParams | None = None) -> dict[str, Any]:
        merged, owner = merge_objects(objects)
        cam = Camera.create(K, np.eye(3), np.zeros(3), W, H).crop(x0, y0, w, h)
        coarse, fcam, frags = _rasterize_samples(merged, cam, ss)
        pown = pixel_owner(coarse.face, owner)
        fown = pixel_owner(frags.face, owner)
        unreliable = (_unreliable(merged, fcam, frags, ss) if drop_back_facing
                      else torch.zeros(h, w, dtype=torch.bool))
        use = []
        for i, o in enumerate(objects):
            u = _erode(pown == i)  # edges mix two objects, or object and background
            # every sample of the pixel on this object (and none on a back face)
            u = u & (pool_samples((fown == i).float(), ss) > 1 - 1e-6) & ~unreliable
            if observed[i] is not None:
                u = u & _erode(observed[i])
            if min_grey > 0:
                u = u & (img_t >= min_grey)
            if int(u.sum()) < 10:
                raise InputError(o.who, "the object at its pose covers fewer than 10 (mask) "
                                         "pixels of the window")
            use.append(_thin(u, MAX_FIT_PIXELS))
        fit_px = torch.stack(use).any(0)
        # a black, flat or saturated photo there says nothing about the light
        check_shading(img_t.numpy(), fit_px.numpy(), source=photo_source)
        normals = pixel_normals(merged, fcam, frags, smooth=smooth).detach()
        # the whole scene casts shadows and occludes the sky
        joint, vis = _framed_light_fit(merged, fcam, frags, normals, img_t, fit_px, init,
                                       shadows=shadows, smooth=smooth, stage=stage,
                                       report=report, frames=frames, nonneg=nonneg,
                                       supersample=ss, visibility=visibility,
                                       where=_fine(fit_px, ss))
        return {"joint": joint, "use": use, "normals": normals, "vis": vis, "pown": pown,
                "frags": frags}

    fit = scene_fit("light")
    if fit_pose:
        light = fit["joint"].light
        for i, o in enumerate(objects):
            if o.mask is None and not (mask is not None and len(objects) == 1):
                continue
            report("pose", 0, None)
            cam_i = Camera.create(K, o.R, o.t, W, H).crop(x0, y0, w, h)
            # the pose fit renders this object alone: where another object hides it (at
            # the current poses) its silhouette continues behind the other one
            with torch.no_grad():
                hidden = rasterize(o.mesh, cam_i).mask & (fit["pown"] >= 0) & (fit["pown"] != i)
            target = observed[i] | hidden
            pr = _fit_pose(o.mesh, cam_i, img_t, target,
                           LightParams.from_light(light, img_t.dtype), steps=steps,
                           shading_weight=10.0, smooth=smooth)
            R_new = pr["R"].detach().double().numpy()
            t_new = pr["t"].detach().double().numpy()
            # the shading term pulls with the light of the first fit, which may be wrong
            # (a car partly hidden has few pixels to hold it): the refined pose is kept
            # only where its silhouette fits the mask at least as well as before
            with torch.no_grad():
                before = rasterize(o.mesh, cam_i).mask.numpy()
                after = rasterize(o.mesh, Camera.create(K, R_new, t_new, W, H)
                                  .crop(x0, y0, w, h)).mask.numpy()
            tgt = target.numpy()
            if silhouette_iou(after, tgt) >= silhouette_iou(before, tgt) - 0.005:
                o.R, o.t = R_new, t_new
        fit = scene_fit("light again", LightParams.from_light(light, img_t.dtype))
    joint = fit["joint"]
    va = fit["vis"].get("ambient_visibility")
    lv = fit["vis"]["shadow"](torch.from_numpy(joint.light.direction).to(img_t.dtype)) \
        if shadows else None
    params = LightParams.from_light(joint.light, img_t.dtype)
    results = []
    for i, o in enumerate(objects):
        with torch.no_grad():
            r = shading_residual(params, fit["normals"], img_t, fit["use"][i],
                                 ambient_visibility=va, light_visibility=lv,
                                 supersample=ss)
        alone = None
        if each_alone and len(objects) > 1:
            report(f"object {i} alone", 0, None)
            alone = fit_light(fit["normals"], img_t, fit["use"][i], nonneg=nonneg,
                              supersample=ss, **fit["vis"]).light
        region = (fit["pown"] == i).numpy()
        iou = None if observed[i] is None else silhouette_iou(region, observed[i].numpy())
        results.append(ObjectFit(o.name, np.asarray(o.R, np.float64), np.asarray(o.t, np.float64),
                                 iou, float(torch.sqrt((r ** 2).mean())),
                                 int(fit["use"][i].sum()), alone))
    with torch.no_grad():
        frames.append(_render_frame(fit["normals"], fit["frags"].mask, joint.light, img_t,
                                    ss))
    notes = {"albedo": "fixed to 1: intensities are albedo x intensity",
             "shadows": "the objects' cast shadows (on themselves and each other) and sky "
                        "occlusion modelled by "
                        + ("rays" if visibility == "rays" else "shadow maps")
                        + " through the whole scene"
             if shadows else "no shadow model: only the robust loss",
             "normals": "smooth (vertex)" if smooth else "flat (per face)"}
    if joint.light.intensity < 0 or joint.light.ambient < 0:
        # the parameters are unconstrained: a negative intensity says the model (albedo 1,
        # these poses) does not explain the pixels, not that the light is dark
        notes["warning"] = (f"unphysical light (directional {joint.light.intensity:.3g}, "
                            f"ambient {joint.light.ambient:.3g}): check the poses, the "
                            "masks and that the photo is linear")
    light = DirectionalLight(joint.light.direction, joint.light.intensity, joint.light.ambient,
                             notes={"frame": "project (camera: x right, y up, z toward the "
                                             "camera, toward the light)"})
    return SceneFit(light, results, (x0, y0, w, h),
                    {"light_loss": joint.loss, "light_rmse": joint.rmse,
                     "inlier_fraction": joint.inlier_fraction},
                    frames, fit["pown"].numpy(), img_t.numpy(), notes)


def scene_fit_json(res: SceneFit) -> dict[str, Any]:
    """The fit.json of a scene: the shared ``light`` and one entry per object."""
    from lambertian.io.light_json import light_to_json

    return {"light": light_to_json(res.light),
            "objects": [{"name": o.name,
                         "pose": {"R": o.R.tolist(), "t": o.t.tolist(),
                                  "convention": "OpenCV X_cam = R X_mesh + t"},
                         "silhouette_iou": o.iou, "grey_residual_rmse": o.residual_rmse,
                         "pixels": o.pixels,
                         "light_alone": None if o.light_alone is None
                         else light_to_json(o.light_alone)} for o in res.objects],
            "crop": list(res.crop), "losses": res.losses, "note": res.notes["albedo"],
            "shadows": res.notes["shadows"], "normals": res.notes["normals"],
            "warnings": [res.notes["warning"]] if "warning" in res.notes else []}
