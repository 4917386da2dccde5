"""The default solver: robust and the learned solver's normals summed, or the learned
solver alone where robust's own check finds broad specular reflectance (lambertian.ps.auto)."""

from __future__ import annotations

import numpy as np

from lambertian.core.metrics import angular_error_deg
from lambertian.ps import DEFAULT_METHOD, auto, least_squares, net, robust
from lambertian.ps.auto import summed_normals
from lambertian.scale.stream import stream_ps
from lambertian.synth.capture import make_capture, write_capture
from tests.conftest import need_data
from tests.test_robust import _metal_sphere


def test_a_metal_is_solved_by_the_network_where_robust_falls_back_to_least_squares():
    img, L, mask, n = _metal_sphere(alpha=0.3, diffuse=0.0)
    res = auto(img, L, mask)
    assert DEFAULT_METHOD == "auto"
    assert res.info["method"] == "auto" and res.info["solver"] == "net"
    assert res.info["broad_specular"] is True
    err = angular_error_deg(res.normals[mask], n[mask]).mean()
    fallback = angular_error_deg(least_squares(img, L, mask).normals[mask], n[mask]).mean()
    # measured: the network 4.8 deg, robust's least-squares fallback 22.7 deg
    assert err < 7.0 and fallback > 3 * err, (err, fallback)


def test_with_too_few_lights_for_the_network_robust_answers():
    img, L, mask, _ = _metal_sphere(alpha=0.3, diffuse=0.0)
    res = auto(img[:5], L[:5], mask)
    assert res.info["solver"] == "robust"
    np.testing.assert_array_equal(res.normals, robust(img[:5], L[:5], mask).normals)


def test_elsewhere_robust_and_the_network_are_summed_also_when_streamed(tmp_path):
    synth = make_capture(size=40, num_lights=16, seed=5)
    synth.images[[2, 7]] = np.clip(synth.images[[2, 7]] * 1.3, 0, 1)  # "damaged" images
    folder = write_capture(tmp_path / "cap", synth)
    from lambertian.io import read_capture

    cap = read_capture(folder)
    img = cap.normalized_images()
    res = auto(img, cap.lights, cap.mask)
    rob, learned = robust(img, cap.lights, cap.mask), net(img, cap.lights, cap.mask)
    assert res.info["solver"] == "robust+net" and res.info["broad_specular"] is False
    assert res.info["dropped_images"] == {"robust": rob.info["dropped_images"],
                                          "net": learned.info["dropped_images"]}
    assert rob.info["dropped_images"]["grey"] == [2, 7]
    np.testing.assert_array_equal(res.normals, summed_normals(rob.normals, learned.normals))
    np.testing.assert_array_equal(res.inliers, rob.inliers)
    m = cap.mask
    # the albedo is refitted to the summed normal on robust's inliers: exact on this
    # Lambertian capture up to the normal's own error
    np.testing.assert_allclose(res.albedo[m], synth.albedo[m], rtol=0.05)
    err = angular_error_deg(res.normals[m], synth.normals[m]).mean()
    assert err < 1.0, err
    info = stream_ps([folder / f for f in cap.files], cap.lights, cap.intensities, cap.mask,
                     tmp_path / "out", method="auto", band_bytes=16 * 40 * 3 * 4 * 10)
    assert info["solver"] == "robust+net" and info["bands"] > 1
    np.testing.assert_allclose(np.load(tmp_path / "out" / "normals.npy"), res.normals,
                               atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "albedo.npy"), res.albedo,
                               rtol=1e-5, atol=1e-6)


def test_summed_normals_are_unit_and_keep_the_first_where_opposite():
    a = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    b = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    s = summed_normals(a, b)
    np.testing.assert_allclose(s[0], [2 ** -0.5, 0.0, 2 ** -0.5], rtol=1e-6)
    np.testing.assert_array_equal(s[1:], a[1:])


def test_on_real_reading_the_sum_keeps_the_better_solver_where_they_fail_differently():
    """A crop of DiLiGenT reading (upper body) where robust is off on the broad highlights
    of the surfaces facing the camera and the network on the folds: the sum is far better
    than robust and close to the network."""
    from lambertian.io import read_capture

    cap = read_capture(need_data("diligent", "reading"))
    ys, xs = np.nonzero(cap.mask)
    cy, cx = int(ys.mean()) - 60, int(xs.mean())
    sl = (slice(cy - 24, cy + 24), slice(cx - 24, cx + 24))
    img, m, gt = cap.normalized_images()[:, sl[0], sl[1]], cap.mask[sl], cap.normals[sl]
    errs = {}
    for name, solve in (("robust", robust), ("net", net), ("auto", auto)):
        errs[name] = angular_error_deg(solve(img, cap.lights, m).normals[m], gt[m]).mean()
    # measured: robust 13.66, net 10.77, auto (robust + net) 10.98 (with the network
    # before glossy grooves: net 11.42, auto 11.17, better than either)
    assert errs["auto"] < errs["robust"] - 2.0 and errs["auto"] < errs["net"] + 0.5, errs
