"""Signal sources for pretraining: find files, list their channels, read sample ranges.

Accepted source entries (mixed freely):

* a file: ``.wav`` / ``.flac`` (anything ``soundfile`` reads) or ``.npz``;
* a directory: every such file below it, recursively, in sorted order;
* a glob pattern (``data/**/*.flac``);
* a CSV manifest with a ``path`` column (relative paths resolve against the CSV's folder). A labelled-signal
  manifest of :mod:`fisher.eval.datasets` (columns ``path, label, group`` [+ ``channel``, ``sr``]) is read with
  :func:`fisher.eval.datasets.read_manifest`: labels and groups are ignored, ``channel`` (when set) restricts the row to
  that channel (audio column index or npz key) and ``sr`` is the rate of npz files without one.

Channels: every channel of an audio file is a separate signal. In an ``.npz`` file every numeric 1-D array with at
least 2 samples is one channel and a 2-D array is ``[channels, samples]`` when its first axis is the shorter one
(else ``[samples, channels]``); scalars and strings (metadata) are skipped. The rate of an ``.npz`` file is its
scalar ``fs`` / ``sr`` / ``fs_hz`` / ``sample_rate`` / ``samplerate`` entry, else the ``npz_sr`` fallback.
Audio is float32 (integer PCM scaled by full scale, as :mod:`fisher.signals.validate`).
"""

from __future__ import annotations

import csv
import functools
import glob
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fisher.signals.validate import pcm_to_float

__all__ = ["AUDIO_SUFFIXES", "Entry", "SignalRef", "find_files", "index_signals", "read_signal"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
_SUFFIXES = AUDIO_SUFFIXES + (".npz",)
_SR_KEYS = ("fs", "sr", "fs_hz", "sample_rate", "samplerate")


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


def _npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Array shapes and dtypes of an ``.npz`` without decompressing the data (reads the ``.npy`` headers)."""
    shapes = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".npy"):
                continue
            with zf.open(name) as fh:
                major, _ = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(fh)
            shapes[name[:-4]] = (shape, dtype)
    return shapes


def _npz_signals(path: Path, npz_sr: float | None) -> list[SignalRef]:
    shapes = _npz_shapes(path)
    sr = None
    with np.load(path, allow_pickle=False) as z:
        for key in _SR_KEYS:
            if key in shapes and shapes[key][0] == () and shapes[key][1].kind in "iuf":
                sr = float(z[key])
                break
    sr = sr or npz_sr
    if sr is None or sr <= 0:
        raise ValueError(f"{path}: no sampling rate entry ({'/'.join(_SR_KEYS)}) and no data.npz_sr fallback")
    refs = []
    for key, (shape, dtype) in shapes.items():
        if key in _SR_KEYS or dtype.kind not in "iuf":
            continue
        if len(shape) == 1 and shape[0] >= 2:
            refs.append(SignalRef(str(path), key, sr, shape[0]))
        elif len(shape) == 2:
            rows_are_channels = shape[0] <= shape[1]
            n_ch, n = (shape[0], shape[1]) if rows_are_channels else (shape[1], shape[0])
            refs.extend(SignalRef(str(path), f"{key}:{c}", sr, n) for c in range(n_ch))
    return refs


def index_signals(entries: list[Entry | Path | str], *, npz_sr: float | None = None) -> list[SignalRef]:
    """Every (selected) channel of every file as a :class:`SignalRef` (file order, then channel order)."""
    import soundfile as sf

    refs: list[SignalRef] = []
    for e in entries:
        e = e if isinstance(e, Entry) else Entry(Path(e))
        if e.path.suffix.lower() == ".npz":
            found = _npz_signals(e.path, e.sr or npz_sr)
        else:
            info = sf.info(str(e.path))
            found = [SignalRef(str(e.path), c, float(info.samplerate), int(info.frames)) for c in range(info.channels)]
        if e.channel is not None:
            want = str(e.channel)
            found = [r for r in found if str(r.channel) == want or str(r.channel).split(":")[0] == want]
            if not found:
                raise ValueError(f"{e.path}: no channel {e.channel!r}")
        refs.extend(found)
    return refs


@functools.lru_cache(maxsize=16)
def _npz_array(path: str, key: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        return z[key]


def read_signal(ref: SignalRef, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of one channel as float32 ``[stop - start]``."""
    if not 0 <= start < stop <= ref.n_samples:
        raise ValueError(f"range [{start}, {stop}) outside {ref.path} channel {ref.channel} ({ref.n_samples} samples)")
    if isinstance(ref.channel, str):
        key, _, row = ref.channel.partition(":")
        arr = _npz_array(ref.path, key)
        if row:
            arr = arr[int(row)] if arr.shape[0] <= arr.shape[1] else arr[:, int(row)]
        return pcm_to_float(np.ascontiguousarray(arr[start:stop]))
    import soundfile as sf

    data, _ = sf.read(ref.path, start=start, stop=stop, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data[:, ref.channel])
