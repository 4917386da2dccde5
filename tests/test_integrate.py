"""Normal integration: synthetic surfaces with known depth, DiLiGenT's depth_gt, bad input,
the files written, the command and the figures."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.integrate import (
    aligned_depth_error,
    bilateral,
    check_normals,
    frankot_chellappa,
    poisson,
    write_depth_outputs,
)
from lambertian.integrate.geometry import normals_from_depth
from lambertian.integrate.mesh import grid_faces
from tests.conftest import need_data

K_SYN = np.array([[400.0, 0.0, 40.0], [0.0, 420.0, 35.0], [0.0, 0.0, 1.0]])


def bump(h: int = 70, w: int = 80) -> np.ndarray:
    """Orthographic depth (pixels) of a smooth bump, and its exact normals."""
    r, c = np.mgrid[0:h, 0:w].astype(np.float64)
    return 8.0 * np.exp(-((c - 40) ** 2 + (r - 33) ** 2) / 300.0) + 0.05 * c


def bump_normals(h: int = 70, w: int = 80) -> tuple[np.ndarray, np.ndarray]:
    r, c = np.mgrid[0:h, 0:w].astype(np.float64)
    g = 8.0 * np.exp(-((c - 40) ** 2 + (r - 33) ** 2) / 300.0)
    # height t = bump toward the camera; depth d = -t; project frame x = c, y = -r
    dt_dc = g * (-2 * (c - 40) / 300.0) + 0.05
    dt_dr = g * (-2 * (r - 33) / 300.0)
    n = np.stack([-dt_dc, dt_dr, np.ones_like(c)], -1)  # dt/dy = -dt/dr
    return -bump(h, w), n / np.linalg.norm(n, axis=-1, keepdims=True)


def sphere_view(radius: float = 1.0, distance: float = 4.0, K: np.ndarray = K_SYN,
                shape: tuple[int, int] = (70, 80)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact perspective depth, normals (project frame) and mask of a sphere seen by K."""
    h, w = shape
    r, c = np.mgrid[0:h, 0:w].astype(np.float64)
    rays = np.stack([c, r, np.ones_like(c)], -1) @ np.linalg.inv(K).T  # OpenCV, z = 1
    centre = np.array([0.0, 0.0, distance])
    a = np.sum(rays * rays, -1)
    b = -2 * rays @ centre
    disc = b * b - 4 * a * (centre @ centre - radius ** 2)
    hit = disc > 0
    t = np.where(hit, (-b - np.sqrt(np.where(hit, disc, 0))) / (2 * a), np.nan)
    pts = rays * t[..., None]
    n_cv = (pts - centre) / radius
    n = n_cv * np.array([1.0, -1.0, -1.0])  # OpenCV -> project frame
    # keep away from the grazing rim, where any integrator has no slope to follow
    mask = hit & (n[..., 2] > 0.3)
    depth = np.where(mask, t, np.nan)  # rays have z = 1: t is the depth along the axis
    return depth, np.where(mask[..., None], n, 0.0), mask


def irregular_mask(h: int = 70, w: int = 80) -> np.ndarray:
    r, c = np.mgrid[0:h, 0:w]
    return (((c - 40) ** 2 / 35 ** 2 + (r - 35) ** 2 / 30 ** 2) < 1) & ~((c > 55) & (r < 20))


# ---------------------------------------------------------------- synthetic surfaces


@pytest.mark.parametrize("method", [poisson, bilateral])
def test_orthographic_bump_on_irregular_mask(method):
    depth, n = bump_normals()
    m = irregular_mask()
    res = method(n, m)
    assert res.mask.sum() == m.sum() and np.isnan(res.depth[~m]).all()
    err = aligned_depth_error(res.depth, np.where(m, depth, np.nan))
    assert err["mae"] < 0.02  # pixels; the bump is 8 pixels high
    assert err["scale"] == pytest.approx(1.0, abs=0.01)  # orthographic: no scale freedom


