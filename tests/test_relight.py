"""Relighting models: exact recovery on data they can represent, ill-posed input refused."""

from __future__ import annotations

import numpy as np
import pytest

from lambertian.core.errors import InputError
from lambertian.relight import RelightModel, fit_hsh, fit_lobe, fit_model, fit_ptm, relight
from lambertian.relight.basis import hsh_basis, ptm_basis
from lambertian.relight.lobe import LOBE_SEEN, SHININESS, half_vectors, saturated_observations
from lambertian.synth.capture import make_capture


def hemisphere_lights(k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(k, 3))
    v[:, 2] = np.abs(v[:, 2]) + 0.3
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind,terms", [("ptm", 6), ("hsh9", 9), ("hsh16", 16)])
def test_polynomial_fit_recovers_its_own_coefficients(kind, terms):
    rng = np.random.default_rng(1)
    L = hemisphere_lights(40, 2)
    coef = rng.normal(size=(12, 10, 3, terms)).astype(np.float32)
    B = ptm_basis(L) if kind == "ptm" else hsh_basis(L, terms)
    # photographs are not negative: raise the constant term until every value is positive
    const = int(np.flatnonzero(np.ptp(B, axis=0) == 0)[0])
    low = np.einsum("kn,hwcn->khwc", B, coef).min()
    coef[..., const] += np.float32((0.1 - min(low, 0.0)) / B[0, const])
    images = np.einsum("kn,hwcn->khwc", B, coef).astype(np.float32)
    model = fit_model(kind, images, L)
    np.testing.assert_allclose(model.coefficients, coef, atol=2e-4)
    new = hemisphere_lights(1, 3)[0]
    np.testing.assert_allclose(relight(model, new), np.einsum(
        "n,hwcn->hwc", (ptm_basis(new) if kind == "ptm" else hsh_basis(new, terms))[0], coef),
        atol=2e-4)
    assert model.numbers_per_pixel() == 3 * terms


def test_hsh_basis_matches_rtiviewer_at_the_zenith():
    # Straight above: theta = 0, every term with sin(theta) vanishes; the constants are
    # RTIViewer's 1/sqrt(2 pi), sqrt(3/(2 pi)), sqrt(5/(2 pi)), sqrt(7/(2 pi)).
    b = hsh_basis(np.array([[0.0, 0.0, 1.0]]), 16)[0]
    expect = np.zeros(16)
    expect[0] = 1 / np.sqrt(2 * np.pi)
    expect[2] = np.sqrt(3 / (2 * np.pi))
    expect[6] = np.sqrt(5 / (2 * np.pi))
    expect[12] = np.sqrt(7 / (2 * np.pi))
    np.testing.assert_allclose(b, expect, atol=1e-12)


def lobe_capture(seed: int = 0, size: int = 24, k: int = 30):
    cap = make_capture(size=size, num_lights=k, noise=0.0, seed=seed)
    rng = np.random.default_rng(seed)
    m = cap.mask
    spec = np.where(m[..., None], rng.uniform(0.1, 0.6, (size, size, 1)), 0) * np.ones(3)
    shin = np.where(m, rng.choice(SHININESS[1:5], (size, size)), 0.0)
    n = cap.normals
    L = cap.lights
    nl = np.einsum("hwc,kc->khw", n, L)
    nh = np.maximum(np.einsum("hwc,kc->khw", n, half_vectors(L)), 0)
    lobe = np.where(nl > 0, nh ** shin, 0.0)
    img = cap.albedo * np.maximum(nl, 0)[..., None] + spec * lobe[..., None]
    seen = m & (lobe.max(axis=0) >= LOBE_SEEN)
    return img.astype(np.float32), L, m, n, cap.albedo, spec, shin, seen


def test_lobe_fit_recovers_albedo_specular_and_shininess():
    img, L, m, n, albedo, spec, shin, seen = lobe_capture()
    assert seen.sum() > 0.5 * m.sum()
    model = fit_lobe(img, L, m, normals=n)
    # Where some light samples the lobe near its peak, every parameter is pinned down;
    # elsewhere the fit refuses to extrapolate an unseen lobe (LOBE_SEEN).
    np.testing.assert_allclose(model.albedo[seen], albedo[seen], atol=2e-3)
    np.testing.assert_allclose(model.specular[seen], spec[seen][:, :1], atol=2e-3)
    # the lobe's axis is the normal here (no highlight elsewhere to find)
    assert np.mean(np.sum(model.axis[seen] * n[seen], -1) > 0.9999) > 0.97
    assert np.mean(model.shininess[seen] == shin[seen]) > 0.97
    assert model.numbers_per_pixel() == 16
    # a Lambert + lobe capture leaves nothing for the diffuse ratio
    assert np.abs(model.ratio[seen]).max() < 1e-2
    new = hemisphere_lights(1, 7)[0]
    nl = n @ new
    nh = np.maximum(n @ half_vectors(new[None])[0], 0)
    lobe = np.where(nl > 0, nh ** shin, 0)
    truth = albedo * np.maximum(nl, 0)[..., None] + spec * lobe[..., None]
    assert np.sqrt(np.mean((relight(model, new)[seen] - truth[seen]) ** 2)) < 2e-3


