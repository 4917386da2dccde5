"""Readers and writers of real capture formats; every reader returns a :class:`Capture`.

Layouts: DiLiGenT, UW psm, Yale B subject folders, the CMU face, and a generic folder of
images with ``lights.txt``. :func:`read_capture` detects which one a path holds.

The exports load lazily (:mod:`lambertian.core.lazy`): the readers pull in the image
libraries, about 35 MB of resident memory, which a command that only writes JSON (the
spheres experiment, through :mod:`lambertian.io.json_file`) should not pay for.
"""

from lambertian.core.lazy import lazy_exports

lazy_exports(__name__, {
    "Capture": "lambertian.io.capture",
    "capture_files": "lambertian.io.detect",
    "data_root": "lambertian.io.data_root",
    "detect_layout": "lambertian.io.detect",
    "read_capture": "lambertian.io.detect",
    "read_cmu_face": "lambertian.io.cmu_face",
    "read_diligent": "lambertian.io.diligent",
    "read_exr": "lambertian.io.exr",
    "read_folder": "lambertian.io.folder",
    "read_image": "lambertian.io.images",
    "read_mask": "lambertian.io.images",
    "read_normal_png": "lambertian.io.writers",
    "read_psm": "lambertian.io.psm",
    "read_yaleb": "lambertian.io.yaleb",
    "write_albedo_png": "lambertian.io.writers",
    "write_diligent": "lambertian.io.writers",
    "write_exr": "lambertian.io.exr",
    "write_normal_png": "lambertian.io.writers",
})
