"""Train a single-image light model: ``objects`` (a CNN on the seeded synthetic corpus,
also the faces' pretrained backbone) or ``faces`` (an ensemble of that backbone
fine-tuned on Yale B subjects 01-22, scored on 23-28).

The face recipe is :data:`lambertian.learn.train_light.FACE_RECIPE`; this module is the
one place that runs it (``lambertian train-light`` and the experiments call it), so the
shipped weights come from the same steps whoever trains them.

References: S. Prokudin, P. Gehler, S. Nowozin, "Deep Directional Statistics", ECCV 2018
(vMF loss); B. Lakshminarayanan et al., "Simple and scalable predictive uncertainty
estimation using deep ensembles", NeurIPS 2017.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambertian.core.errors import InputError

KINDS = ("faces", "objects")


@dataclass
class TrainedLightModel:
    """Result of :func:`train_light_model`.

    model : the trained ``torch.nn.Module`` (eval mode).
    kind : ``"faces"`` or ``"objects"``; arch : ``"cnn"`` or ``"ensemble"``.
    size : (H, W) input size; norm : the input normalisation (percentile, clip).
    calibration : the recipe's uncertainty calibration (travels with the weights file).
    info : seed, seconds and, for faces, the validation errors (degrees).
    """

    model: Any
    kind: str
    arch: str
    size: tuple[int, int]
    norm: tuple[float, float] | None
    calibration: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)


def train_light_model(kind: str, *, seed: int = 0, epochs: int | None = None,
                      data: str | os.PathLike[str] | None = None,
                      backbone: str | os.PathLike[str] | None = None, workers: int = 2,
                      cache: str | os.PathLike[str] | None = None,
                      recipe: dict[str, Any] | None = None,
                      log: Callable[[str], None] | None = print) -> TrainedLightModel:
    """Train the ``objects`` or ``faces`` light model; with the defaults this reproduces
    the shipped weights (:func:`lambertian.learn.train_light.save_model` writes them).

    Parameters
    ----------
    kind : ``"objects"`` or ``"faces"``.
    seed : seed of every random choice.
    epochs : epochs (default 30 objects, the recipe's for faces).
    data : Yale B folder with yaleBNN subjects (faces; default the data root's yaleb).
    backbone : objects weights to fine-tune for faces (default: the shipped model).
    workers : faces: ensemble members trained at once (the weights do not depend on it).
    cache : faces: folder to keep the training subjects' photometric stereo in.
    recipe : faces: the recipe (default :data:`~lambertian.learn.train_light.FACE_RECIPE`).
    log : progress lines (None: silent).

    Returns
    -------
    TrainedLightModel
    """
    import torch

    from lambertian.learn import train_light as tl

    if kind not in KINDS:
        raise InputError("--model", f"unknown light model {kind!r}; choose from {KINDS}")
    if workers < 1:
        raise InputError("--workers", f"must be at least 1, got {workers}")
    if epochs is not None and epochs < 1:
        raise InputError("--epochs", f"must be at least 1, got {epochs}")
    torch.set_num_threads(1)  # deterministic, and fastest for these small nets
    if kind == "objects":
        cfg = tl.objects_config(seed, epochs or 30)
        model, info = tl.train_objects(cfg)
        return TrainedLightModel(model, "objects", "cnn", cfg.size,
                                 (cfg.norm_percentile, cfg.norm_clip),
                                 tl.CALIBRATION["objects"],
                                 {"seconds": info["seconds"], "seed": seed})
    return _train_faces(seed, epochs, data, backbone, workers, cache,
                        recipe or tl.FACE_RECIPE, log)


def _train_faces(seed: int, epochs: int | None, data: Any, backbone: Any, workers: int,
                 cache: Any, recipe: dict[str, Any],
                 log: Callable[[str], None] | None) -> TrainedLightModel:
    from lambertian.io import data_root
    from lambertian.learn import train_light as tl
    from lambertian.learn.faces import (
        TRAIN_SUBJECTS,
        VAL_SUBJECTS,
        error_summary,
        load_faces,
        relit_faces,
        subject_dir,
        subject_normals,
    )

    found = None if data else data_root(strict=True)  # a bad $LAMBERTIAN_DATA is named
    root = Path(data) if data else (found / "yaleb" if found else None)
    if root is None or not root.is_dir():
        raise InputError(data or "yaleb", "Yale B folder not found (give --data)")
    t0 = time.perf_counter()
    size = tuple(recipe["size"])
    net, _ = tl.load_model(backbone or tl.shipped_weights("objects"))
    train = load_faces(root, TRAIN_SUBJECTS, size)
    val = load_faces(root, VAL_SUBJECTS, size)
    extra = None
    if recipe["relit"]:  # training subjects re-rendered under new lights
        if log:
            log(f"photometric stereo of the {len(TRAIN_SUBJECTS)} training subjects ...")
        ps = [subject_normals(subject_dir(root, s), cache) for s in TRAIN_SUBJECTS]
        extra = relit_faces([p[0] for p in ps], [p[1] for p in ps],
                            recipe["relit"] * len(train.images), size, seed=seed)
    cfg = tl.LightTrainConfig(epochs=epochs or recipe["epochs"], seed=seed, lr=recipe["lr"],
                              size=size, angle_weight=recipe["angle_weight"])
    model, _ = tl.train_face_ensemble(train, cfg, net, recipe["members"], extra=extra,
                                      augment=tl.FaceAugment(**recipe["augment"]),
                                      options=recipe.get("options", {}), workers=workers,
                                      log=log)
    seconds = time.perf_counter() - t0
    err = tl.direction_errors(model, val.images, val.directions)
    info = {"seconds": seconds, "seed": seed, "validation": error_summary(err),
            "validation_not_near_black": error_summary(err[~val.near_black]),
            "near_black": int(val.near_black.sum())}
    return TrainedLightModel(model, "faces", "ensemble", size, None, tl.CALIBRATION["faces"],
                             info)
