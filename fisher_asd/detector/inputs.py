"""Checks of the detector's call arguments: sampling rate, array layout, clip duration, thresholds, percentiles.

Every entry point of :class:`~fisher_asd.detector.Detector` that takes clips (``fit``, ``embed``, ``score``,
``score_details``, ``decision_function``, ``score_samples``, ``predict``) goes through one function,
:func:`~fisher_asd.detector.data.clip_source`, which calls these checks; the messages name the problem and the fix.

* **Sampling rate** — a positive, finite, whole number of Hz (not ``bool``, not NaN): :func:`check_rate`, the wording
  of ``Fisher.embed`` (:func:`fisher.signals.checks.check_sr`) and of FISHER's STFT framing for non-integers.
* **Channels-last arrays** — a 2-D array whose second axis has at most :data:`MAX_CHANNELS` entries and whose first
  axis is longer is a ``(frames, channels)`` recording (``soundfile.read`` of a DCASE 2026 two-channel clip gives
  ``(160000, 2)``), not a batch of 160,000 clips of 2 samples: :func:`check_not_channels_last` refuses it.
* **Clip duration** — a clip shorter than :data:`MIN_CLIP_SECONDS` is refused instead of being tiled to 10 s.
* **Thresholds** — real, finite numbers (:func:`check_threshold`); percentiles in [0, 100] (:func:`check_percentile`).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from fisher.signals.checks import check_sr

__all__ = [
    "MAX_CHANNELS",
    "MIN_CLIP_SECONDS",
    "check_clip_duration",
    "check_not_channels_last",
    "check_percentile",
    "check_rate",
    "check_threshold",
]

#: A 2-D array with at most this many columns and more rows than columns is read as ``(frames, channels)``.
MAX_CHANNELS = 8
#: Shortest clip the detector accepts, in seconds. BEATs (16 × 16 patches of 10 ms fbank frames) needs ≥ 0.175 s of
#: signal; shorter clips carry too little machine sound to score and would only be tiled up to the fixed clip length.
MIN_CLIP_SECONDS = 0.25


def check_rate(sr: Any, *, name: str = "sr") -> float:
    """``sr`` as a float after checking it is a positive, finite, whole number of Hz.

    Raises:
        TypeError: not a real number (strings, ``None``, ``bool``).
        ValueError: NaN, infinite, zero, negative or not a whole number of Hz.
    """
    value = check_sr(sr, name=name)
    if not value.is_integer():
        raise ValueError(
            f"{name} must be a whole number of Hz for the detector's encoders, got {sr!r}; round it or resample to an "
            "integer rate"
        )
    return value


def check_not_channels_last(shape: tuple[int, ...]) -> None:
    """Refuse a ``(frames, channels)``-looking 2-D shape.

    Mirrors the rule of ``fisher``'s waveform checks: a 2-D array whose second axis is at most :data:`MAX_CHANNELS`
    and whose first axis is longer is a multi-channel recording in soundfile's layout, not a batch of clips.
    """
    if len(shape) != 2:
        return
    rows, cols = int(shape[0]), int(shape[1])
    if cols <= MAX_CHANNELS and rows > cols:
        raise ValueError(
            f"waves has shape {(rows, cols)}, which looks like one recording in (frames, channels) layout "
            f"({rows} frames of {cols} channels), not {rows} clips of {cols} samples. Pass one channel with x[:, 0] "
            "(DCASE 2026: channel 0 = near microphone), the channel mean with x.mean(axis=1), or x.T if the columns "
            "really are separate clips"
        )


def check_clip_duration(n_samples: int, sr: float, where: str) -> None:
    """Refuse a clip shorter than :data:`MIN_CLIP_SECONDS` at ``sr`` Hz (``where`` names the clip)."""
    if n_samples < MIN_CLIP_SECONDS * sr - 1e-9:
        need = math.ceil(MIN_CLIP_SECONDS * sr)
        raise ValueError(
            f"{where} has {n_samples} samples ({n_samples / sr:.4g} s at {sr:g} Hz), shorter than the detector's "
            f"minimum clip duration MIN_CLIP_SECONDS = {MIN_CLIP_SECONDS} s ({need} samples); pass longer clips "
            "(the fixed clip length tiles short clips, it does not invent sound) or check the sampling rate"
        )


def check_threshold(value: Any, *, name: str = "threshold") -> float:
    """A decision threshold as a float: a real, finite number (``TypeError`` / ``ValueError`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number (a fused-score value), got {type(value).__name__}: {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(
            f"{name} must be a finite number, got {value!r}: NaN or infinite thresholds make every decision 0 (or 1); "
            "pass a score value or use percentile="
        )
    return out


def check_percentile(value: Any, *, name: str = "percentile") -> float:
    """A percentile as a float in [0, 100] (``TypeError`` for non-numbers, ``ValueError`` outside / NaN)."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 100], got {type(value).__name__}: {value!r}")
    out = float(value)
    if not 0.0 <= out <= 100.0:
        raise ValueError(f"{name} must be in [0, 100], got {value!r}")
    return out
