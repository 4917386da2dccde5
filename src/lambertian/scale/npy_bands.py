"""Write a large ``.npy`` file band by band, without holding it in memory.

NumPy's ``open_memmap`` would do, but the pages it dirties count toward the process's
resident memory until the kernel writes them back; plain positioned writes keep the
footprint at one band.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lambertian.io.partial_file import PartialFile


class NpyBandWriter(PartialFile):
    """A C-ordered ``.npy`` array of ``shape`` filled by row bands ``[r0, r1)``.

    The file appears under its final name only on :meth:`close` (written as
    ``<name>.partial`` until then), so a reader never sees a half-written array.
    """

    def __init__(self, path: str | os.PathLike[str], shape: tuple[int, ...],
                 dtype: np.dtype | str = np.float32) -> None:
        super().__init__(path)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        np.lib.format.write_array_header_1_0(
            self._f, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                      "fortran_order": False, "shape": self.shape})
        self._offset = self._f.tell()
        self._row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._f.truncate(self._offset + self._row_bytes * self.shape[0])  # zeros, sparse

    def write(self, r0: int, band: np.ndarray) -> None:
        """Write rows ``r0 .. r0 + len(band)``."""
        band = np.ascontiguousarray(band, dtype=self.dtype)
        if band.shape[1:] != self.shape[1:] or r0 + band.shape[0] > self.shape[0]:
            raise ValueError(f"band of shape {band.shape} at row {r0} does not fit {self.shape}")
        self._f.seek(self._offset + r0 * self._row_bytes)
        self._f.write(band.tobytes())

    def close(self) -> Path:
        return self.commit()

    def __enter__(self) -> NpyBandWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_npy_rows(path: str | os.PathLike[str], r0: int, r1: int) -> np.ndarray:
    """Rows ``[r0, r1)`` of a C-ordered ``.npy`` file, read without mapping the rest."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(f)
        if fortran:
            raise ValueError(f"{path}: Fortran-ordered arrays are not supported")
        row = int(np.prod(shape[1:], dtype=np.int64))
        f.seek(f.tell() + r0 * row * dtype.itemsize)
        data = np.fromfile(f, dtype=dtype, count=(r1 - r0) * row)
    return data.reshape((r1 - r0, *shape[1:]))
