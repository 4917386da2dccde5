"""A PNG written band by band (8- or 16-bit grey or RGB), for images too large to hold.

OpenCV and Pillow encode a PNG from one whole array; a 4096 x 4096 16-bit RGB normal map
is 100 MB before the encoder's own copies. The format itself is a zlib stream of rows,
so this writer compresses each band as it comes (filter type 0, big-endian samples, as
the PNG specification requires) and holds only one band.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from lambertian.core.errors import InputError
from lambertian.io.partial_file import PartialFile

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


class PngBandWriter(PartialFile):
    """Write an (H, W) grey or (H, W, 3) RGB PNG from consecutive bands of rows.

    The file appears under its name only when every row has been written (as
    ``<name>.partial`` until then).
    """

    def __init__(self, path: str | os.PathLike[str], height: int, width: int,
                 channels: int = 3, bit_depth: int = 16, level: int = 1) -> None:
        if channels not in (1, 3) or bit_depth not in (8, 16):
            raise InputError(path, f"cannot write a {channels}-channel {bit_depth}-bit PNG")
        super().__init__(path)
        self.height, self.width, self.channels = int(height), int(width), channels
        self.dtype = np.dtype(">u2") if bit_depth == 16 else np.dtype("u1")
        self._rows = 0
        colour_type = 2 if channels == 3 else 0
        self._f.write(_SIGNATURE + _chunk(b"IHDR", struct.pack(
            ">IIBBBBB", self.width, self.height, bit_depth, colour_type, 0, 0, 0)))
        # Run-length matching: about 2x faster than the default strategy on image rows
        # for a few percent more bytes (OpenCV's own PNG writer makes the same choice).
        self._z = zlib.compressobj(level, zlib.DEFLATED, 15, 9, zlib.Z_RLE)

    def write(self, band: np.ndarray) -> None:
        """Append the next rows: (h, W) or (h, W, 3) unsigned integers."""
        b = np.asarray(band)
        expected = (self.width, self.channels) if self.channels == 3 else (self.width,)
        if b.shape[1:] != expected or self._rows + b.shape[0] > self.height:
            raise InputError(self.path, f"band of shape {b.shape} does not fit a "
                                        f"{self.width}x{self.height}x{self.channels} PNG")
        rows = b.astype(self.dtype, copy=False).reshape(b.shape[0], -1).view(np.uint8)
        data = np.zeros((b.shape[0], rows.shape[1] + 1), np.uint8)  # filter byte 0 first
        data[:, 1:] = rows
        out = self._z.compress(data.tobytes())
        if out:
            self._f.write(_chunk(b"IDAT", out))
        self._rows += b.shape[0]

    def close(self) -> Path:
        if self._rows != self.height:
            self.abort()
            raise InputError(self.path, f"only {self._rows} of {self.height} rows written")
        self._f.write(_chunk(b"IDAT", self._z.flush()) + _chunk(b"IEND", b""))
        return self.commit()
