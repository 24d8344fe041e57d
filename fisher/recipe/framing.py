"""Torch-free framing arithmetic of the FISHER front end: STFT sizes, frame counts, bands and analysis windows.

Shared by the recipe (:mod:`fisher.recipe.plan`), the torch path (:mod:`fisher.model.bands`) and the torch-free ONNX runtime
(:mod:`fisher.deploy.runtime`), so both validate and window clips identically.

Sampling rates must be a whole number of Hz: ``n_fft = floor(25 ms · sr)`` and ``hop = floor(10 ms · sr)`` are
defined by the official code for integer rates only, and a fractional rate (44100.5) is almost always a bug in the
caller (a ratio, a drifted clock estimate); it is rejected with a ``ValueError`` rather than silently floored.
"""

from __future__ import annotations

import math
from typing import Any

from fisher.signals.checks import check_sr

__all__ = [
    "LONG_MODES",
    "MIN_FRAMES",
    "POOLS",
    "SUMMARY_PARTS",
    "BandShapes",
    "check_min_length",
    "check_options",
    "frame_params",
    "min_samples",
    "num_bands",
    "num_frames",
    "parse_summary",
    "require_samples",
    "summary_dim",
    "window_spans",
]

MIN_FRAMES = 16  # one 16-frame time patch
POOLS = ("concat", "mean", "none")
LONG_MODES = ("chunk", "truncate")
# Per-band token summaries (``summary=``): the CLS output, the mean of the final patch outputs, and the time-pooled
# grid of frequency patches (mean over time of each frequency patch, low → high). Parts join with "+".
SUMMARY_PARTS = ("cls", "mean", "freq")


def _ms_to_samples(ms: float, sr: float) -> int:
    """floor(ms · sr / 1000), computed exactly for integral values (44.1 kHz · 25 ms = 1102.5 → 1102)."""
    if float(ms).is_integer():
        return (int(ms) * int(sr)) // 1000
    return math.floor(ms * sr / 1000.0 + 1e-9)


def frame_params(sr: float, win_ms: float = 25.0, hop_ms: float = 10.0) -> tuple[int, int]:
    """STFT ``(n_fft, hop)`` in samples for sampling rate ``sr`` (Hz): floor(25 ms · sr), floor(10 ms · sr).

    Raises ``ValueError`` for a non-integer ``sr`` or a rate too low for the window.
    """
    sr = check_sr(sr)  # positive whole Hz (the one sampling-rate rule)
    n_fft, hop = _ms_to_samples(win_ms, sr), _ms_to_samples(hop_ms, sr)
    if hop < 1 or n_fft < 2:
        lowest = 1000.0 / min(hop_ms, win_ms / 2)
        raise ValueError(
            f"sr={sr:g} Hz is too low for a {win_ms:g} ms window / {hop_ms:g} ms hop; the lowest rate is {lowest:g} Hz"
        )
    return n_fft, hop


def num_frames(n_samples: int, sr: float, win_ms: float = 25.0, hop_ms: float = 10.0) -> int:
    """STFT frames ``1 + (N - n_fft) // hop`` of a clip of ``n_samples`` (0 if shorter than one window)."""
    n_fft, hop = frame_params(sr, win_ms, hop_ms)
    return 0 if n_samples < n_fft else 1 + (n_samples - n_fft) // hop


def min_samples(sr: float, win_ms: float = 25.0, hop_ms: float = 10.0, frames: int = MIN_FRAMES) -> int:
    """Fewest samples that give ``frames`` STFT frames (16 by default: 2 800 samples = 0.175 s at 16 kHz)."""
    n_fft, hop = frame_params(sr, win_ms, hop_ms)
    return n_fft + (frames - 1) * hop


