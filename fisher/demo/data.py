"""``fisher demo --data``: the demo's detection task on the user's own signal files.

Accepted layouts:

* a folder with ``normal/`` and one or more anomaly subfolders (any names, e.g. ``fault/``, ``inner_race/``), each
  holding signal files (searched recursively) in any format :func:`fisher.eval.datasets.read_signal` reads
  (wav / flac / ogg / npz / mat); other files are ignored;
* a manifest CSV (:func:`fisher.eval.datasets.read_manifest`: columns ``path``, ``label``, ``group`` [, ``channel``,
  ``sr``, ``split``]) — label ``normal`` is normal, any other label is an anomaly class.

A seeded random ``bank_fraction`` of the normal files (whole manifest groups) forms the memory bank; the other normal
files and all anomalous files are scored. A manifest ``split`` column (``train`` / ``test``) overrides this.
All files must share one sampling rate (any rate); the rate is read from the files, nothing is resampled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fisher.demo.task import LabelledClips
from fisher.eval.datasets.manifest import SignalItem, read_manifest
from fisher.signals.reader import SIGNAL_EXTENSIONS, ChannelId, read_signal

__all__ = ["folder_task"]


def _signal_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SIGNAL_EXTENSIONS)


def _items_from_folder(root: Path, channel: ChannelId | None) -> list[SignalItem]:
    normal_dir = root / "normal"
    if not normal_dir.is_dir():
        raise ValueError(
            f"--data {root}: expected a 'normal/' subfolder plus one or more anomaly subfolders "
            "(or a manifest .csv file)"
        )
    items = [SignalItem(p, "normal", str(p), channel) for p in _signal_files(normal_dir)]
    if not items:
        raise ValueError(f"--data {root}: 'normal/' holds no signal files ({', '.join(SIGNAL_EXTENSIONS)})")
    anomaly_dirs = sorted(d for d in root.iterdir() if d.is_dir() and d.name != "normal" and not d.name.startswith("."))
    if not anomaly_dirs:
        raise ValueError(f"--data {root}: no anomaly subfolder next to 'normal/' (e.g. {root / 'fault'})")
    for d in anomaly_dirs:
        files = _signal_files(d)
        if not files:
            raise ValueError(
                f"--data {root}: anomaly folder '{d.name}/' holds no signal files "
                f"({', '.join(SIGNAL_EXTENSIONS)}); remove it or add files"
            )
        items += [SignalItem(p, d.name, str(p), channel) for p in files]
    return items


def _split(items: list[SignalItem], bank_fraction: float, seed: int) -> list[str]:
    """ "train" / "test" per item: a manifest ``split`` column if present, else seeded whole-group bank selection."""
    if any("split" in it.meta for it in items):
        split = [str(it.meta.get("split", "")).strip().lower() for it in items]
        bad = sorted({s for s in split if s not in ("train", "test")})
        if bad:
            raise ValueError(f"manifest column 'split' must be 'train' or 'test' on every row, found {bad}")
        return split
    groups = sorted({it.group for it in items if it.label == "normal"})
    if len(groups) < 2:
        raise ValueError(
            f"need at least 2 normal files (groups) — one for the memory bank and one to score; found {len(groups)}"
        )
    n_bank = min(max(1, round(bank_fraction * len(groups))), len(groups) - 1)
    bank = set(np.random.default_rng(seed).permutation(groups)[:n_bank].tolist())
    return ["train" if it.label == "normal" and it.group in bank else "test" for it in items]


def folder_task(
    path: str | Path, *, bank_fraction: float = 0.5, seed: int = 0, channel: ChannelId | None = None
) -> LabelledClips:
    """The labelled clips of a ``normal/`` + anomaly-folder tree or a manifest CSV (see the module docstring).

    Args:
        path: folder or ``.csv`` manifest. bank_fraction: share of normal files used as the memory bank (0 < f < 1).
        seed: seed of the bank selection. channel: channel to read (index / ``"mean"`` / npz-mat key; manifest
            rows may set their own).
    Raises:
        ValueError: a missing or empty class, a bad split, an unreadable first file, no sampling rate.
    """
    path = Path(path)
    if not 0 < bank_fraction < 1:
        raise ValueError(f"bank_fraction must lie strictly between 0 and 1, got {bank_fraction}")
    if path.is_file() and path.suffix.lower() == ".csv":
        items = read_manifest(path)
        if channel is not None:
            items = [
                it if it.channel is not None else SignalItem(it.path, it.label, it.group, channel, it.sr, it.meta)
                for it in items
            ]
    elif path.is_dir():
        items = _items_from_folder(path, channel)
    else:
        raise ValueError(f"--data {path}: not a folder or a manifest .csv file")
    items = [
        SignalItem(
            it.path,
            "normal" if it.label.strip().lower() == "normal" else it.label,
            it.group,
            it.channel,
            it.sr,
            it.meta,
        )
        for it in items
    ]
    labels = np.array([int(it.label != "normal") for it in items])
    if labels.all() or not labels.any():
        missing = "normal" if labels.all() else "anomalous"
        raise ValueError(f"--data {path}: no {missing} signals; the demo needs both normal and anomalous files")
    split = _split(items, bank_fraction, seed)
    if any(s == "train" and y for s, y in zip(split, labels)):
        raise ValueError("anomalous signals cannot be in the memory bank (split 'train')")
    if "test" not in [s for s, y in zip(split, labels) if y == 0] or "train" not in split:
        raise ValueError("the split needs normal signals both in the memory bank ('train') and scored ('test')")
    first, sr = read_signal(items[0].path, channel=items[0].channel, sr=items[0].sr)

    def load(i: int) -> np.ndarray:
        it = items[i]
        x, rate = (first, sr) if i == 0 else read_signal(it.path, channel=it.channel, sr=it.sr)
        if rate != sr:
            raise ValueError(
                f"{it.path}: sampled at {rate:g} Hz but {items[0].path.name} at {sr:g} Hz; the demo "
                "needs one sampling rate (embedding sizes depend on it): resample or split the data"
            )
        return x

    classes = [it.label for it in items]
    n_train = split.count("train")
    task = {
        "name": "data",
        "path": str(path),
        "sr": sr,
        "seed": seed,
        "bank_fraction": bank_fraction,
        "bank": n_train,
        "test_normal": int(sum(1 for s, y in zip(split, labels) if s == "test" and y == 0)),
        "test_anomaly": int(labels.sum()),
        "classes": {c: classes.count(c) for c in dict.fromkeys(classes)},
        "description": f"your signals from {path}: {len(items)} files at {sr:g} Hz",
    }
    return LabelledClips(
        sr=sr, names=[str(it.path) for it in items], labels=labels, classes=classes, split=split, task=task, load=load
    )
