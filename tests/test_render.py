"""The CPU differentiable renderer: geometry, crops, shading, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lambertian.fit.rotation import axis_angle_to_matrix
from lambertian.render import Camera, Mesh, load_mesh, look_at_pose, rasterize, render, save_mesh
from lambertian.render.shade import pixel_normals, project_light_to_world, world_light_to_project
from lambertian.render.soft_silhouette import soft_silhouette
from lambertian.synth import meshes


def _camera(size: int = 64, dist: float = 4.0, f: float = 60.0, dtype=torch.float32,
            eye=None) -> Camera:
    R, t = look_at_pose(eye if eye is not None else [0.0, 0.0, dist], [0.0, 0.0, 0.0],
                        dtype=dtype)
    K = torch.tensor([[f, 0, (size - 1) / 2], [0, f, (size - 1) / 2], [0, 0, 1]], dtype=dtype)
    return Camera.create(K, R, t, size, size, dtype=dtype)


def test_crop_equals_window_of_full_render_bit_for_bit():
    mesh = meshes.car(subdivisions=1)
    cam = _camera(eye=[2.0, 2.5, 6.0])
    full, ff = render(mesh, cam, [[0.3, 0.8, 0.5]], 0.7, 0.2, smooth=True)
    x0, y0, w, h = 9, 21, 37, 25
    crop, fc = render(mesh, cam.crop(x0, y0, w, h), [[0.3, 0.8, 0.5]], 0.7, 0.2, smooth=True)
    assert torch.equal(fc.face, ff.face[y0:y0 + h, x0:x0 + w])
    assert torch.equal(crop, full[y0:y0 + h, x0:x0 + w])
    assert torch.equal(fc.bary, ff.bary[y0:y0 + h, x0:x0 + w])
    sil_full = soft_silhouette(mesh, cam)
    sil_crop = soft_silhouette(mesh, cam.crop(x0, y0, w, h))
    # the soft silhouette's outer-contour test probes beside each edge's midpoint, which
    # may fall outside the window: it may differ within the soft edge's reach of the
    # window's border (sqrt(sigma) ln(1 / eps) = 6.5 pixels here)
    b = 7
    assert torch.allclose(sil_crop[b:-b, b:-b], sil_full[y0 + b:y0 + h - b, x0 + b:x0 + w - b],
                          atol=1e-6)
    k = cam.crop(x0, y0, w, h).K_window
    assert float(k[0, 2]) == pytest.approx(31.5 - x0) and float(k[1, 2]) == pytest.approx(31.5 - y0)


def test_chunking_does_not_change_the_result():
    mesh = meshes.sphere(subdivisions=3)
    cam = _camera()
    a = rasterize(mesh, cam)
    b = rasterize(mesh, cam, max_pairs=500)
    assert torch.equal(a.face, b.face) and torch.equal(a.bary, b.bary)


def test_depth_and_barycentrics_are_perspective_correct():
    """A tilted quad: the interpolated 3D point must lie on each pixel's ray."""
    v = torch.tensor([[-1.0, -1.0, 0.5], [1.0, -1.0, -0.5], [1.0, 1.0, -0.5], [-1.0, 1.0, 0.5]],
                     dtype=torch.float64)
    mesh = Mesh.create(v, [[0, 1, 2], [0, 2, 3]], dtype=torch.float64)
    cam = _camera(size=48, dist=3.0, f=40.0, dtype=torch.float64)
    fr = rasterize(mesh, cam)
    assert fr.mask.sum() > 500
    rows, cols = torch.nonzero(fr.mask, as_tuple=True)
    corners = cam.to_camera(v)[mesh.faces[fr.face[rows, cols]]]  # (P, 3, 3)
    point = (fr.bary[rows, cols].unsqueeze(-1) * corners).sum(1)
    ray = torch.linalg.solve(cam.K, torch.stack([cols.double(), rows.double(),
                                                 torch.ones_like(cols, dtype=torch.float64)]))
    expect = ray.T * fr.depth[rows, cols].unsqueeze(-1)
    assert torch.allclose(point, expect, atol=1e-9)
    assert torch.allclose(point[:, 2], fr.depth[rows, cols], atol=1e-12)
    assert torch.all(fr.bary[rows, cols] >= -1e-12)


