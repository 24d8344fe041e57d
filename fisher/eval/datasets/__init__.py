"""Signal datasets: labelled-signal manifests and adapters for known layouts (files are read by :mod:`fisher.signals.reader`)."""

from __future__ import annotations

from fisher.eval.datasets.adapters import CWRU_LABELS, cwru_manifest, folder_manifest
from fisher.eval.datasets.manifest import SignalItem, check_single_sr, read_manifest, write_manifest
from fisher.signals.reader import SIGNAL_EXTENSIONS, read_signal

__all__ = [
    "CWRU_LABELS",
    "SIGNAL_EXTENSIONS",
    "SignalItem",
    "check_single_sr",
    "cwru_manifest",
    "folder_manifest",
    "read_manifest",
    "read_signal",
    "write_manifest",
]