def num_bands(sr: float, band_width: int, win_ms: float = 25.0) -> int:
    """Sub-bands of ``band_width`` bins at ``sr``: ``max(F, band_width) // band_width`` with ``F = n_fft // 2 + 1``.

    Rates whose spectrum is narrower than one band are zero-padded to one band (sr < 7920 Hz for width 100,
    sr < 3920 Hz for width 50); the residual highest bins beyond the last full band are dropped.
    """
    if isinstance(band_width, bool) or not isinstance(band_width, int) or band_width <= 0:
        raise ValueError(f"band_width must be a positive integer number of bins, got {band_width!r}")
    n_fft, _ = frame_params(sr, win_ms)
    return max(n_fft // 2 + 1, band_width) // band_width


def check_min_length(
    n_samples: int, sr: float, win_ms: float = 25.0, hop_ms: float = 10.0, where: str = "clip"
) -> None:
    """Raise a ``ValueError`` naming the minimum duration if a clip gives fewer than 16 frames."""
    require_samples(n_samples, min_samples(sr, win_ms, hop_ms), sr, where)


def require_samples(n_samples: int, need: int, sr: float, where: str = "clip") -> None:
    """The check of :func:`check_min_length` with ``need`` (= :func:`min_samples`) already known."""
    if n_samples < need:
        raise ValueError(
            f"{where} has {n_samples} samples ({n_samples / sr:.4f} s) but FISHER needs at least {MIN_FRAMES} STFT "
            f"frames = {need} samples ({need / sr:.4f} s) at sr={sr:g} Hz"
        )


def parse_summary(summary: Any) -> tuple[str, ...]:
    """``"cls"``, ``"mean"``, ``"freq"`` or a ``+``-joined combination (``"cls+mean"``) → its parts in canonical
    order (cls, mean, freq). Raises ``ValueError`` naming the allowed values."""
    allowed = "'cls', 'mean', 'freq' or a '+'-joined combination such as 'cls+mean'"
    if not isinstance(summary, str) or not summary:
        raise ValueError(f"summary must be {allowed}, got {summary!r}")
    parts = [p.strip() for p in summary.split("+")]
    bad = [p for p in parts if p not in SUMMARY_PARTS]
    if bad or len(set(parts)) != len(parts):
        raise ValueError(f"summary must be {allowed} (each part once), got {summary!r}")
    return tuple(p for p in SUMMARY_PARTS if p in parts)


def summary_dim(summary: str, embed_dim: int, freq_patches: int) -> int:
    """Width of one band's summary: ``D`` for cls / mean, ``freq_patches·D`` for freq, summed over the parts."""
    return sum(freq_patches * embed_dim if p == "freq" else embed_dim for p in parse_summary(summary))


def check_options(pool: Any, long: Any, pad_frames: Any, batch_size: Any) -> None:
    """Validate the recipe options shared by every ``embed`` implementation and :mod:`fisher.recipe.long_files`."""
    if not isinstance(pool, str) or pool not in POOLS:
        raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
    if not isinstance(long, str) or long not in LONG_MODES:
        raise ValueError(f"long must be one of {LONG_MODES}, got {long!r}")
    if not isinstance(pad_frames, bool):
        raise TypeError(f"pad_frames must be True or False, got {pad_frames!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


class BandShapes:
    """Output shapes of a FISHER encoder from its ``config`` (a :class:`fisher.recipe.fisher_config.FisherConfig`).

    Mixed into :class:`fisher.Fisher` and the torch-free :class:`fisher.deploy.runtime.OnnxFisher`, which each define
    their own ``embedding_dim``.
    """

    config: Any

    @property
    def embed_dim(self) -> int:
        """Width D of one band's CLS vector (192 / 256 / 384 for tiny / mini / small)."""
        return self.config.embed_dim

    @property
    def band_width(self) -> int:
        return self.config.band_width

    def num_bands(self, sr: float) -> int:
        """Number of sub-bands the model sees at sampling rate ``sr`` (Hz)."""
        return num_bands(sr, self.config.band_width, self.config.win_ms)


def window_spans(n_samples: int, n_fft: int, hop: int, max_frames: int, long: str = "chunk") -> list[tuple[int, int]]:
    """Sample spans ``[(start, stop)]`` of the analysis windows of a clip of ``n_samples``.

    Window k covers frames ``k·max_frames …`` (at most ``max_frames``); a trailing window of fewer than 16 frames is
    dropped unless it is the only one. ``long="truncate"`` keeps only the first window.
    """
    frames = 1 + (n_samples - n_fft) // hop
    starts = range(0, frames, max_frames) if long == "chunk" else range(1)
    spans = []
    for f0 in starts:
        count = min(max_frames, frames - f0)
        if count < MIN_FRAMES and spans:
            break
        spans.append((f0 * hop, f0 * hop + n_fft + (count - 1) * hop))
    return spans


TOKEN_BUDGET = 1536  # tokens per encoder chunk: tiny 4 × 373, small 8 × 187 (docs/performance.md)


def sequences_per_chunk(tokens_per_sequence: int, budget: int = TOKEN_BUDGET) -> int:
    """How many band sequences of ``tokens_per_sequence`` tokens make one encoder chunk of about ``budget`` tokens
    (at least 1). Sequences never interact, so chunking changes memory and speed, not results."""
    return max(1, budget // max(1, tokens_per_sequence))