def test_frankot_chellappa_full_rectangle():
    h, w = 64, 64
    r, c = np.mgrid[0:h, 0:w].astype(np.float64)
    t = 3.0 * np.sin(2 * np.pi * c / w) * np.cos(2 * np.pi * r / h)  # periodic height
    n = np.stack([-3.0 * 2 * np.pi / w * np.cos(2 * np.pi * c / w) * np.cos(2 * np.pi * r / h),
                  -3.0 * 2 * np.pi / h * np.sin(2 * np.pi * c / w) * np.sin(2 * np.pi * r / h),
                  np.ones_like(c)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    res = frankot_chellappa(n, np.ones((h, w), bool))
    assert aligned_depth_error(res.depth, -t)["mae"] < 1e-2


@pytest.mark.parametrize("method", [poisson, bilateral, frankot_chellappa])
def test_perspective_sphere(method):
    depth, n, m = sphere_view()
    res = method(n, m, K_SYN, median_depth=2.0)
    assert np.nanmedian(res.depth) == pytest.approx(2.0, rel=1e-6)
    err = aligned_depth_error(res.depth, depth)
    # a unit sphere at 4 units: the error is a small fraction of its 1-unit depth range
    limit = 0.05 if method is frankot_chellappa else 0.005
    assert err["mae"] < limit
    if method is not frankot_chellappa:  # perspective depth is known up to a scale only
        assert err["offset"] == pytest.approx(0.0, abs=0.02)


def test_normals_from_depth_match_analytic_sphere():
    depth, n, m = sphere_view()
    est = normals_from_depth(depth, K_SYN)
    inner = cv2.erode(m.astype(np.uint8), np.ones((3, 3))) > 0
    cos = np.sum(est[inner] * n[inner], -1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.0


def test_two_regions_each_integrated_and_reported():
    depth, n = bump_normals()
    m = np.zeros(depth.shape, bool)
    m[5:30, 5:35] = True
    m[40:65, 45:75] = True
    res = poisson(n, m)
    assert res.info["components"] == 2
    assert any("2 separate regions" in s for s in res.notes)
    for sel in (m & (np.arange(80) < 40)[None, :], m & (np.arange(80) >= 40)[None, :]):
        assert np.median(res.depth[sel]) == pytest.approx(0.0, abs=1e-9)
        e = res.depth[sel] - depth[sel]
        assert np.abs(e - e.mean()).max() < 0.05


# ---------------------------------------------------------------- real data


def load_diligent(name: str):
    from lambertian.io import read_capture

    folder = need_data("diligent", name)
    if not (folder / "depth_gt.npy").is_file():
        pytest.skip(f"{folder} has no depth_gt.npy")
    return read_capture(folder)


@pytest.mark.parametrize("name, method, limit", [
    ("bear", "bilateral", 0.5), ("reading", "bilateral", 1.5), ("bear", "poisson", 0.8)])
def test_ground_truth_normals_give_depth_gt(name, method, limit):
    from lambertian.integrate import integrate_normals

    cap = load_diligent(name)
    assert cap.K is not None and cap.depth is not None
    res = integrate_normals(cap.normals, cap.mask, cap.K, method)
    err = aligned_depth_error(res.depth, cap.depth)
    assert err["pixels"] > 0.95 * np.isfinite(cap.depth).sum()
    assert err["mae"] < limit  # mm; measured 0.17 / 0.29 / 0.62 (benchmarks/bench_integrate.py)


def test_depth_gt_normals_agree_with_normal_gt():
    """Frames: normals of the back-projected depth_gt (K, OpenCV -> project) match the
    published normals, so the camera model and the y/z flips are right."""
    cap = load_diligent("bear")
    est = normals_from_depth(cap.depth, cap.K)
    v = np.isfinite(est).all(-1) & cap.mask
    cos = np.sum(est[v] * cap.normals[v], -1)
    assert np.median(np.degrees(np.arccos(np.clip(cos, -1, 1)))) < 1.0


# ---------------------------------------------------------------- bad input


def test_bad_normals_are_refused_with_one_line():
    _, n = bump_normals()
    m = irregular_mask()
    with pytest.raises(InputError, match="not unit length"):
        check_normals(n * 2.0, m, source="n.npy")
    with pytest.raises(InputError, match="all normals inside the mask are zero"):
        check_normals(np.zeros_like(n), m)
    with pytest.raises(InputError, match="mask is 80x69 but the normal map is 80x70"):
        check_normals(n, m[:-1], mask_source="m.png")
    bad = n.copy()
    bad[35, 40] = np.nan
    with pytest.raises(InputError, match="NaN or infinite .*row 35, column 40"):
        poisson(bad, m)
    with pytest.raises(InputError, match="mask is empty"):
        poisson(n, np.zeros_like(m))
    with pytest.raises(InputError, match="skewed"):
        poisson(n, m, np.array([[400.0, 3.0, 40.0], [0.0, 400.0, 35.0], [0.0, 0.0, 1.0]]))
    err = pytest.raises(InputError, check_normals, n * 2.0, m, source="n.npy").value
    assert "\n" not in str(err) and str(err).startswith("n.npy: ")


def test_zero_normals_inside_mask_are_dropped_and_said():
    _, n = bump_normals()
    m = irregular_mask()
    n = n.copy()
    n[35, 40] = 0.0
    nn, mm, notes = check_normals(n, m)
    assert not mm[35, 40] and mm.sum() == m.sum() - 1 and "1 pixel(s)" in notes[0]
    nan_outside = np.where(m[..., None], n, np.nan)  # anything outside the mask is ignored
    assert np.isnan(poisson(nan_outside, m).depth[~m]).all()


# ---------------------------------------------------------------- files, command, figures


def test_written_files_round_trip(tmp_path):
    import trimesh

    from lambertian.io import read_exr

    depth, n, m = sphere_view()
    albedo = np.full(m.shape + (3,), 0.5)
    summary = write_depth_outputs(tmp_path, n, m, K=K_SYN, albedo=albedo, method="poisson")
    d = np.load(tmp_path / "depth.npy")
    assert d.dtype == np.float32 and np.isnan(d[~m]).all() and np.isfinite(d[m]).all()
    assert aligned_depth_error(d, depth)["mae"] < 0.005
    meta = json.loads((tmp_path / "depth.json").read_text())
    code = cv2.imread(str(tmp_path / "depth.png"), cv2.IMREAD_UNCHANGED)
    assert code.dtype == np.uint16 and (code[~m] == 0).all() and (code[m] >= 1).all()
    lo, hi = meta["png"]["1"], meta["png"]["65535"]
    back = lo + (code[m].astype(np.float64) - 1) * (hi - lo) / 65534
    assert np.abs(back - d[m]).max() <= (hi - lo) / 65534
    exr = read_exr(tmp_path / "depth.exr", allow_nan=True)
    np.testing.assert_array_equal(exr, d)  # NaN outside compares equal too
    mesh = trimesh.load(tmp_path / "mesh.ply", process=False)
    assert len(mesh.vertices) == m.sum()
    assert np.allclose(mesh.vertex_normals, n[m], atol=1e-5)
    assert (mesh.face_normals[:, 2] > 0).mean() > 0.99  # faces look toward the camera
    assert np.all(mesh.visual.vertex_colors[:, :3] == mesh.visual.vertex_colors[0, :3])
    assert summary["components"] == 1 and summary["method"] == "poisson"


def test_grid_faces_counts():
    v = np.ones((3, 4), bool)
    assert len(grid_faces(v)) == 2 * 2 * 3
    v[0, 0] = False  # one block loses a corner: one triangle instead of two
    assert len(grid_faces(v)) == 2 * 2 * 3 - 1


def test_command_line(tmp_path, capsys):
    from lambertian.io import write_normal_png

    _, n, m = sphere_view()
    np.save(tmp_path / "n.npy", n.astype(np.float32))
    write_normal_png(tmp_path / "n.png", n, m)
    cv2.imwrite(str(tmp_path / "m.png"), m.astype(np.uint8) * 255)
    np.savetxt(tmp_path / "K.txt", K_SYN)
    assert main(["integrate", str(tmp_path / "n.npy"), "--mask", str(tmp_path / "m.png"),
                 "--camera", str(tmp_path / "K.txt"), "--out", str(tmp_path / "o1")]) == 0
    assert main(["integrate", str(tmp_path / "n.png"), "--method", "poisson",
                 "--out", str(tmp_path / "o2")]) == 0
    d1, d2 = np.load(tmp_path / "o1" / "depth.npy"), np.load(tmp_path / "o2" / "depth.npy")
    assert np.array_equal(np.isfinite(d1), m) and np.array_equal(np.isfinite(d2), m)
    capsys.readouterr()
    np.save(tmp_path / "bad.npy", n * 3)
    assert main(["integrate", str(tmp_path / "bad.npy"), "--out", str(tmp_path / "o3")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.npy: normals are not unit length" in err
    assert main(["integrate", str(tmp_path / "n.npy"), "--camera", str(tmp_path / "m.png"),
                 "--out", str(tmp_path / "o4")]) == 2


def test_figures(tmp_path):
    from lambertian.viz.figures import bar_chart, parse_markdown_table, ps_panel

    depth, n, m = sphere_view()
    img = np.clip(n @ np.array([0.0, 0.0, 1.0]), 0, 1)
    p = ps_panel(tmp_path / "panel.png", img, n, img, m, normals_gt=n, K=K_SYN, title="t")
    pic = cv2.imread(str(p))
    assert pic.shape[1] > 3 * pic.shape[0]  # five panels side by side
    table = "| object | method | MAE mm |\n|---|---|---|\n| bear | a | 0.6 |\n| bear | b | n/a |\n"
    rows = parse_markdown_table(table)
    assert rows == [{"object": "bear", "method": "a", "MAE mm": "0.6"},
                    {"object": "bear", "method": "b", "MAE mm": "n/a"}]
    assert cv2.imread(str(bar_chart(tmp_path / "bar.png", table, "MAE mm",
                                     group="object"))) is not None
    with pytest.raises(ValueError, match="no numeric values"):
        bar_chart(tmp_path / "x.png", table, "object")


# ---------------------------------------------------------------- the bilateral solver


def _reference_bilateral(n, m, K, k=2.0, max_iter=150, tol=1e-4, cg_tol=1e-3):
    """The previous implementation, kept as the reference: normal equations by sparse
    products of the four difference operators, NumPy Jacobi PCG, the same loop."""
    import scipy.sparse as sp

    from lambertian.integrate._stencil import _pcg_numpy
    from lambertian.integrate.poisson import difference_system, solve_weighted

    s = difference_system(n, m, K)
    P = int(m.sum())
    weights = [np.full(P, 0.5)] * 4
    z = solve_weighted(s, weights)
    _, first = np.unique(s.labels[m], return_index=True)

    def energy(ws, z):
        return sum(w @ (o @ z - g) ** 2 for o, w, g in zip(s.ops, ws, s.rhs, strict=True))

    e = energy(weights, z)
    for _ in range(max_iter):
        fu, bu, fv, bv = (o @ z for o in s.ops)
        wu = 1 / (1 + np.exp(-k * (bu ** 2 - fu ** 2)))
        wv = 1 / (1 + np.exp(-k * (bv ** 2 - fv ** 2)))
        weights = [wu, 1 - wu, wv, 1 - wv]
        M = sum(o.T @ sp.diags(w) @ o for o, w in zip(s.ops, weights, strict=True))
        r = sum(o.T @ (w * g) for o, w, g in zip(s.ops, weights, s.rhs, strict=True))
        pin = np.zeros(P)
        pin[first] = M.diagonal().mean()
        M = sp.csr_matrix(M + sp.diags(pin))
        z, _ = _pcg_numpy(M, r + pin * z, z, 1 / M.diagonal(), cg_tol, 5000)
        old, e = e, energy(weights, z)
        if abs(e - old) <= tol * old:
            break
    depth = np.full(m.shape, np.nan)
    depth[m] = z
    return depth


def stepped_surface(h: int = 48, w: int = 56) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthographic depth with a raised disc and the normals of the smooth base (a constant
    step leaves the normals integrable, so no integrator recovers it: a solver check)."""
    r, c = np.mgrid[0:h, 0:w].astype(np.float64)
    base = 3.0 * np.sin(c / 9.0) * np.cos(r / 12.0) + 0.1 * c
    depth = base - 40.0 * ((c - 20) ** 2 + (r - 24) ** 2 < 12 ** 2)
    n = normals_from_depth(base)  # an offset keeps orthographic normals: exact off the jump
    m = irregular_mask(h, w) if (h, w) == (70, 80) else np.ones((h, w), bool)
    return depth, n, m


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_bilateral_solver_matches_the_reference_loop(backend):
    """The stencil assembly and either inner solver give the previous implementation's
    depth and accuracy (same loop, same tolerances)."""
    from lambertian.integrate._stencil import compiled_pcg

    if backend == "numba" and compiled_pcg() is None:
        pytest.skip("numba not installed (the fast extra)")
    depth, n, m = stepped_surface()
    ref = _reference_bilateral(n, m, None)
    res = bilateral(n, m, backend=backend)
    assert res.info["backend"] == backend
    e_ref = aligned_depth_error(ref, depth)["mae"]
    e_new = aligned_depth_error(res.depth, depth)["mae"]
    assert e_new == pytest.approx(e_ref, rel=0.02)
    d = res.depth - ref
    assert np.nanmax(np.abs(d - np.nanmedian(d))) < 1e-3 * 6.0


def test_bilateral_backends_agree_on_perspective_sphere():
    from lambertian.integrate._stencil import compiled_pcg

    if compiled_pcg() is None:
        pytest.skip("numba not installed (the fast extra)")
    _, n, m = sphere_view()
    a = bilateral(n, m, K_SYN, backend="numpy")
    b = bilateral(n, m, K_SYN, backend="numba")
    assert a.info["iterations"] == b.info["iterations"]
    assert np.nanmax(np.abs(a.depth - b.depth)) < 1e-6


def test_bilateral_rejects_unknown_backend():
    _, n = bump_normals()
    with pytest.raises(ValueError, match="backend"):
        bilateral(n, irregular_mask(), backend="cuda")


def test_bilateral_keeps_the_jumps_poisson_smooths():
    """On spheres sunk into a steep plane (occluding silhouettes, lambertian.synth.jumps)
    the bilateral integrator opens the jumps: its error is well below Poisson's."""
    from lambertian.synth.jumps import jump_surface

    s = jump_surface("spheres", shape=(60, 72), seed=2)
    e_bini = aligned_depth_error(bilateral(s.normals, s.mask).depth, s.depth)["mae"]
    e_poisson = aligned_depth_error(poisson(s.normals, s.mask).depth, s.depth)["mae"]
    assert e_bini < 0.3 * e_poisson  # measured 0.34 vs 2.18 pixel units


@pytest.mark.parametrize("K", [None, K_SYN])
def test_jump_surface_is_exact_and_seeded(K):
    from lambertian.synth.jumps import jump_surface

    a = jump_surface("spheres", shape=(50, 60), K=K, seed=3)
    b = jump_surface("spheres", shape=(50, 60), K=K, seed=3)
    assert np.array_equal(a.depth, b.depth, equal_nan=True)
    assert a.mask.all() and a.jumps.any()
    assert np.allclose(np.linalg.norm(a.normals, axis=-1), 1.0)
    # away from the edges the normals are those of the depth map
    nd = normals_from_depth(a.depth, K)
    inner = a.mask.copy()
    inner[[0, -1]] = inner[:, [0, -1]] = False
    for _ in range(2):  # two pixels from any edge
        grown = a.jumps.copy()
        grown[1:] |= a.jumps[:-1]
        grown[:-1] |= a.jumps[1:]
        grown[:, 1:] |= a.jumps[:, :-1]
        grown[:, :-1] |= a.jumps[:, 1:]
        a.jumps[:] = grown
    inner &= ~a.jumps
    cos = np.sum(nd[inner] * a.normals[inner], axis=-1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 2.0
    with pytest.raises(ValueError, match="kind"):
        jump_surface("cubes")


def test_bilateral_multigrid_start_matches_the_lu_start():
    pytest.importorskip("pyamg")
    _, n = bump_normals()
    m = irregular_mask()
    a = bilateral(n, m, start="amg", backend="numpy")
    b = bilateral(n, m, start="lu", backend="numpy")
    assert a.info["start"] == "amg" and b.info["start"] == "lu"
    assert np.nanmax(np.abs(a.depth - b.depth)) < 1e-3 * np.nanmax(np.abs(b.depth))
    with pytest.raises(ValueError, match="start"):
        bilateral(n, m, start="cholmod")
