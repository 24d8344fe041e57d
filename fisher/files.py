"""Atomic file writes and the one "read manifest, check format" helper for saved folders.

Atomic writes: write a temporary file in the target folder, then ``os.replace`` it into place.

A reader never sees a half-written file and an interrupted write leaves the previous version intact. Files get the
usual permissions (``0o666`` minus the umask), not ``mkstemp``'s private ``0o600``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_path", "atomic_write_text", "read_json_manifest", "write_json_manifest"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_path(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp_path)`` (for writers that want a file name, e.g. safetensors) and move it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[IO[Any]], None], *, binary: bool = False) -> Path:
    """Call ``write(fh)`` on an open temporary file beside ``path`` and atomically rename it to ``path``."""

    def to_file(tmp: str) -> None:
        mode = "wb" if binary else "w"
        with open(tmp, mode, **({} if binary else {"encoding": "utf-8", "newline": ""})) as fh:
            write(fh)

    return atomic_write_path(path, to_file)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    return atomic_write(path, lambda fh: fh.write(text))


def write_json_manifest(path: str | os.PathLike, fmt: str, payload: dict[str, Any]) -> Path:
    """Atomically write ``{"format": fmt, **payload}`` as sorted, indented JSON (the manifest goes last)."""
    return atomic_write_text(path, json.dumps({"format": fmt, **payload}, indent=2, sort_keys=True) + "\n")


def read_json_manifest(path: str | os.PathLike, fmt: str, what: str) -> dict[str, Any]:
    """The JSON manifest of a saved folder after checking its ``format`` tag.

    Args:
        path: the manifest file (``index.json``, ``manifest.json``, ``detector.json``).
        fmt: the expected format tag, e.g. ``"fisher.index/1"``.
        what: what the folder holds, for the error message (``"index"``, ``"detector"``).

    Raises:
        FileNotFoundError: no manifest (the folder is not a saved ``what``).
        ValueError: another format tag.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent} is not a saved {what} (no {path.name})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ValueError(f"{path}: unsupported format {found!r} (expected {fmt!r})")
    return manifest
