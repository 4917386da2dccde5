"""``lambertian fit``, second fuzz round: meshes and JSON files that parse but cannot be
rendered (face indices outside the vertices, negative ones that torch would wrap, only
zero-area triangles, numbers beyond float range, nesting deeper than the decoder
recurses), and a scene object's error that must name its SCENE.json. Each is one line
naming the file, exit 2, never "unexpected ..."."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.core.errors import InputError
from lambertian.io.apollocar import read_car_mesh
from lambertian.io.scene_json import is_scene_file, read_scene
from lambertian.render.mesh import load_mesh

POSE = np.hstack([np.eye(3), [[0.0], [0.0], [4.0]]])
TRIANGLE = [[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 1.0, 0.0]]


def _ply(path: Path, vertices: list, faces: list) -> Path:
    head = ("ply\nformat ascii 1.0\n"
            f"element vertex {len(vertices)}\nproperty float x\nproperty float y\n"
            f"property float z\nelement face {len(faces)}\n"
            "property list uchar int vertex_indices\nend_header\n")
    path.write_text(head + "".join(" ".join(map(str, v)) + "\n" for v in vertices)
                    + "".join("3 " + " ".join(map(str, f)) + "\n" for f in faces))
    return path


def _world(tmp_path: Path) -> dict[str, Path]:
    """A photo with shading, a full mask, K.txt and POSE.txt (a mesh at z = 4 fills it)."""
    ramp = np.add.outer(np.arange(24), np.arange(24)) * 4 + 20
    cv2.imwrite(str(tmp_path / "photo.png"), ramp.astype(np.uint8))
    cv2.imwrite(str(tmp_path / "mask.png"), np.full((24, 24), 255, np.uint8))
    np.savetxt(tmp_path / "K.txt", [[60, 0, 12], [0, 60, 12], [0, 0, 1]])
    np.savetxt(tmp_path / "pose.txt", POSE)
    return {k: tmp_path / f for k, f in (("photo", "photo.png"), ("mask", "mask.png"),
                                          ("K", "K.txt"), ("pose", "pose.txt"))}


def _fit_refused(capsys, tmp_path: Path, mesh: Path, culprit: Path | str,
                 scene: bool = False, pose: Path | None = None) -> str:
    w = _world(tmp_path)
    out = tmp_path / "out"
    argv = ["fit", str(mesh), str(w["photo"]), "--mask", str(w["mask"]), "--camera",
            str(w["K"]), "--steps", "2", "--out", str(out)]
    if not scene:
        argv += ["--pose", str(pose or w["pose"])]
    capsys.readouterr()
    assert main(argv) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines()
             if ln.strip() and not ln.startswith("fit:")]
    assert len(lines) == 1 and str(culprit) in lines[0], lines
    assert "unexpected" not in lines[0] and not out.exists()
    return lines[0]


@pytest.mark.parametrize("face, said", [([0, 1, 999], "faces index vertices"),
                                        ([0, 1, -2], "faces index vertices")])
def test_face_indices_outside_the_vertices_are_refused(tmp_path, capsys, face, said):
    # before: an IndexError inside the renderer ("unexpected IndexError"), and a negative
    # index was silently wrapped to the last vertices by torch
    mesh = _ply(tmp_path / "m.ply", TRIANGLE + [[0.0, 0.0, 0.5]], [[0, 1, 2], face])
    with pytest.raises(InputError, match=said):
        load_mesh(mesh)
    _fit_refused(capsys, tmp_path, mesh, mesh)


def test_a_mesh_of_only_zero_area_triangles_is_refused_naming_it(tmp_path, capsys):
    # before: "mask.png: the mesh at this pose covers fewer than 10 mask pixels"
    mesh = tmp_path / "flat.obj"
    mesh.write_text("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\nf 1 1 2\n")
    with pytest.raises(InputError, match="zero area"):
        load_mesh(mesh)
    _fit_refused(capsys, tmp_path, mesh, mesh)


@pytest.mark.parametrize("text, said", [
    ('{"vertices": [[' + "1" * 500 + ', 0, 0], [1, 0, 0], [0, 1, 0]], "faces": [[1, 2, 3]]}',
     "not a rectangular array of numbers"),
    ('{"vertices": [[0, 0, 0], [1, 0, 0], [0, 1, 0]], "faces": [[1, 2, ' + "9" * 30 + "]]}",
     "not vertex indices"),
    ('{"vertices": ' + "[" * 50000 + "]" * 50000 + ', "faces": []}', "cannot read"),
])
def test_car_json_numbers_beyond_reach_are_refused(tmp_path, capsys, text, said):
    # before: "unexpected OverflowError / TypeError / RecursionError"
    mesh = tmp_path / "car.json"
    mesh.write_text(text)
    with pytest.raises(InputError, match=said) as err:
        read_car_mesh(mesh)
    assert str(err.value).startswith(str(mesh))
    _fit_refused(capsys, tmp_path, mesh, mesh)


@pytest.mark.parametrize("text", [
    '{"objects": ' + "[" * 100000 + "]" * 100000 + "}",
    json.dumps({"objects": [{"mesh": "m.obj", "pose": [[10**400] * 4] * 3}]}),
])
def test_scene_json_that_overflows_the_decoder_is_refused(tmp_path, capsys, text):
    # before: "unexpected RecursionError" / "unexpected OverflowError", naming no file
    scene = tmp_path / "scene.json"
    scene.write_text(text)
    with pytest.raises(InputError) as err:
        is_scene_file(scene) and read_scene(scene)
    assert str(err.value).startswith(str(scene))
    _fit_refused(capsys, tmp_path, scene, scene, scene=True)


def test_a_scene_objects_error_names_the_scene_file(tmp_path, capsys):
    trimesh = pytest.importorskip("trimesh")
    trimesh.creation.icosphere(1).export(tmp_path / "m.obj")
    scene = tmp_path / "scene.json"
    # the second copy hides the first entirely: the first covers no pixel of its own
    obj = {"mesh": "m.obj", "pose": POSE.tolist()}
    scene.write_text(json.dumps({"objects": [obj, obj]}))
    line = _fit_refused(capsys, tmp_path, scene, f"{scene}: object 0", scene=True)
    assert "covers fewer than 10" in line


def test_a_pose_behind_the_camera_names_the_pose_file(tmp_path, capsys):
    # before: "mask.png: the mesh at this pose covers fewer than 10 mask pixels"
    trimesh = pytest.importorskip("trimesh")
    mesh = tmp_path / "m.obj"
    trimesh.creation.icosphere(1).export(mesh)
    behind = tmp_path / "behind.txt"
    np.savetxt(behind, np.hstack([np.eye(3), [[0.0], [0.0], [-4.0]]]))
    line = _fit_refused(capsys, tmp_path, mesh, behind, pose=behind)
    assert "behind the camera" in line
