"""Manifests for known folder layouts: the CWRU bearing ``.npz`` files and generic ``<label>/<file>`` folders.

CWRU (``../shared/data/cwru_12k_drive_end``): files ``<fault><mils>[at<clock>]_<load>[_48k].npz`` with arrays ``DE``
(drive end) and ``FE`` (fan end) in g and ``fs``. Labels: ``IR`` -> ``inner_race``, ``B`` -> ``ball``, ``OR`` ->
``outer_race``, ``Normal`` -> ``normal``. ``group`` = the recording (file stem), so both channels of a recording stay
on the same side of a split. ``meta``: ``load_hp``, ``diameter_mils`` (0 for normal), ``position`` (e.g. ``"6"``).
"""

from __future__ import annotations

import re
from pathlib import Path

from fisher.eval.datasets.manifest import SignalItem
from fisher.signals.reader import SIGNAL_EXTENSIONS

__all__ = ["CWRU_LABELS", "cwru_manifest", "folder_manifest"]

CWRU_LABELS = {"IR": "inner_race", "B": "ball", "OR": "outer_race", "Normal": "normal"}
_CWRU_RE = re.compile(
    r"^(?:(?P<fault>IR|B|OR)(?P<mils>\d{3})(?:at(?P<pos>\d+))?|Normal)_(?P<load>\d)(?:_(?P<k>\d+)k)?$"
)


def cwru_manifest(
    root: str | Path, *, channels: tuple[str, ...] = ("DE",), include_normal: bool = False
) -> list[SignalItem]:
    """One item per (recording, channel) of the CWRU ``.npz`` files in ``root``, sorted by file name.

    Args:
        channels: any of ``"DE"``, ``"FE"``.
        include_normal: also list the healthy recording(s) (``Normal_0_48k`` is sampled at 48 kHz, the fault files at
            12 kHz: resample before mixing them).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CWRU folder not found: {root}")
    bad = [c for c in channels if c not in ("DE", "FE")]
    if bad or not channels:
        raise ValueError(f"CWRU channels must be among 'DE', 'FE', got {channels!r}")
    items = []
    for path in sorted(root.glob("*.npz")):
        m = _CWRU_RE.match(path.stem)
        if m is None:
            raise ValueError(f"unknown CWRU file name {path.name!r}: expected e.g. IR007_0.npz, OR014at6_2.npz")
        fault = m["fault"] or "Normal"
        if fault == "Normal" and not include_normal:
            continue
        meta = {"load_hp": int(m["load"]), "diameter_mils": int(m["mils"] or 0), "position": m["pos"] or ""}
        for ch in channels:
            items.append(SignalItem(path, CWRU_LABELS[fault], path.stem, ch, None, dict(meta)))
    if not items:
        raise ValueError(f"no CWRU recordings found in {root}")
    return items


def folder_manifest(root: str | Path, *, extensions: tuple[str, ...] = SIGNAL_EXTENSIONS) -> list[SignalItem]:
    """Items for a ``root/<label>/<file>`` layout: label = sub-folder name, group = file stem (one recording per
    file), sorted by path. Example: ``../shared/data/uav_propeller_cw`` (labels normal, 1_broken, ...)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root}")
    exts = tuple(e.lower() for e in extensions)
    items = [
        SignalItem(p, p.parent.name, f"{p.parent.name}/{p.stem}")
        for p in sorted(root.glob("*/*"))
        if p.is_file() and p.suffix.lower() in exts
    ]
    if not items:
        raise ValueError(f"no signal files ({', '.join(exts)}) in sub-folders of {root}")
    return items
