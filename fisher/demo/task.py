"""The ``fisher demo`` detection task: a labelled set of clips split into a memory bank and a scored test set.

Two sources share one shape (:class:`LabelledClips`):

* :func:`synthetic_task` — the default, generated offline in seconds: gearbox-bearing vibration under changing
  operating conditions (:func:`fisher.signals.synth.bearing_signal`), outer-race faults 9 dB below the background.
  Calibrated so that the weight-free ``logstft`` baseline reaches AUC 0.805 at the defaults (48 kHz, 20 bank clips,
  20 + 20 test clips, 2 s, seed 0; 0.63–0.85 over seeds 0–7); ``tests/test_demo.py`` pins it to 0.6–0.9.
* :func:`fisher.demo.data.folder_task` — the user's own files (``fisher demo --data DIR``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fisher.signals.synth import BPFO, SHAFT_HZ, bearing_signal
from fisher.signals.validate import check_sr

__all__ = ["DEFAULT_SNR_DB", "MIN_AUC_CLIPS", "LabelledClips", "auc_caveat", "synthetic_task"]

DEFAULT_SNR_DB = -9.0  # fault-to-background RMS ratio of the default task (calibrated, see the module docstring)
# Fewest scored clips of each class (normal and anomalous) for an AUC worth reading: with 5 + 5 clips the AUC moves
# in steps of 0.04 and one clip swings it by up to 0.2; below that the demo warns on screen and on the figure.
MIN_AUC_CLIPS = 5


@dataclass
class LabelledClips:
    """Clips to embed, with labels and the bank / test split.

    Attributes:
        sr: sampling rate in Hz (one rate for all clips: embedding sizes depend on it).
        names: ``[N]`` clip names (file paths for user data). labels: ``[N]`` 0 = normal, 1 = anomalous.
        classes: ``[N]`` class names ("normal", "fault" or the anomaly folder name). split: ``[N]`` "train" (bank)
            or "test". task: JSON-ready description (printed and returned by ``--json``).
        load: ``load(i) -> [n_i] float32`` the samples of clip ``i`` (clips are produced on demand).
    """

    sr: float
    names: list[str]
    labels: np.ndarray
    classes: list[str]
    split: list[str]
    task: dict[str, Any]
    load: Callable[[int], np.ndarray] = field(repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self.load(i) for i in range(len(self)))

    @property
    def counts(self) -> dict[str, int]:
        """``{"bank": ..., "test_normal": ..., "test_anomaly": ...}``."""
        test = np.array([s == "test" for s in self.split])
        return {
            "bank": int((~test).sum()),
            "test_normal": int((test & (self.labels == 0)).sum()),
            "test_anomaly": int((test & (self.labels == 1)).sum()),
        }


def auc_caveat(counts: dict[str, int], minimum: int = MIN_AUC_CLIPS) -> str | None:
    """A warning when ``counts`` (:attr:`LabelledClips.counts`) has fewer than ``minimum`` scored clips of a class."""
    normal, anomalous = counts["test_normal"], counts["test_anomaly"]
    if normal >= minimum and anomalous >= minimum:
        return None
    return (
        f"only {anomalous} anomalous and {normal} normal test clip(s) are scored; an AUC needs at least "
        f"{minimum} of each to mean much (one clip moves it by up to {1 / max(1, min(normal, anomalous)):.2f})"
    )


def describe_synthetic(snr_db: float) -> str:
    """One-paragraph description of the synthetic task (printed by ``fisher demo``)."""
    return (
        f"gearbox-bearing vibration, shaft {SHAFT_HZ:g} Hz ± 10 %, random load (shifts the structural "
        f"resonances), sensor gain ± 6 dB, background machinery noise, hum and random impacts; faulty clips add "
        f"outer-race impulses at {BPFO:g}× shaft speed, {-snr_db:g} dB below the background"
    )


def synthetic_task(
    sr: float, *, clips: int = 20, seconds: float = 2.0, snr_db: float = DEFAULT_SNR_DB, seed: int = 0
) -> LabelledClips:
    """The default demo task at ``sr`` Hz: ``clips`` normal bank clips, ``clips`` normal + ``clips`` faulty test clips.

    Clip ``i`` of each group uses its own seed (bank ``seed·10⁴ + i``, test normal ``+ 1000``, faulty ``+ 2000``), so
    the clips are independent operating points and the same ``seed`` gives the same task.
    """
    sr = check_sr(sr)
    if isinstance(clips, bool) or not isinstance(clips, (int, np.integer)) or clips < 1:
        raise ValueError(f"clips must be a positive integer, got {clips!r}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    groups = (("bank", 0, False), ("normal", 1000, False), ("fault", 2000, True))
    specs = [(f"{g}-{i:03d}", seed * 10_000 + off + i, fault) for g, off, fault in groups for i in range(clips)]
    labels = np.array([int(fault) for _, _, fault in specs])
    task = {
        "name": "synthetic-bearing",
        "sr": sr,
        "seconds": seconds,
        "snr_db": snr_db,
        "seed": seed,
        "bank": clips,
        "test_normal": clips,
        "test_anomaly": clips,
        "description": describe_synthetic(snr_db),
    }

    def load(i: int) -> np.ndarray:
        _, s, fault = specs[i]
        return bearing_signal(sr, seconds, fault=fault, snr_db=snr_db, seed=s)

    return LabelledClips(
        sr=sr,
        names=[name for name, _, _ in specs],
        labels=labels,
        classes=["fault" if f else "normal" for _, _, f in specs],
        split=["train"] * clips + ["test"] * (2 * clips),
        task=task,
        load=load,
    )
