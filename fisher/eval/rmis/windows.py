"""Cutting signals into model windows (RMIS ``im.py``) and into fixed-length segments (RMIS preprocessing).

* :func:`rmis_windows` - one clip -> ``[W, L]`` windows of ``window_s`` seconds, hop = window. The mean is removed
  first; a clip not longer than the window is one window, zero-padded to ``L`` (``pad=True``) or kept as is;
  longer clips give consecutive full windows from t = 0 plus one window aligned to the clip end when the leftover is
  at least ``min_last`` (5 %) of a window (a 12 s clip gives [0, 10] s and [2, 12] s).
* :func:`segments` - a long recording -> consecutive ``seconds``-long segments; a trailing remainder longer than
  ``keep_last`` of a segment becomes one more segment taken as the last ``seconds`` of the recording.
"""

from __future__ import annotations

import numpy as np

from fisher.signals.validate import check_sr

__all__ = ["rmis_windows", "segments"]


def _length(seconds: float, sr: float, name: str) -> int:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {seconds!r}")
    n = round(float(seconds) * sr)
    if n < 1:
        raise ValueError(f"{name} = {seconds} s is shorter than one sample at {sr:g} Hz")
    return n


def rmis_windows(x: np.ndarray, sr: float, window_s: float = 10.0, *, pad: bool = True, min_last: float = 0.05) -> list:
    """Windows of one 1-D clip (float32 arrays of ``round(window_s * sr)`` samples; see the module doc)."""
    sr = check_sr(sr)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty 1-D signal, got shape {x.shape}")
    x = x - x.mean(dtype=np.float64).astype(np.float32)
    size = _length(window_s, sr, "window_s")
    if x.size <= size:
        return [np.pad(x, (0, size - x.size)) if pad else x]
    starts = list(range(0, x.size - size + 1, size))
    leftover = x.size - (starts[-1] + size)
    if leftover >= min_last * size:
        starts.append(x.size - size)
    return [x[s : s + size] for s in starts]


def segments(x: np.ndarray, sr: float, seconds: float, *, keep_last: float = 0.5) -> list:
    """Fixed-length segments of a recording (a recording not longer than ``seconds`` is one segment)."""
    sr = check_sr(sr)
    x = np.asarray(x)
    size = _length(seconds, sr, "seconds")
    if x.size <= size:
        return [x]
    starts = list(range(0, x.size - size + 1, size))
    if x.size - (starts[-1] + size) > keep_last * size:
        starts.append(x.size - size)
    return [x[s : s + size] for s in starts]
