"""Labelled-signal manifests: one CSV row per signal file (channel) with its class label and split group.

CSV columns: ``path``, ``label``, ``group`` (required); ``channel`` and ``sr`` (optional); any other column is kept in
``SignalItem.meta``. ``path`` may be relative to the manifest's folder. ``group`` is the unit of sealed splitting:
items of one group (e.g. segments or channels of one recording) always land on the same side of a train/test split.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fisher.files import atomic_write_text
from fisher.signals.reader import SIGNAL_EXTENSIONS, ChannelId, read_signal

__all__ = ["SignalItem", "check_single_sr", "read_manifest", "write_manifest"]

REQUIRED = ("path", "label", "group")


@dataclass(frozen=True)
class SignalItem:
    """One labelled signal: file ``path``, class ``label``, split ``group``, optional ``channel`` / ``sr`` (Hz)."""

    path: Path
    label: str
    group: str
    channel: ChannelId | None = None
    sr: float | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def load(self) -> tuple[np.ndarray, float]:
        """``(samples float32 [N], sr)`` - see :func:`fisher.eval.datasets.read_signal`."""
        return read_signal(self.path, channel=self.channel, sr=self.sr)

    @property
    def key(self) -> str:
        """A string identifying the file and channel (used for caching)."""
        return f"{self.path}::{self.channel}"


def _parse_channel(value: str) -> Any:
    value = value.strip()
    if value == "":
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def read_manifest(path: str | Path, *, check_files: bool = True) -> list[SignalItem]:
    """Read a manifest CSV. Raises ``ValueError`` for missing columns / empty fields, ``FileNotFoundError`` for
    missing signal files (with ``check_files``)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; a manifest needs {list(REQUIRED)} (+ channel, sr)")
        items = []
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            for c in REQUIRED:
                if not row[c]:
                    raise ValueError(f"{path}, line {line}: empty {c!r}")
            file = Path(row["path"])
            file = file if file.is_absolute() else path.parent / file
            if file.suffix.lower() not in SIGNAL_EXTENSIONS:
                raise ValueError(f"{path}, line {line}: unsupported file type {file.suffix!r} ({SIGNAL_EXTENSIONS})")
            if check_files and not file.is_file():
                raise FileNotFoundError(f"{path}, line {line}: signal file not found: {file}")
            try:
                sr = float(row["sr"]) if row.get("sr") else None
            except ValueError:
                raise ValueError(f"{path}, line {line}: sr must be a number in Hz, got {row['sr']!r}") from None
            meta = {k: v for k, v in row.items() if k not in (*REQUIRED, "channel", "sr")}
            items.append(SignalItem(file, row["label"], row["group"], _parse_channel(row.get("channel", "")), sr, meta))
    if not items:
        raise ValueError(f"{path}: the manifest has no rows")
    return items


def write_manifest(path: str | Path, items: Iterable[SignalItem]) -> Path:
    """Write ``items`` as a manifest CSV (atomically); paths are stored as given."""
    items = list(items)
    extra = sorted({k for it in items for k in it.meta})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*REQUIRED, "channel", "sr", *extra])
    for it in items:
        sr = "" if it.sr is None else f"{it.sr:g}"
        ch = "" if it.channel is None else it.channel
        writer.writerow([str(it.path), it.label, it.group, ch, sr, *[it.meta.get(k, "") for k in extra]])
    return atomic_write_text(path, buf.getvalue())


def check_single_sr(rates: Iterable[float], what: str = "dataset") -> float:
    """Return the common sampling rate or raise ``ValueError`` listing the rates found."""
    found = sorted({float(r) for r in rates})
    if len(found) != 1:
        shown = ", ".join(f"{r:g}" for r in found) or "none"
        raise ValueError(
            f"the {what} mixes sampling rates ({shown} Hz) but one rate is required (embedding sizes depend on the "
            "rate); resample (e.g. resample_to=) or split the dataset"
        )
    return found[0]
