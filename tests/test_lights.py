"""Light estimation: chrome and matte spheres, one image of known normals, SH lighting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lambertian.core.errors import InputError
from lambertian.core.metrics import angular_error_deg, scale_invariant_intensity_error
from lambertian.core.sphere import sphere_normals
from lambertian.lights import (
    chrome_sphere_lights,
    estimate_light,
    fit_sh9,
    matte_sphere_lights,
    render_sh9,
)
from lambertian.lights.chrome_sphere import reflect_view
from tests.conftest import need_data

GREY = np.array([0.2989, 0.5870, 0.1140])


def _unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _random_lights(k, seed, max_polar_deg=50):
    rng = np.random.default_rng(seed)
    th = np.deg2rad(rng.uniform(5, max_polar_deg, k))
    ph = rng.uniform(0, 2 * np.pi, k)
    return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=1)


def _mirror_sphere_images(lights, shape=(161, 181), centre=(80.3, 91.7), radius=70.2):
    """Phong-like sharp lobe around each light's reflection: an exact highlight model."""
    n, disc = sphere_normals(shape, centre, radius)
    imgs = []
    for l in lights:
        r = reflect_view(n, (0, 0, 1))
        imgs.append(np.where(disc, np.clip(r @ l, 0, 1) ** 400 + 0.02, 0.0))
    return np.stack(imgs), disc


def test_chrome_recovers_exact_lights():
    L = _random_lights(10, seed=1)
    imgs, disc = _mirror_sphere_images(L)
    res = chrome_sphere_lights(imgs, disc)
    assert angular_error_deg(res.directions, L).max() < 0.5
    assert abs(res.notes["circle"][2] - 70.2) < 0.5
    assert res.method == "chrome sphere" and np.all(res.intensities == 1.0)


def test_chrome_missing_highlight_names_image():
    L = _random_lights(3, seed=2)
    imgs, disc = _mirror_sphere_images(L)
    imgs[1] = np.where(disc, 0.05, 0.0)
    with pytest.raises(InputError, match="b.png: no detectable highlight"):
        chrome_sphere_lights(imgs, disc, names=["a.png", "b.png", "c.png"])
    res = chrome_sphere_lights(imgs, disc, names=["a.png", "b.png", "c.png"],
                               skip_missing=True)
    est = res.directions
    assert res.notes["missing"] == ["b.png"] and np.isnan(est[1]).all()
    assert res.known.tolist() == [True, False, True] and res[1] is None
    assert res.names == ["a.png", "b.png", "c.png"]
    assert angular_error_deg(est[[0, 2]], L[[0, 2]]).max() < 0.5


def test_mask_not_a_disc():
    imgs = np.zeros((2, 60, 60))
    mask = np.zeros((60, 60), bool)
    mask[10:50, 5:15] = True  # a bar
    with pytest.raises(InputError, match="not a disc"):
        chrome_sphere_lights(imgs, mask)


def test_matte_sphere_exact_with_shadows_and_highlight():
    L = _random_lights(8, seed=3, max_polar_deg=70)
    e = np.linspace(0.6, 1.4, 8)
    n, disc = sphere_normals((150, 150), (74.6, 75.2), 66.0)
    imgs = np.stack([np.where(disc, 0.5 * ei * np.clip(n @ l, 0, None), 0)
                     for l, ei in zip(L, e, strict=True)])
    imgs[:, 70:74, 70:74] = 1.0  # a saturated blob the robust fit must ignore
    res = matte_sphere_lights(imgs, disc, ambient=False)
    assert angular_error_deg(res.directions, L).max() < 0.3
    assert scale_invariant_intensity_error(res.intensities, e) < 0.01
    assert np.all(res.ambient == 0.0)


