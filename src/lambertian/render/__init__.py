"""Differentiable mesh renderer on the CPU (PyTorch): camera, hard rasterizer, soft
silhouettes, NMR lighting, mesh IO."""

from lambertian.render.camera import Camera, look_at_pose
from lambertian.render.mesh import Mesh, load_mesh, save_mesh
from lambertian.render.rasterize import Fragments, rasterize
from lambertian.render.shade import pixel_normals, render, shade
from lambertian.render.soft_silhouette import soft_silhouette

__all__ = ["Camera", "Fragments", "Mesh", "load_mesh", "look_at_pose", "pixel_normals",
           "rasterize", "render", "save_mesh", "shade", "soft_silhouette"]