def test_lobe_axis_follows_a_highlight_away_from_the_normal():
    # A highlight about a "specular normal" tilted from the diffuse one (mesostructure):
    # the fit finds the tilted axis and relights the highlight where it is.
    cap = make_capture(size=16, num_lights=60, noise=0.0, seed=8)
    n, L, m = cap.normals, cap.lights, cap.mask
    t = np.deg2rad(8.0)
    tilt = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    ax = n @ tilt.T
    nl = np.einsum("hwc,kc->khw", n, L)
    mh = np.maximum(np.einsum("hwc,kc->khw", ax, half_vectors(L)), 0)
    lobe = 0.5 * np.where(nl > 0, mh ** 30, 0)
    img = cap.albedo * np.maximum(nl, 0)[..., None] + lobe[..., None]
    model = fit_lobe(img.astype(np.float32), L, m, normals=n, shininess=(10.0, 30.0, 100.0))
    lit = m & (np.einsum("hwc,c->hw", ax, half_vectors(L).mean(0)) > 0.8)
    cos = np.sum(model.axis * ax, -1)[lit]
    assert np.median(cos) > np.cos(np.deg2rad(4.0))  # the tilt is 8 degrees
    new = hemisphere_lights(1, 11)[0]
    nh = np.maximum(ax @ half_vectors(new[None])[0], 0)
    spec = 0.5 * np.where(n @ new > 0, nh ** 30, 0)
    truth = cap.albedo * np.maximum(n @ new, 0)[..., None] + spec[..., None]
    about_n = RelightModel(**{**model.__dict__, "axis": None})  # the same lobe about n
    err = np.sqrt(np.mean((relight(model, new)[m] - truth[m]) ** 2))
    assert err < 0.3 * np.sqrt(np.mean((relight(about_n, new)[m] - truth[m]) ** 2))


def test_diffuse_ratio_recovers_a_smooth_shadowing_factor():
    # A diffuse surface whose received light is scaled by a factor that depends on the
    # light direction only (shadowing, interreflection): the ratio term recovers it.
    cap = make_capture(size=20, num_lights=40, noise=0.0, seed=4)
    n, L, m = cap.normals, cap.lights, cap.mask
    rng = np.random.default_rng(4)
    r = np.where(m[..., None], rng.uniform(-0.15, 0.15, (20, 20, 6)), 0.0)
    ratio = lambda lights: 1.0 + np.einsum("hwj,kj->khw", r, ptm_basis(lights))  # noqa: E731
    nl = np.einsum("hwc,kc->khw", n, L)
    img = cap.albedo * (np.maximum(nl, 0) * ratio(L))[..., None]
    model = fit_lobe(img.astype(np.float32), L, m, normals=n, shininess=(1.0,))
    new = hemisphere_lights(1, 9)[0]
    truth = cap.albedo * (np.maximum(n @ new, 0) * ratio(new[None])[0])[..., None]
    plain = cap.albedo * np.maximum(n @ new, 0)[..., None]
    err = np.sqrt(np.mean((relight(model, new)[m] - truth[m]) ** 2))
    assert err < 0.2 * np.sqrt(np.mean((plain[m] - truth[m]) ** 2))


def test_lobe_fit_with_solved_normals_relights_a_lambertian_capture():
    cap = make_capture(size=32, num_lights=20, noise=0.0, seed=3)
    img = cap.images / cap.intensities[:, None, None, :].astype(np.float32)
    model = fit_lobe(img, cap.lights, cap.mask, method="robust")
    new = hemisphere_lights(1, 5)[0]
    truth = cap.albedo * np.maximum(cap.normals @ new, 0)[..., None]
    # Cast shadows in the training images are the only departure from the model.
    err = np.abs(relight(model, new) - truth)[cap.mask]
    assert np.median(err) < 2e-3


def test_saturated_observations_are_left_out_of_the_lobe():
    img, L, m, n, albedo, spec, shin, seen = lobe_capture(seed=1)
    clipped = np.minimum(img, 0.5)
    sat = saturated_observations(clipped / 0.5, 16)
    assert sat.any()
    model = fit_lobe(clipped, L, m, normals=n, valid=~sat)
    naive = fit_lobe(clipped, L, m, normals=n)
    new = hemisphere_lights(1, 8)[0]
    nl = n @ new
    nh = np.maximum(n @ half_vectors(new[None])[0], 0)
    lobe = np.where(nl > 0, nh ** shin, 0)
    truth = albedo * np.maximum(nl, 0)[..., None] + spec * lobe[..., None]
    err = np.sqrt(np.mean((relight(model, new)[seen] - truth[seen]) ** 2))
    err_naive = np.sqrt(np.mean((relight(naive, new)[seen] - truth[seen]) ** 2))
    assert err < 0.5 * err_naive


def test_coplanar_lights_are_one_line_input_error():
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    L = np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], 1)
    img = np.random.default_rng(0).uniform(size=(12, 8, 8, 3)).astype(np.float32)
    for fit in (fit_ptm, fit_hsh, fit_lobe):
        with pytest.raises(InputError, match="coplanar"):
            fit(img, L, source="capture")
    # A cone of lights at one elevation is not coplanar but leaves HSH's basis singular.
    ring = np.stack([0.5 * np.cos(ang), 0.5 * np.sin(ang), np.full_like(ang, 0.866)], 1)
    with pytest.raises(InputError, match="singular"):
        fit_hsh(img, ring, terms=9, source="capture")