def test_single_image_robust_to_cast_shadow_and_ambient():
    n, disc = sphere_normals((120, 120), (60, 60), 55)
    l = _unit([-0.4, 0.3, 0.85])
    img = np.where(disc, 0.7 * (0.1 + 0.8 * np.clip(n @ l, 0, None)), 0)
    img[40:70, 55:80] *= 0.2  # a cast shadow
    light = estimate_light(img, n, disc)
    assert angular_error_deg(light.direction, l) < 1.0
    assert abs(light.intensity - 0.56) < 0.02 and abs(light.ambient - 0.07) < 0.01


def test_single_image_unidentifiable_when_lit_region_tiny():
    n, disc = sphere_normals((120, 120), (60, 60), 55)
    mask = np.zeros_like(disc)
    mask[60:64, 60:64] = True  # 16 pixels of nearly the same normal
    with pytest.raises(InputError, match="unidentifiable"):
        estimate_light(np.where(mask, 0.5, 0.0), n, mask, source="x.png")


def test_sh9_fits_directional_plus_ambient():
    n, disc = sphere_normals((101, 101), (50, 50), 45)
    l = _unit([0.3, 0.4, 0.866])
    img = np.where(disc, 0.1 + np.clip(n @ l, 0, None), 0)
    c = fit_sh9(img, n, disc)
    # Order-2 SH captures a clamped cosine to a few percent (Ramamoorthi & Hanrahan 2001).
    assert np.abs(render_sh9(c, n)[disc] - img[disc]).mean() < 0.02


def _psm(obj):
    from lambertian.io import read_capture

    return read_capture(need_data("psm", obj))


def test_chrome_psm_consistent_with_lights_txt():
    chrome = _psm("chrome")
    est = chrome_sphere_lights(chrome.images, chrome.mask, names=chrome.files).directions
    err = angular_error_deg(est, chrome.lights)  # lights.txt, method unknown (see issue 4)
    assert err.mean() < 3.2 and err.max() < 9.0


def test_matte_psm_gray_agrees_with_chrome():
    chrome, gray = _psm("chrome"), _psm("gray")
    lc = chrome_sphere_lights(chrome.images, chrome.mask).directions
    matte = matte_sphere_lights(gray.images, gray.mask, ambient=False)
    lm, ints = matte.directions, matte.intensities
    assert angular_error_deg(lm, lc).mean() < 2.4
    assert ints.min() > 0.7 * ints.mean()


@pytest.mark.parametrize("obj", ["ball", "bear"])
def test_single_image_diligent(obj):
    from lambertian.io import read_capture

    cap = read_capture(need_data("diligent", obj))
    idx = np.arange(20, 96, 5)  # bear's first 20 images are damaged
    grey = cap.grey(normalized=False)
    dirs, ints = [], []
    for k in idx:
        li = estimate_light(grey[k], cap.normals, cap.mask, source=cap.files[k])
        dirs.append(li.direction)
        ints.append(li.intensity)
    err = angular_error_deg(np.array(dirs), cap.lights[idx])
    assert err.mean() < 3.0
    assert scale_invariant_intensity_error(np.array(ints), cap.intensities[idx] @ GREY) < 0.05


