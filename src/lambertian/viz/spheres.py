"""Figures and the training GIF of the Deep Lambertian spheres experiment (Agg backend).

The five static figures follow the seed: training curves, data-set montage, albedo
recovery, normal recovery with per-pixel error, per-light reconstruction. Normal maps
are shown as RGB ``((n_x + 1) / 2, (n_y + 1) / 2, n_z)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from lambertian.core.metrics import angular_error_deg  # noqa: E402
from lambertian.learn.dln_models import decode  # noqa: E402
from lambertian.synth.spheres import SphereSet  # noqa: E402


def to_maps(values: torch.Tensor | np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(S, P, C) silhouette values -> (S, H, W, C) maps, zeros outside ``mask``."""
    v = values.detach().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    out = np.zeros((v.shape[0], *mask.shape, v.shape[-1]), np.float32)
    out[:, mask] = v
    return out


def normal_rgb(n: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rgb = np.stack([(n[..., 0] + 1) / 2, (n[..., 1] + 1) / 2, n[..., 2]], -1)
    return np.clip(rgb * mask[..., None], 0, 1)


def _save(fig: plt.Figure, path: Path, dpi: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def training_curves(history: list[dict], path: Path, final: dict | None = None) -> Path:
    """Per-epoch curves; ``final`` (metrics after prior inference) drawn as dashed lines."""
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.2))
    ax[0].semilogy(ep, [h["train_recon_mse"] for h in history], label="train")
    ax[0].semilogy(ep, [h["recon_mse"] for h in history], label="test")
    ax[0].set_title("reconstruction MSE")
    ax[0].legend()
    ax[1].plot(ep, [h["normal_angular_error_deg_mean"] for h in history], label="mean")
    ax[1].plot(ep, [h["normal_angular_error_deg_median"] for h in history], label="median")
    ax[1].set_title("test normal error (deg)")
    ax[1].legend()
    ax[2].plot(ep, [h["albedo_mse"] for h in history])
    ax[2].set_title("test albedo MSE")
    if final is not None:
        for a, key in ((ax[0], "recon_mse"), (ax[1], "normal_angular_error_deg_mean"),
                       (ax[2], "albedo_mse")):
            a.axhline(final[key], color="k", ls="--", lw=1, label="after prior inference")
        ax[1].legend()
    for a in ax:
        a.set_xlabel("epoch")
    return _save(fig, path)


def dataset_montage(data: SphereSet, path: Path, rows: int = 6) -> Path:
    rows = min(rows, data.n_spheres)
    k = data.n_lights
    fig, ax = plt.subplots(rows, k, figsize=(1.3 * k, 1.3 * rows), squeeze=False)
    for s in range(rows):
        for j in range(k):
            ax[s, j].imshow(np.clip(data.images[s, j], 0, 1))
            ax[s, j].axis("off")
    fig.suptitle("training spheres (rows) under their lights (columns)")
    return _save(fig, path)


def albedo_recovery(albedo: torch.Tensor, data: SphereSet, path: Path, n: int = 8) -> Path:
    n = min(n, data.n_spheres)
    pred = albedo.detach().numpy().mean(axis=1)
    fig, ax = plt.subplots(2, n, figsize=(1.3 * n, 3), squeeze=False)
    for s in range(n):
        ax[0, s].imshow(np.ones((8, 8, 3)) * data.albedo[s])
        ax[1, s].imshow(np.ones((8, 8, 3)) * np.clip(pred[s], 0, 1))
        ax[1, s].set_xlabel(f"L2 {np.linalg.norm(pred[s] - data.albedo[s]):.3f}", fontsize=8)
        for r in range(2):
            ax[r, s].set_xticks([])
            ax[r, s].set_yticks([])
    ax[0, 0].set_ylabel("truth")
    ax[1, 0].set_ylabel("recovered")
    return _save(fig, path)


def normal_recovery(normals: torch.Tensor, data: SphereSet, path: Path, n: int = 4) -> Path:
    n = min(n, data.n_spheres)
    maps = to_maps(normals, data.mask)
    fig, ax = plt.subplots(n, 3, figsize=(7.5, 2.4 * n), squeeze=False)
    for s in range(n):
        err = np.zeros(data.mask.shape)
        err[data.mask] = angular_error_deg(maps[s][data.mask], data.normals[data.mask])
        ax[s, 0].imshow(normal_rgb(data.normals, data.mask))
        ax[s, 1].imshow(normal_rgb(maps[s], data.mask))
        im = ax[s, 2].imshow(err, cmap="magma", vmin=0, vmax=45)
        fig.colorbar(im, ax=ax[s, 2], fraction=0.046)
        ax[s, 2].set_title(f"mean {err[data.mask].mean():.1f} deg", fontsize=9)
        for a in ax[s]:
            a.axis("off")
    ax[0, 0].set_title("truth")
    ax[0, 1].set_title("recovered")
    return _save(fig, path)


