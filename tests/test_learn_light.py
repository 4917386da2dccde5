"""Single-image light regressors: synthetic corpus, models, losses, shipped weights, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lambertian.core.metrics import angular_error_deg
from lambertian.learn.light_data import cast_shadows, height_normals, render_batch
from lambertian.learn.light_models import build_model, light_loss, split_outputs, vmf_nll
from lambertian.learn.train_light import (
    LightTrainConfig,
    _fit,
    dihedral,
    load_model,
    predict,
    save_model,
    shipped_weights,
)
from tests.conftest import need_data


def test_generator_is_seeded_and_labelled():
    a, b = render_batch(8, (32, 32), seed=3), render_batch(8, (32, 32), seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.direction, b.direction)
    assert not torch.equal(a.images, render_batch(8, (32, 32), seed=4).images)
    assert torch.allclose(a.direction.norm(dim=1), torch.ones(8))
    assert a.images.shape == (8, 1, 32, 32) and (a.images >= 0).all()
    assert (a.images[:, 0][~a.mask] == 0).all()  # black outside the object


def test_noise_free_render_follows_the_lambertian_model():
    b = render_batch(4, (32, 32), seed=1, specular=False, noise=False)
    # with no cast shadow, no specular and no noise, every lit pixel is albedo-scaled
    # shading: dark where n . l < 0 (and ambient 0) and bright only toward the light
    cos = (b.normals * b.direction[:, None, None]).sum(-1)
    lit = b.mask & (cos > 0.3)
    assert (b.images[:, 0][lit] > 0).all()


def test_cast_shadow_of_a_wall():
    h = torch.zeros(1, 16, 16)
    h[0, :, 8] = 10.0  # a wall along the rows, at column 8
    light = torch.tensor([[1.0, 0.0, 0.5]])
    light = light / light.norm()
    s = cast_shadows(h, light)[0]
    # light from +x (right): pixels just left of the wall are shadowed, right ones not
    assert s[:, 5:8].all() and not s[:, 9:].any()
    n = height_normals(torch.zeros(1, 4, 4))
    assert torch.allclose(n, torch.tensor([0.0, 0.0, 1.0]).expand(1, 4, 4, 3))


def test_dihedral_maps_lights_exactly():
    # an image lit by a light must map to the image lit by the mapped light
    b = render_batch(2, (24, 24), seed=5, specular=False, noise=False)
    for code in range(8):
        img, d = dihedral(b.images, b.direction, code)
        nimg, nd = dihedral(b.normals.permute(0, 3, 1, 2), b.direction, code)
        # normals transform like the light: shading n . l is unchanged pixel by pixel
        n_map = nimg.permute(0, 2, 3, 1).clone()
        n_map = torch.stack([
            n_map[..., 0] * (-1 if code & 1 else 1),
            n_map[..., 1] * (-1 if code & 2 else 1), n_map[..., 2]], -1)
        if code & 4:
            n_map = torch.stack([-n_map[..., 1], -n_map[..., 0], n_map[..., 2]], -1)
        shade = (n_map * d[:, None, None]).sum(-1)
        orig = (b.normals * b.direction[:, None, None]).sum(-1)
        ref, _ = dihedral(orig[:, None], b.direction, code)
        assert torch.allclose(shade, ref[:, 0], atol=1e-5), code
        assert torch.allclose(d.norm(dim=1), torch.ones(2))


def test_vmf_nll_matches_numerical_normaliser():
    # integrate exp(k cos t) over the sphere: 4 pi sinh(k) / k
    for k in (0.5, 3.0, 40.0):
        t = torch.linspace(0, np.pi, 200001, dtype=torch.float64)
        z = 2 * np.pi * torch.trapezoid(torch.exp(k * torch.cos(t)) * torch.sin(t), t)
        mu = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
        nll = vmf_nll(mu, torch.tensor([k], dtype=torch.float64), mu)
        assert float(nll) == pytest.approx(float(torch.log(z) - k), rel=1e-6, abs=1e-6)


def test_outputs_are_unit_and_losses_vanish_at_truth():
    raw = torch.tensor([[0.0, 3.0, 4.0, 10.0, 1.0, 0.0]])
    out = split_outputs(raw)
    assert torch.allclose(out.direction, torch.tensor([[0.0, 0.6, 0.8]]))
    loss, parts = light_loss(out, out.direction.clone())
    assert parts["cosine"] == pytest.approx(0.0, abs=1e-6)
    assert parts["mse"] == pytest.approx(0.0, abs=1e-6)


def test_tiny_cnn_learns_the_light_and_round_trips(tmp_path):
    torch.manual_seed(0)
    b = render_batch(256, (24, 24), seed=11, specular=False)
    data = {"images": b.images, "direction": b.direction}
    model = build_model("cnn", width=8, hidden=32)
    ident = lambda x, d, g: (x, d)  # noqa: E731
    cfg = LightTrainConfig(epochs=25, batch_size=32, lr=3e-3, seed=0)
    before = angular_error_deg(predict(model, b.images, mirror=False).direction, b.direction)
    hist = _fit(model, data, cfg, ident, log=None)
    after = angular_error_deg(predict(model, b.images, mirror=False).direction, b.direction)
    assert hist[-1] < hist[0] and np.median(after) < 0.5 * np.median(before)
    # save -> load (weights_only) gives the same answers
    path = save_model(tmp_path / "m.pt", model, "cnn", (24, 24))
    blob = torch.load(path, weights_only=True)
    assert blob["kind"] == "cnn"


def test_shipped_weights_load_and_answer():
    for name in ("faces", "objects"):
        model, size = load_model(shipped_weights(name))
        x = torch.rand(2, 1, *size)
        out = predict(model, x)
        assert torch.allclose(out.direction.norm(dim=1), torch.ones(2), atol=1e-5)
        assert (out.kappa > 0).all()


def test_face_model_on_validation_subject():
    folder = need_data("yaleb", "yaleB23")
    from lambertian.io import read_yaleb
    from lambertian.learn.train_light import estimate_light_learned

    cap = read_yaleb(folder)
    keep = [k for k, f in enumerate(cap.files) if f not in set(cap.meta["near_black"])]
    est = np.array([estimate_light_learned(cap.images[k, ..., 0], "faces")["direction"]
                    for k in keep])
    err = angular_error_deg(est, cap.lights[keep])
    # subject 23 was never seen in training (split 01-22 / 23-28)
    assert np.mean(err) < 10.0 and np.median(err) < 8.0


def test_cli_light_model(tmp_path):
    import cv2

    from lambertian.cli.main import main

    folder = need_data("yaleb", "yaleB24")
    src = sorted(folder.glob("*A+000E+00.pgm"))[0]
    img = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), img)
    out = tmp_path / "light.json"
    assert main(["light", str(path), "--model", "faces", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    assert {"direction", "intensity", "ambient", "kappa", "uncertainty_deg"} <= set(d)
    assert angular_error_deg(np.array(d["direction"]), np.array([0.0, 0.0, 1.0])) < 15.0
    assert main(["light", str(path), "--model", "nope", "--out", str(out)]) == 2
    assert main(["light", str(path), "--out", str(out)]) == 2  # neither --normals nor --model
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    assert main(["light", str(path), "--model", str(bad), "--out", str(out)]) == 2
