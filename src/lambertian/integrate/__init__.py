"""From normals to surfaces: depth by normal integration, and meshes.

Methods: :func:`poisson` (masked least squares, orthographic or perspective),
:func:`bilateral` (discontinuity-preserving, Cao et al. 2022) and
:func:`frankot_chellappa` (FFT, full rectangles). :func:`write_depth_outputs` is what
``lambertian ps --depth`` and ``lambertian integrate`` use to write depth and a mesh.
"""

from lambertian.integrate.bilateral import bilateral
from lambertian.integrate.checks import check_camera, check_normals, read_camera
from lambertian.integrate.evaluate import aligned_depth_error
from lambertian.integrate.frankot_chellappa import frankot_chellappa
from lambertian.integrate.mesh import depth_to_mesh, write_ply
from lambertian.integrate.outputs import (
    DEFAULT_METHOD,
    METHODS,
    integrate_normals,
    integrate_to_folder,
    write_depth,
    write_depth_outputs,
)
from lambertian.integrate.poisson import poisson
from lambertian.integrate.result import DepthResult

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "DepthResult",
    "aligned_depth_error",
    "bilateral",
    "check_camera",
    "check_normals",
    "depth_to_mesh",
    "frankot_chellappa",
    "integrate_normals",
    "integrate_to_folder",
    "poisson",
    "read_camera",
    "write_depth",
    "write_depth_outputs",
    "write_ply",
]