def test_z_buffer_keeps_the_nearest_face():
    near = [[-1.0, -1.0, 0.5], [1.0, -1.0, 0.5], [0.0, 1.0, 0.5]]
    far = [[-1.0, -1.0, -0.5], [1.0, -1.0, -0.5], [0.0, 1.0, -0.5]]
    for order in ((near, far), (far, near)):
        v = torch.tensor(order[0] + order[1])
        mesh = Mesh.create(v, [[0, 1, 2], [3, 4, 5]])
        fr = rasterize(mesh, _camera(size=32, dist=3.0, f=30.0))
        want = 0 if order[0] is near else 1
        assert set(fr.face[fr.mask].tolist()) == {want}
        assert torch.allclose(fr.depth[fr.mask], torch.tensor(2.5))


def test_smooth_normals_match_an_analytic_sphere():
    mesh = meshes.sphere(subdivisions=5, dtype=torch.float64)
    cam = _camera(dtype=torch.float64)
    fr = rasterize(mesh, cam)
    n = pixel_normals(mesh, cam, fr, smooth=True)
    rows, cols = torch.nonzero(fr.mask, as_tuple=True)
    # analytic ray-sphere hit in the project frame (camera at z = 4 looking at the origin)
    d = torch.linalg.solve(cam.K, torch.stack([cols.double(), rows.double(),
                                               torch.ones_like(cols, dtype=torch.float64)])).T
    d = d / d.norm(dim=-1, keepdim=True)
    o = torch.tensor([0.0, 0.0, 4.0], dtype=torch.float64)  # sphere centre, camera frame
    b = (d * o).sum(-1)
    disc = b * b - (o * o).sum() + 1.0
    ok = disc > 0.05  # away from the limb, where the polygon and the sphere differ
    s = b[ok] - torch.sqrt(disc[ok])
    hit = d[ok] * s.unsqueeze(-1) - o
    hit = hit * torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)  # OpenCV -> project
    cosang = (hit * n[rows[ok], cols[ok]]).sum(-1).clamp(-1, 1)
    err = torch.rad2deg(torch.arccos(cosang))
    assert err.mean() < 0.2 and err.max() < 1.0


def test_nmr_shading_values_and_frames():
    mesh = meshes.sphere(subdivisions=4)
    cam = _camera()
    img, fr = render(mesh, cam, [[1.0, 0.0, 0.0]], 0.8, 0.1)
    row = img[32, :, 0]
    assert row[40:50].mean() > 0.4 and torch.allclose(row[14:24][fr.mask[32, 14:24]],
                                                      torch.tensor(0.1))  # right side lit
    img, fr = render(mesh, cam, [[0.0, 0.0, 1.0]], 0.8, 0.1)
    assert float(img[32, 32, 0]) == pytest.approx(0.9, abs=2e-3)  # facing the camera
    assert torch.all(img[~fr.mask] == 0)
    # two lights add, RGB intensities give RGB images
    two, _ = render(mesh, cam, [[1.0, 0, 0], [0, 1.0, 0]], torch.tensor([0.5, 0.25]), 0.1)
    a, _ = render(mesh, cam, [[1.0, 0, 0]], 0.5, 0.1)
    b, _ = render(mesh, cam, [[0, 1.0, 0]], 0.25, 0.0)
    assert torch.allclose(two, a + b, atol=1e-6)
    rgb, _ = render(mesh, cam, [[0, 0, 1.0]], torch.tensor([[0.2, 0.5, 0.8]]), 0.0)
    assert rgb.shape == (64, 64, 3)
    # world <-> project light round trip with a rotated camera
    cam2 = _camera(eye=[3.0, 1.0, 2.0])
    lw = torch.tensor([0.2, 0.9, -0.3])
    assert torch.allclose(project_light_to_world(world_light_to_project(lw, cam2), cam2), lw,
                          atol=1e-6)


def test_mesh_io_round_trip(tmp_path):
    mesh = meshes.torus(sections=12, rings=8)
    for ext in ("obj", "ply", "glb"):
        p = tmp_path / f"m.{ext}"
        save_mesh(mesh, p)
        back = load_mesh(p)
        assert back.faces.shape == mesh.faces.shape
        assert torch.allclose(back.vertices, mesh.vertices, atol=1e-5)


