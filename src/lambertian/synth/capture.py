"""A synthetic photometric-stereo capture with ground truth: the demo's default input.

A bumpy height field (a broad dome and Gaussian bumps) with a patchy RGB albedo, inside
a disc mask, lit by distant lights from the upper hemisphere. Images follow the
project's model with attached shadows (``max(0, n . l)``), plus cast shadows traced
through the height field, per-channel light intensities and Gaussian noise, so both the
least-squares and the robust solver have something to show. Orthographic camera,
project frame (x right, y up, z toward the camera; row r -> y = -r).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import map_coordinates

from lambertian.core.shading import render_lambertian


@dataclass
class SyntheticCapture:
    """Everything a reader would load, plus the noise-free truth.

    images : (K, H, W, 3) float32 in [0, 1] (noisy, as written).
    lights : (K, 3) unit directions; intensities : (K, 3) per channel.
    normals : (H, W, 3) ground truth, zeros outside ``mask``; albedo : (H, W, 3).
    height : (H, W) height field in pixels; cast_shadow : (K, H, W) bool.
    """

    images: np.ndarray
    lights: np.ndarray
    intensities: np.ndarray
    normals: np.ndarray
    albedo: np.ndarray
    mask: np.ndarray
    height: np.ndarray
    cast_shadow: np.ndarray


def bump_height(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Height (pixels) and its analytic derivatives along columns and rows."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    c = (size - 1) / 2.0
    # The broad dome, then smaller bumps that cast shadows on it and on each other.
    centres = [(c, c, 0.30 * size, 0.22 * size)]
    for _ in range(7):
        r, q = rng.uniform(0.22, 0.78, size=2) * size
        centres.append((r, q, rng.uniform(0.05, 0.10) * size, rng.uniform(0.06, 0.14) * size))
    h = np.zeros((size, size))
    dh_dc = np.zeros_like(h)
    dh_dr = np.zeros_like(h)
    for r0, c0, s, a in centres:
        g = a * np.exp(-((rows - r0) ** 2 + (cols - c0) ** 2) / (2 * s * s))
        h += g
        dh_dc += -g * (cols - c0) / (s * s)
        dh_dr += -g * (rows - r0) / (s * s)
    return h, dh_dc, dh_dr


def patchy_albedo(size: int, rng: np.random.Generator, patches: int = 9) -> np.ndarray:
    """Voronoi patches of random colours: piecewise-constant RGB albedo in [0.2, 0.9]."""
    seeds = rng.uniform(0, size, size=(patches, 2))
    colours = rng.uniform(0.2, 0.9, size=(patches, 3))
    rows, cols = np.mgrid[0:size, 0:size]
    d = (rows[..., None] - seeds[:, 0]) ** 2 + (cols[..., None] - seeds[:, 1]) ** 2
    return colours[np.argmin(d, axis=-1)]


def upper_hemisphere_lights(num: int, rng: np.random.Generator,
                            min_z: float = 0.3, max_z: float = 0.97) -> np.ndarray:
    """(num, 3) unit light directions with ``min_z <= l_z <= max_z``, azimuths spread
    evenly (golden angle) so every capture has well-conditioned lights."""
    z = rng.uniform(min_z, max_z, size=num)
    phi = np.arange(num) * np.pi * (3.0 - np.sqrt(5.0)) + rng.uniform(0, 2 * np.pi)
    s = np.sqrt(1 - z * z)
    return np.stack([s * np.cos(phi), s * np.sin(phi), z], axis=1)


def cast_shadows(height: np.ndarray, lights: np.ndarray, eps: float = 0.05) -> np.ndarray:
    """(K, H, W) bool: True where the height field blocks the path to the light.

    Marches from every pixel toward each light one pixel at a time, stopping once the
    ray is above the highest point; a pixel is shadowed if the surface rises above the
    ray anywhere on the way (bilinear heights, orthographic, distant lights).
    """
    hgt, wid = height.shape
    rows, cols = np.mgrid[0:hgt, 0:wid].astype(np.float64)
    span = float(height.max() - height.min())
    out = np.zeros((len(lights), hgt, wid), dtype=bool)
    for k, (lx, ly, lz) in enumerate(lights):
        horiz = np.hypot(lx, ly)
        if horiz < 1e-6:
            continue  # light at the zenith casts no shadow on a height field
        slope = lz / horiz  # ray rise per pixel of horizontal travel
        dc, dr = lx / horiz, -ly / horiz  # image rows grow downward
        shadow = np.zeros((hgt, wid), dtype=bool)
        for t in range(1, int(np.ceil(span / max(slope, 1e-3))) + 2):
            r, c = rows + t * dr, cols + t * dc
            inside = (r >= 0) & (r <= hgt - 1) & (c >= 0) & (c <= wid - 1)
            if not inside.any():
                break
            hs = map_coordinates(height, [r, c], order=1, mode="nearest")
            shadow |= inside & (hs > height + t * slope + eps)
        out[k] = shadow
    return out


def disc_normals(dh_dc: np.ndarray, dh_dr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (H, W, 3), project frame, of a height field given its derivatives along
    columns and rows, zero outside the centred disc every generated capture shows; and
    that disc (H, W) bool."""
    # x = column, y = -row: n ~ (-dh/dx, -dh/dy, 1) = (-dh/dcol, +dh/drow, 1).
    n = np.stack([-dh_dc, dh_dr, np.ones_like(dh_dc)], axis=-1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    size = dh_dc.shape[0]
    rows, cols = np.mgrid[0:size, 0:size]
    c = (size - 1) / 2.0
    mask = (rows - c) ** 2 + (cols - c) ** 2 <= (0.46 * size) ** 2
    n[~mask] = 0.0
    return n, mask


def make_capture(size: int = 128, num_lights: int = 32, noise: float = 0.002,
                 seed: int = 0) -> SyntheticCapture:
    """Render a synthetic capture (see the module docstring).

    Parameters
    ----------
    size : image height and width in pixels.
    num_lights : number of images K.
    noise : standard deviation of the additive Gaussian noise (images in [0, 1]).
    seed : every random choice (shape, albedo, lights, intensities, noise) follows it.
    """
    rng = np.random.default_rng(seed)
    h, dh_dc, dh_dr = bump_height(size, rng)
    n, mask = disc_normals(dh_dc, dh_dr)
    albedo = patchy_albedo(size, rng) * mask[..., None]
    lights = upper_hemisphere_lights(num_lights, rng)
    intensities = rng.uniform(0.7, 1.0, size=(num_lights, 3))
    shadow = cast_shadows(h, lights) & mask
    img = render_lambertian(n, albedo, lights, intensities).numpy()
    img[shadow] = 0.0
    img = img + rng.normal(0.0, noise, size=img.shape) * mask[..., None]
    img = np.clip(img, 0.0, 1.0).astype(np.float32)
    return SyntheticCapture(img, lights, intensities, n, albedo, mask, h, shadow)


def write_capture(folder: str | Path, cap: SyntheticCapture, overwrite: bool = False) -> Path:
    """Write ``cap`` in the DiLiGenT layout (16-bit PNGs, light files, mask, Normal_gt.mat)
    so every reader and command can load it like real data."""
    from lambertian.io import write_diligent

    return write_diligent(folder, cap.images, cap.lights, cap.intensities, cap.mask,
                          normals=cap.normals, bit_depth=16, overwrite=overwrite)


def write_camera_folder(folder: str | Path, cap: SyntheticCapture, kind: str = "png16",
                        mask: bool = True) -> Path:
    """Write ``cap`` as a generic capture folder (``lights.txt``, ``intensities.txt``,
    ``mask.png`` unless ``mask`` is False, ``000.png`` ...), as a camera would: ``kind``
    ``"png16"`` linear 16-bit PNGs, ``"jpeg"`` 8-bit sRGB JPEGs written by OpenCV
    (quality 95, 4:4:4 chroma). The folder must not exist yet."""
    import cv2

    from lambertian.io.camera_files import linear_to_srgb

    out = Path(folder)
    out.mkdir()
    np.savetxt(out / "lights.txt", cap.lights)
    np.savetxt(out / "intensities.txt", cap.intensities)
    if mask:
        cv2.imwrite(str(out / "mask.png"), cap.mask.astype(np.uint8) * 255)
    for k, img in enumerate(cap.images):
        bgr = np.clip(img[..., ::-1], 0, 1)
        if kind == "png16":
            cv2.imwrite(str(out / f"{k:03d}.png"), np.rint(bgr * 65535).astype(np.uint16))
        else:
            code = np.rint(linear_to_srgb(bgr) * 255).astype(np.uint8)
            cv2.imwrite(str(out / f"{k:03d}.jpg"), code,
                        [cv2.IMWRITE_JPEG_QUALITY, 95,
                         cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
    return out
