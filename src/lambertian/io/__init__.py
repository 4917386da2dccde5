"""Readers and writers of real capture formats; every reader returns a :class:`Capture`.

Layouts: DiLiGenT, UW psm, Yale B subject folders, the CMU face, and a generic folder of
images with ``lights.txt``. :func:`read_capture` detects which one a path holds.
"""

from lambertian.io.capture import Capture
from lambertian.io.cmu_face import read_cmu_face
from lambertian.io.data_root import data_root
from lambertian.io.detect import capture_files, detect_layout, read_capture
from lambertian.io.diligent import read_diligent
from lambertian.io.exr import read_exr, write_exr
from lambertian.io.folder import read_folder
from lambertian.io.images import read_image, read_mask
from lambertian.io.psm import read_psm
from lambertian.io.writers import (
    read_normal_png,
    write_albedo_png,
    write_diligent,
    write_normal_png,
)
from lambertian.io.yaleb import read_yaleb

__all__ = [
    "Capture",
    "capture_files",
    "data_root",
    "detect_layout",
    "read_capture",
    "read_cmu_face",
    "read_diligent",
    "read_exr",
    "read_folder",
    "read_image",
    "read_mask",
    "read_normal_png",
    "read_psm",
    "read_yaleb",
    "write_albedo_png",
    "write_diligent",
    "write_exr",
    "write_normal_png",
]