def per_light_reconstruction(albedo: torch.Tensor, normals: torch.Tensor, data: SphereSet,
                             path: Path, sphere: int = 0) -> Path:
    k = data.n_lights
    with torch.no_grad():
        rec = decode(albedo[sphere:sphere + 1], normals[sphere:sphere + 1],
                     torch.from_numpy(data.lights[sphere:sphere + 1]))[0]  # (K, P, 3)
    rec_maps = to_maps(rec, data.mask)
    fig, ax = plt.subplots(3, k, figsize=(1.4 * k, 4.4), squeeze=False)
    for j in range(k):
        obs = data.images[sphere, j]
        ax[0, j].imshow(np.clip(obs, 0, 1))
        ax[1, j].imshow(np.clip(rec_maps[j], 0, 1))
        ax[2, j].imshow(np.abs(rec_maps[j] - obs * data.mask[..., None]).mean(-1),
                        cmap="magma", vmin=0, vmax=0.2)
        for r in range(3):
            ax[r, j].axis("off")
    ax[0, 0].set_title("input", fontsize=9, loc="left")
    ax[1, 0].set_title("re-render", fontsize=9, loc="left")
    ax[2, 0].set_title("|residual|", fontsize=9, loc="left")
    return _save(fig, path)


def draw_all(res: dict[str, Any], train: SphereSet, test: SphereSet, outdir: Path
             ) -> list[Path]:
    """The five figures of a run from :func:`lambertian.learn.dln_spheres.run_spheres`."""
    outdir = Path(outdir)
    final = res["final_test"] if "prior" in res else None
    return [training_curves(res["history"], outdir / "training_curves.png", final),
            dataset_montage(train, outdir / "dataset_examples.png"),
            albedo_recovery(res["albedo"], test, outdir / "albedo_recovery.png"),
            normal_recovery(res["normals"], test, outdir / "normal_recovery.png"),
            per_light_reconstruction(res["albedo"], res["normals"], test,
                                     outdir / "per_light_reconstruction.png")]


class TrainingAnimation:
    """Collects recovered normal maps during training and writes them as a GIF."""

    def __init__(self, data: SphereSet, n: int = 4) -> None:
        self.data, self.n = data, min(n, data.n_spheres)
        self.frames: list[tuple[int, np.ndarray, float]] = []

    def add(self, epoch: int, albedo: torch.Tensor, normals: torch.Tensor) -> None:
        maps = to_maps(normals[: self.n], self.data.mask)
        err = angular_error_deg(normals.detach().numpy(),
                                np.broadcast_to(self.data.normals[self.data.mask],
                                                normals.shape)).mean()
        self.frames.append((epoch, maps, float(err)))

    def save(self, path: str | Path, fps: int = 10, dpi: int = 75) -> Path:
        from matplotlib.animation import FuncAnimation, PillowWriter

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(1, self.n + 1, figsize=(1.6 * (self.n + 1), 2.0))
        ax[0].imshow(normal_rgb(self.data.normals, self.data.mask))
        ax[0].set_title("truth", fontsize=8)
        ims = [ax[i + 1].imshow(np.zeros((*self.data.mask.shape, 3))) for i in range(self.n)]
        for a in ax:
            a.axis("off")
        title = fig.suptitle("")

        def frame(i: int):
            epoch, maps, err = self.frames[i]
            for j, im in enumerate(ims):
                im.set_data(normal_rgb(maps[j], self.data.mask))
            label = "final" if epoch < 0 else f"epoch {epoch}"
            title.set_text(f"{label}: mean normal error {err:.1f} deg")
            return [*ims, title]

        anim = FuncAnimation(fig, frame, frames=len(self.frames), blit=False)
        anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
        plt.close(fig)
        return path


def sweep_plot(rows: list[dict], path: Path) -> Path:
    """Mean normal error against the number of lights, one line per noise level."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    sigmas = sorted({r["sigma"] for r in rows})
    for i, s in enumerate(sigmas):
        rs = sorted((r for r in rows if r["sigma"] == s), key=lambda r: r["n_lights"])
        ks = [r["n_lights"] for r in rs]
        c = f"C{i}"
        ax.plot(ks, [r["model_mean"] for r in rs], "o-", color=c, label=f"model, sigma {s:g}")
        ax.plot(ks, [r["shadow_aware_mean"] for r in rs], "s--", color=c, alpha=0.6,
                label=f"shadow-aware, sigma {s:g}")
    ax.set_xlabel("lights per sphere")
    ax.set_ylabel("mean normal error (deg)")
    ax.legend(fontsize=7)
    return _save(fig, Path(path))