def test_bad_mesh_file_is_one_line_error(tmp_path):
    from lambertian.core.errors import InputError

    p = tmp_path / "bad.obj"
    p.write_text("this is not a mesh\n")
    with pytest.raises(InputError) as e:
        load_mesh(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(InputError):
        load_mesh(tmp_path / "missing.ply")


def _tiny_scene():
    v = torch.tensor([[-0.6, -0.5, 0.1], [0.7, -0.4, -0.2], [0.1, 0.6, 0.3], [-0.5, 0.5, -0.3]],
                     dtype=torch.float64)
    faces = [[0, 1, 2], [0, 2, 3]]
    R, t = look_at_pose([0.3, 0.2, 3.0], [0.0, 0.0, 0.0], dtype=torch.float64)
    K = torch.tensor([[14.0, 0, 6.3], [0, 14.0, 5.8], [0, 0, 1]], dtype=torch.float64)
    return v, faces, R, t, K


@pytest.mark.parametrize("smooth", [False, True])
def test_gradcheck_light_vertices_pose(smooth):
    v, faces, R, t, K = _tiny_scene()

    def f(ambient, intensity, dir_param, verts, rot, trans):
        mesh = Mesh(verts, torch.tensor(faces))
        cam = Camera(K, rot, trans, 12, 12)
        d = dir_param / dir_param.norm()  # direction on the sphere
        img, _ = render(mesh, cam, d.reshape(1, 3), intensity, ambient, smooth=smooth)
        return img

    args = (torch.tensor(0.2, dtype=torch.float64), torch.tensor(0.7, dtype=torch.float64),
            torch.tensor([0.3, 0.4, 0.8], dtype=torch.float64), v, R, t)
    args = tuple(a.clone().requires_grad_(True) for a in args)
    assert torch.autograd.gradcheck(f, args, eps=1e-6, atol=1e-5)


def test_gradcheck_soft_silhouette_vertices_and_axis_angle_pose():
    v, faces, R0, t, K = _tiny_scene()

    def f(verts, w, trans):
        cam = Camera(K, axis_angle_to_matrix(w) @ R0, trans, 12, 12)
        return soft_silhouette(Mesh(verts, torch.tensor(faces)), cam, sigma=2.0)

    args = (v.clone(), torch.tensor([0.01, -0.02, 0.03], dtype=torch.float64), t.clone())
    args = tuple(a.requires_grad_(True) for a in args)
    assert torch.autograd.gradcheck(f, args, eps=1e-6, atol=1e-5)
    # the silhouette's 0.5 level is the hard silhouette
    mesh = meshes.car(subdivisions=1)
    cam = _camera(eye=[2.0, 2.5, 6.0])
    assert torch.equal(soft_silhouette(mesh, cam) > 0.5, rasterize(mesh, cam).mask)


def test_axis_angle_matches_scipy():
    from scipy.spatial.transform import Rotation

    w = np.array([0.3, -0.5, 0.2])
    got = axis_angle_to_matrix(torch.tensor(w)).numpy()
    assert np.allclose(got, Rotation.from_rotvec(w).as_matrix(), atol=1e-12)
    assert np.allclose(axis_angle_to_matrix(torch.zeros(3, dtype=torch.float64)).numpy(), np.eye(3))


def test_shadow_maps_cast_shadows_and_ambient_occlusion():
    """A small plate 1 unit above a large one: points under it are shadowed from above
    but lit from the side, and the sky they see is partly hidden."""
    from lambertian.render.shadows import ambient_visibility, light_visibility

    def plate(half, y):  # CCW seen from +y: normal up
        v = [[-half, y, -half], [-half, y, half], [half, y, half], [half, y, -half]]
        return v, [[0, 1, 2], [0, 2, 3]]

    v1, f1 = plate(3.0, 0.0)
    v2, f2 = plate(0.5, 1.0)
    mesh = Mesh.create(v1 + v2, f1 + [[a + 4, b + 4, c + 4] for a, b, c in f2])
    pts = torch.tensor([[0.0, 0.0, 0.0], [0.3, 0.0, -0.2], [2.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    up = torch.tensor([0.0, 1.0, 0.0])
    assert light_visibility(mesh, pts, up).tolist() == [False, False, True, True]
    side = torch.tensor([1.0, 0.2, 0.0])  # low light from +x: the plate's shadow moves
    assert light_visibility(mesh, pts, side).tolist() == [True, True, True, True]
    normals = up.expand(4, 3)
    ao = ambient_visibility(mesh, pts, normals, n_directions=256)
    # under the middle of the plate, it hides the cone of half-angle atan(0.5 / 1) around
    # the normal: cosine-weighted fraction sin^2(26.6 deg) = 0.2 (square plate: a bit more)
    assert 0.7 < float(ao[0]) < 0.85
    assert float(ao[2]) > 0.97 and float(ao[3]) > 0.99