def test_cli_lights_and_light(tmp_path):
    from lambertian.cli.main import main

    gray = need_data("psm", "gray")
    chrome = need_data("psm", "chrome")
    assert main(["lights", str(gray), "--chrome", str(chrome), "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "lights.json").read_text())
    assert [r["file"] for r in rows] == [f"gray.{i}.tga" for i in range(12)]
    assert all(abs(np.linalg.norm(r["direction"]) - 1) < 1e-9 for r in rows)
    # The perspective model with intrinsics; the same lights file format. psm's focal
    # length is not published: 1500 px is one plausible value (README's sensitivity rows).
    (tmp_path / "K.txt").write_text("1500 0 255.5\n0 1500 169.5\n0 0 1\n")
    persp = tmp_path / "persp"
    assert main(["lights", str(gray), "--chrome", str(chrome), "--camera",
                 str(tmp_path / "K.txt"), "--out", str(persp)]) == 0
    rows_p = json.loads((persp / "lights.json").read_text())
    diff = angular_error_deg([r["direction"] for r in rows_p], [r["direction"] for r in rows])
    assert 0.1 < diff.mean() < 3.0  # the model matters, by degrees at most at this focal
    assert main(["lights", str(gray), "--camera", str(tmp_path / "K.txt"),
                 "--out", str(tmp_path / "y")]) == 2  # --camera without --chrome
    # Without a calibration object the lights are estimated uncalibrated, one per image.
    assert main(["lights", str(need_data("psm", "cat")), "--out", str(tmp_path / "x")]) == 0
    assert len(json.loads((tmp_path / "x" / "lights.json").read_text())) == 12

    n, disc = sphere_normals((80, 80), (40, 40), 36)
    l = _unit([0.2, -0.3, 0.9])
    import cv2

    img = np.where(disc, 0.8 * np.clip(n @ l, 0, None), 0)
    cv2.imwrite(str(tmp_path / "img.png"), np.round(img * 65535).astype(np.uint16))
    cv2.imwrite(str(tmp_path / "mask.png"), disc.astype(np.uint8) * 255)
    np.save(tmp_path / "n.npy", n)
    assert main(["light", str(tmp_path / "img.png"), "--normals", str(tmp_path / "n.npy"),
                 "--mask", str(tmp_path / "mask.png"), "--out", str(tmp_path / "l.json")]) == 0
    out = json.loads((tmp_path / "l.json").read_text())
    assert angular_error_deg(out["direction"], l) < 0.5 and abs(out["intensity"] - 0.8) < 0.02


def test_mitsuba_mirror_sphere_calibrates_within_half_degree():
    pytest.importorskip("mitsuba")
    from lambertian.synth.mirror_sphere import render_mirror_sphere

    L = _random_lights(3, seed=5, max_polar_deg=45)
    imgs, mask, _ = render_mirror_sphere(L, size=256, spp=16, seed=5)
    est = chrome_sphere_lights(imgs, mask).directions  # circle fitted to the mask
    assert angular_error_deg(est, L).max() < 0.5


def _ray_cast_sphere_mask(K, centre_cam, shape):
    from lambertian.core.sphere import pixel_rays

    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    b = pixel_rays(rows, cols, K) @ centre_cam
    return b * b - centre_cam @ centre_cam + 1.0 > 0


def test_sphere_cone_fit_exact_and_cut_by_the_frame():
    from lambertian.core.sphere import fit_circle, fit_sphere_cone

    K = np.array([[300.0, 0, 99.5], [0, 300.0, 79.5], [0, 0, 1]])
    for centre in ([0.9, -0.5, 5.0], [2.0, 0.3, 5.0]):  # the second is cut by the frame
        c = np.array(centre)
        mask = _ray_cast_sphere_mask(K, c, (160, 200))
        ray, sin_a = fit_sphere_cone(mask, K)
        assert angular_error_deg(ray, c) < 0.05
        assert abs(sin_a - 1.0 / np.linalg.norm(c)) < 0.002
    with pytest.raises(InputError, match="m.png: mask touches the image border"):
        fit_circle(mask, "m.png")
    with pytest.raises(InputError, match="not the image of a sphere"):
        fit_sphere_cone(np.pad(np.ones((40, 10), bool), 30), K)


def test_mitsuba_perspective_mirror_sphere_needs_the_perspective_model():
    pytest.importorskip("mitsuba")
    from lambertian.synth.mirror_sphere import render_mirror_sphere_perspective

    L = _random_lights(3, seed=5, max_polar_deg=45)
    # 40 deg field of view, sphere off the axis: the orthographic model is degrees off.
    imgs, mask, K = render_mirror_sphere_perspective(L, size=(384, 288), spp=16, seed=5)
    res = chrome_sphere_lights(imgs, mask, camera=K)
    persp, info = res.directions, res.notes
    ortho = chrome_sphere_lights(imgs, mask).directions
    assert angular_error_deg(persp, L).max() < 0.5
    assert angular_error_deg(ortho, L).mean() > 3.0
    assert "cone" in info and "circle" not in info


def _two_paint_sphere(l, shape=(120, 120), seed=0):
    """A colour sphere painted blue on the left and beige on the right (a printed
    texture: a beige disc on the blue half), lit by one white light plus ambient."""
    n, disc = sphere_normals(shape, (60, 60), 55)
    rng = np.random.default_rng(seed)
    blue, beige = np.array([0.08, 0.12, 0.45]), np.array([0.85, 0.75, 0.55])
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    paint = (xx > 70) | ((yy - 40) ** 2 + (xx - 35) ** 2 < 15 ** 2)
    alb = np.where(paint[..., None], beige, blue)
    shade = 0.05 + 0.9 * np.clip(n @ l, 0, None)
    img = np.where(disc[..., None], alb * shade[..., None], 0.0)
    img += rng.normal(0, 0.002, img.shape) * disc[..., None]
    return img, n, disc, paint


def test_chromaticity_groups_split_paints_whatever_the_shading():
    from lambertian.lights.albedo_groups import chromaticity_groups

    img, _, disc, paint = _two_paint_sphere(_unit([0.3, 0.2, 0.93]))
    lab = chromaticity_groups(img[disc], 2, seed=0)
    truth = paint[disc]
    agree = max((lab == truth).mean(), (lab != truth).mean())
    assert agree > 0.97  # shading does not move chromaticity; only shadowed noise does


def test_single_image_textured_colour_albedo_groups():
    l = _unit([-0.35, 0.25, 0.9])
    img, n, disc, _ = _two_paint_sphere(l, seed=1)
    grouped = estimate_light(img, n, disc, ambient=True)
    uniform = estimate_light(img, n, disc, ambient=True, albedo_groups=1)
    assert angular_error_deg(grouped.direction, l) < 1.0
    # The texture biases a uniform-albedo fit; the groups remove that bias.
    assert angular_error_deg(uniform.direction, l) > 3 * angular_error_deg(grouped.direction, l)
    a = sorted(x for x in grouped.extra["group_albedo"] if x is not None)
    assert abs(a[-1] / a[0] - (0.2989 * 0.85 + 0.587 * 0.75 + 0.114 * 0.55)
               / (0.2989 * 0.08 + 0.587 * 0.12 + 0.114 * 0.45)) < 0.5


def test_single_image_reading_colour():
    """DiLiGenT reading (glazed, two main paints, cast shadows): colour images, on their
    own. Measured over all 96 images by benchmarks/bench_lights.py; here a seeded subset."""
    from lambertian.io import read_capture

    cap = read_capture(need_data("diligent", "reading"))
    idx = np.arange(2, 96, 8)
    dirs = [estimate_light(cap.images[k], cap.normals, cap.mask, source=cap.files[k]).direction
            for k in idx]
    err = angular_error_deg(np.array(dirs), cap.lights[idx])
    assert err.mean() < 7.0  # uniform albedo: ~19 degrees


def test_ambient_never_negative():
    from lambertian.lights.lambertian_fit import fit_directional

    n, disc = sphere_normals((80, 80), (40, 40), 35)
    l = _unit([0.3, 0.2, 0.93])
    shade = np.clip(n @ l, 0, None)
    lam = fit_directional(0.8 * shade[disc] + 0.05, n[disc])
    assert abs(lam.ambient - 0.05) < 1e-6 and angular_error_deg(lam.direction, l) < 1e-4
    # A falloff sharper than Lambert's fits best with a negative constant, which no
    # light can be: the fit falls back to no ambient instead.
    sharp = fit_directional(0.8 * shade[disc] ** 1.5, n[disc])
    assert sharp.ambient == 0.0 and angular_error_deg(sharp.direction, l) < 5
