"""Signal sources for pretraining: find files, list their channels, read sample ranges.

Accepted source entries (mixed freely):

* a file: ``.wav`` / ``.flac`` / ``.ogg`` (``soundfile``), ``.npy``, ``.npz`` or ``.mat``;
* a directory: every such file below it, recursively, in sorted order;
* a glob pattern (``data/**/*.flac``);
* a CSV manifest with a ``path`` column (relative paths resolve against the CSV's folder). A labelled-signal
  manifest of :mod:`fisher.eval.datasets` (columns ``path, label, group`` [+ ``channel``, ``sr``]) is read with
  :func:`fisher.eval.datasets.read_manifest`: labels and groups are ignored, ``channel`` (when set) restricts the row to
  that channel (audio column index or npz key) and ``sr`` is the rate of npz files without one.

Files are read by the one reader, :class:`fisher.signals.reader.SignalFile`, whose rules apply unchanged: every
channel of a file is a separate signal (audio columns; ``.npz`` / ``.mat`` arrays, 2-D ones split along the shorter
axis into ``"key:row"`` channels), the rate comes from the header or a :data:`~fisher.signals.reader.SR_KEYS` entry
(else the manifest's ``sr``, else the ``npz_sr`` fallback), integer PCM is scaled by full scale.
"""

from __future__ import annotations

import csv
import functools
import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fisher.signals.reader import AUDIO_EXTENSIONS, SignalFile

__all__ = ["AUDIO_SUFFIXES", "Entry", "SignalRef", "find_files", "index_signals", "read_signal"]

AUDIO_SUFFIXES = AUDIO_EXTENSIONS
_SUFFIXES = AUDIO_SUFFIXES + (".npz", ".npy", ".mat")


@dataclass(frozen=True)
class SignalRef:
    """One channel of one file: ``channel`` is an int (audio column / npz row) or ``"key"`` / ``"key:row"``."""

    path: str
    channel: int | str
    sr: float
    n_samples: int


@dataclass(frozen=True)
class Entry:
    """A file to read, optionally restricted to one ``channel`` and with a fallback rate ``sr`` (from a manifest)."""

    path: Path
    channel: int | str | None = None
    sr: float | None = None


def _manifest_entries(csv_path: Path) -> list[Entry]:
    with csv_path.open(newline="", encoding="utf-8") as fh:
        columns = [c.strip() for c in (csv.DictReader(fh).fieldnames or [])]
    if "path" not in columns:
        raise ValueError(f"manifest {csv_path} needs a 'path' column, has {columns}")
    if {"label", "group"} <= set(columns):
        from fisher.eval.datasets import read_manifest

        return [Entry(Path(it.path).resolve(), it.channel, it.sr) for it in read_manifest(csv_path)]
    with csv_path.open(newline="", encoding="utf-8") as fh:
        rows = [r["path"].strip() for r in csv.DictReader(fh) if (r.get("path") or "").strip()]
    return [Entry((csv_path.parent / r).resolve()) for r in rows]


def find_files(sources: list[str]) -> list[Entry]:
    """Expand source entries (files, directories, globs, CSV manifests) into de-duplicated file entries."""
    if isinstance(sources, (str, Path)):
        raise TypeError("data sources must be a list of paths, not a single string")
    out: list[Entry] = []
    for entry in sources:
        p = Path(entry)
        if p.suffix.lower() == ".csv" and p.is_file():
            out.extend(_manifest_entries(p))
            continue
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in _SUFFIXES and f.is_file())
        elif p.is_file():
            found = [p]
        elif glob.has_magic(str(entry)):
            found = sorted(Path(f) for f in glob.glob(str(entry), recursive=True) if Path(f).is_file())
        else:
            raise FileNotFoundError(f"data source {entry!r} is neither a file, a directory, a glob nor a CSV")
        out.extend(Entry(Path(f).resolve()) for f in found)
    bad = [e.path for e in out if e.path.suffix.lower() not in _SUFFIXES]
    if bad:
        raise ValueError(f"unsupported signal files (allowed {_SUFFIXES}): {[str(b) for b in bad[:5]]}")
    return list(dict.fromkeys(out))


def index_signals(entries: list[Entry | Path | str], *, npz_sr: float | None = None) -> list[SignalRef]:
    """Every (selected) channel of every file as a :class:`SignalRef` (file order, then channel order)."""
    refs: list[SignalRef] = []
    for e in entries:
        e = e if isinstance(e, Entry) else Entry(Path(e))
        f = SignalFile(e.path, sr=e.sr, default_sr=npz_sr)
        try:
            ids = f.channels if e.channel is None else f.select(e.channel)
            refs.extend(SignalRef(str(e.path), c, f.sr, f.length(c)) for c in ids)
        finally:
            f.close()
    return refs


@functools.lru_cache(maxsize=16)
def _open(path: str, npz_sr: float | None) -> SignalFile:
    return SignalFile(path, default_sr=npz_sr)


def read_signal(ref: SignalRef, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of one channel as float32 ``[stop - start]`` (:meth:`SignalFile.read`)."""
    if not 0 <= start < stop <= ref.n_samples:
        raise ValueError(f"range [{start}, {stop}) outside {ref.path} channel {ref.channel} ({ref.n_samples} samples)")
    return _open(ref.path, ref.sr).read(ref.channel, start, stop)
