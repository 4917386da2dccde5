"""Pictures written by ``lambertian fit``: an overlay PNG and a small optimisation GIF."""

from __future__ import annotations

import os

import numpy as np


def _u8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_overlay(path: str | os.PathLike[str], photo: np.ndarray, frame: np.ndarray,
                 mask: np.ndarray) -> None:
    """Photo (H, W) in grey with the fitted mesh's outline in green, beside the
    photo | render pair ``frame`` (H, 2W)."""
    import cv2

    grey = _u8(photo)
    rgb = np.stack([grey] * 3, axis=-1)
    edge = mask & ~cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    rgb[edge] = (0, 255, 0)
    pair = np.stack([_u8(frame)] * 3, axis=-1)
    img = np.concatenate([rgb, pair], axis=1)
    cv2.imwrite(os.fspath(path), img[..., ::-1])


def save_gif(path: str | os.PathLike[str], frames: list[np.ndarray], max_width: int = 480,
             max_bytes: int = 2_000_000) -> None:
    """Grey frames (H, W) in [0, 1] as an animated GIF, downscaled (and thinned) until
    the file is under ``max_bytes``."""
    import cv2
    from PIL import Image

    width = max_width
    step = 1
    while True:
        sel = frames[::step] + ([frames[-1]] if (len(frames) - 1) % step else [])
        ims = []
        for f in sel:
            s = min(1.0, width / f.shape[1])
            g = cv2.resize(_u8(f), (max(1, int(f.shape[1] * s)), max(1, int(f.shape[0] * s))),
                           interpolation=cv2.INTER_AREA)
            ims.append(Image.fromarray(g))
        ims[0].save(os.fspath(path), save_all=True, append_images=ims[1:], duration=120, loop=0)
        if os.path.getsize(path) < max_bytes or width < 64:
            return
        width //= 2
        step *= 2
