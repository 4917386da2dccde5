"""``lambertian fit``: every file the command reads counts as an input for the output check
(a SCENE.json's meshes and masks, a mesh's material and texture files), so an OUT that holds
one is refused with one line, exit 2, before any work, and nothing is deleted."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.fit.inputs import mesh_files
from lambertian.io.output_dir import MARKER

TRIANGLE = "v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nf 1/1 2/2 3/3\n"
POSE = np.hstack([np.eye(3), [[0.0], [0.0], [5.0]]])


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _setup(tmp_path: Path) -> None:
    """A photo, a mask, K.txt, and an earlier fit output folder ``out`` that also holds a
    mesh and a mask the user keeps there."""
    cv2.imwrite(str(tmp_path / "photo.png"), np.full((16, 16), 128, np.uint8))
    cv2.imwrite(str(tmp_path / "mask.png"), np.full((16, 16), 255, np.uint8))
    np.savetxt(tmp_path / "K.txt", [[20, 0, 7.5], [0, 20, 7.5], [0, 0, 1]])
    np.savetxt(tmp_path / "pose.txt", POSE)
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text("earlier\n")
    (out / "fit.json").write_text("{}\n")
    (out / "mesh.obj").write_text(TRIANGLE)
    cv2.imwrite(str(out / "mask.png"), np.full((16, 16), 255, np.uint8))
    (tmp_path / "mesh.obj").write_text(TRIANGLE)


def _refused(tmp_path: Path, capsys, argv: list[str], name: str) -> None:
    """The command exits 2 with one line naming --out and the input ``name``; no file
    under ``tmp_path`` changed."""
    before = _snapshot(tmp_path)
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "\n" not in err and "--out" in err and name in err, err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("mesh, mask, name", [("out/mesh.obj", "mask.png", "mesh.obj"),
                                              ("mesh.obj", "out/mask.png", "mask.png")])
def test_fit_scene_file_inside_out_is_refused_and_kept(tmp_path, capsys, mesh, mask, name):
    """A mesh or a mask the scene names, kept inside OUT."""
    _setup(tmp_path)
    scene = {"objects": [{"mesh": mesh, "pose": POSE.tolist(), "mask": mask}]}
    (tmp_path / "scene.json").write_text(json.dumps(scene))
    _refused(tmp_path, capsys, ["fit", str(tmp_path / "scene.json"), str(tmp_path / "photo.png"),
                                "--camera", str(tmp_path / "K.txt"),
                                "--out", str(tmp_path / "out")], name)


def test_fit_mesh_texture_inside_out_is_refused_and_kept(tmp_path, capsys):
    """trimesh reads an OBJ's material library and its textures: they are inputs too."""
    _setup(tmp_path)
    (tmp_path / "out" / "mat.mtl").write_text("newmtl m\nKd 1 1 1\nmap_Kd -s 1 1 1 tex.png\n")
    cv2.imwrite(str(tmp_path / "out" / "tex.png"), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "mesh.obj").write_text("mtllib out/mat.mtl\nusemtl m\n" + TRIANGLE)
    _refused(tmp_path, capsys, ["fit", str(tmp_path / "mesh.obj"), str(tmp_path / "photo.png"),
                                "--mask", str(tmp_path / "mask.png"),
                                "--camera", str(tmp_path / "K.txt"),
                                "--pose", str(tmp_path / "pose.txt"),
                                "--out", str(tmp_path / "out")], "mat.mtl")


def test_mesh_files_lists_materials_textures_and_gltf_buffers(tmp_path):
    (tmp_path / "a.mtl").write_text("# c\nnewmtl m\nmap_Kd t.png\nbump -bm 1 b.png\n")
    (tmp_path / "a.obj").write_text("mtllib a.mtl\n" + TRIANGLE)
    assert mesh_files(tmp_path / "a.obj") == [tmp_path / n for n in
                                              ("a.obj", "a.mtl", "t.png", "b.png")]
    gltf = {"buffers": [{"uri": "a%20b.bin"}, {"uri": "data:application/octet-stream;base64,"}],
            "images": [{"uri": "tex.png"}]}
    (tmp_path / "s.gltf").write_text(json.dumps(gltf))
    assert mesh_files(tmp_path / "s.gltf") == [tmp_path / n for n in
                                               ("s.gltf", "a b.bin", "tex.png")]
    assert mesh_files(tmp_path / "missing.obj") == [tmp_path / "missing.obj"]
