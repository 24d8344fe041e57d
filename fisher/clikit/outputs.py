"""Check a command's output paths before the work starts, so a typo in ``--figure`` or ``--out`` cannot throw away a
finished computation.

:func:`check_output_file` and :func:`check_output_dir` create nothing that stays: they find the deepest existing
folder of the path (missing parent folders are created later by the atomic writers of :mod:`fisher.files`) and probe
it with a temporary file, which works for read-only folders, full disks' permission errors, read-only mounts and
``/proc``-like file systems alike.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["check_output_dir", "check_output_file"]


def _existing_ancestor(path: Path, option: str) -> Path:
    """The deepest existing ancestor of ``path``; ``ValueError`` if it is not a folder."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: cannot create it, {parent} is a file, not a folder")
    return parent


def _probe(folder: Path, path: Path, option: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".fisher-write-check.", dir=folder)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ValueError(f"{option} {path}: cannot write in {folder} ({reason}); choose a writable location") from None
    os.close(fd)
    os.unlink(tmp)


def check_output_file(path: str | os.PathLike, option: str) -> Path:
    """Check that the file ``path`` (named by the command-line ``option``) can be written; return it as a ``Path``.

    Raises:
        ValueError: the path is empty or an existing folder, a parent is a file, or its folder is not writable.
    """
    if not str(path).strip():
        raise ValueError(f"{option}: empty file name")
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder; give a file name inside it")
    _probe(_existing_ancestor(path, option), path, option)
    return path


def check_output_dir(path: str | os.PathLike, option: str) -> Path:
    """Check that the folder ``path`` exists as a folder or can be created, and is writable; return it.

    Raises:
        ValueError: the path is empty or an existing file, a parent is a file, or it is not writable.
    """
    if not str(path).strip():
        raise ValueError(f"{option}: empty folder name")
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path}: is a file, not a folder")
    folder = path if path.is_dir() else _existing_ancestor(path, option)
    _probe(folder, path, option)
    return path
