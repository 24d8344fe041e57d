"""Header-only probes of signal files (nothing is decoded): ``.npz`` array shapes and a WAV's declared length.

Used by :mod:`fisher.signals.reader` to list a file's signals cheaply and to notice a truncated WAV (libsndfile
silently reads such a file only as far as it goes).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["npz_headers", "wav_declared_frames"]


def npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shapes and dtypes of the arrays of an ``.npz`` from the ``.npy`` headers (nothing is decompressed)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".npy"):
                continue
            with zf.open(name) as fh:
                major, _ = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(fh)
            out[name[:-4]] = (tuple(shape), dtype)
    return out


def wav_declared_frames(path: Path, block_align: int | None = None) -> int | None:
    """Frames the ``data`` chunk header of a RIFF WAV declares (``None``: not RIFF, unknown or streaming size)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            tag, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if tag == b"fmt ":
                fmt = fh.read(size + (size & 1))
                block_align = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else None
                continue
            if tag == b"data":
                if not block_align or size in (0, 0xFFFFFFFF):
                    return None
                return size // block_align
            fh.seek(size + (size & 1), 1)
