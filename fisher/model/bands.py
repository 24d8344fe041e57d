"""The FISHER tokenizer front end: waveform → normalised log-magnitude STFT ``[T, F]`` → sub-bands.

Numerics follow the official release exactly (see ``docs/recipes.md``): per-clip DC removal (float32 mean),
``n_fft = floor(25 ms · sr)``, ``hop = floor(10 ms · sr)``, periodic Hann window, ``center=False``, magnitude,
natural log of ``|X| + 1e-10``, then ``(s - MEAN) / (STD · 2)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from einops import rearrange

from fisher.model.config import SPEC_MEAN, SPEC_STD, SPEC_STD_COEFF
from fisher.signals.validate import as_clips, check_sr

__all__ = [
    "MIN_FRAMES",
    "frame_params",
    "log_spectrogram",
    "min_samples",
    "num_bands",
    "num_frames",
    "spectrogram",
    "split_bands",
]

MIN_FRAMES = 16  # one 16-frame time patch
LOG_EPS = 1e-10


def _ms_to_samples(ms: float, sr: float) -> int:
    """floor(ms · sr / 1000), computed exactly for integral rates (44.1 kHz · 25 ms = 1102.5 → 1102)."""
    if float(sr).is_integer() and float(ms).is_integer():
        return (int(ms) * int(sr)) // 1000
    return math.floor(ms * sr / 1000.0 + 1e-9)


def frame_params(sr: float, win_ms: float = 25.0, hop_ms: float = 10.0) -> tuple[int, int]:
    """STFT ``(n_fft, hop)`` in samples for sampling rate ``sr`` (Hz): floor(25 ms · sr), floor(10 ms · sr)."""
    sr = check_sr(sr)
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


def log_spectrogram(
    clip: torch.Tensor,
    n_fft: int,
    hop: int,
    *,
    max_frames: int | None = None,
    remove_dc: bool = True,
    mean: float = SPEC_MEAN,
    std: float = SPEC_STD,
    std_coeff: float = SPEC_STD_COEFF,
) -> torch.Tensor:
    """Normalised log-magnitude STFT of one clip.

    Args:
        clip: ``[N]`` float32 samples, ``N >= n_fft``.
        max_frames: compute only the first ``max_frames`` frames (the DC offset is still the whole clip's mean).
        remove_dc: subtract the clip's float32 mean first (official); ``False`` for segments already centred.
    Returns:
        ``[T, F]`` float32, ``T = 1 + (N - n_fft) // hop`` (at most ``max_frames``), ``F = n_fft // 2 + 1``.
    """
    x = clip.to(torch.float32)
    if remove_dc:
        x = x - x.mean()
    if max_frames is not None:
        x = x[: n_fft + (max_frames - 1) * hop]
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float32, device=x.device)
    stft = torch.stft(x, n_fft, hop_length=hop, win_length=n_fft, window=window, center=False, onesided=True,
                      normalized=False, return_complex=True)
    spec = torch.log(stft.abs() + LOG_EPS).transpose(0, 1)
    return (spec - mean) / (std * std_coeff)


def check_min_length(n_samples: int, sr: float, win_ms: float = 25.0, hop_ms: float = 10.0,
                     where: str = "clip") -> None:
    """Raise a ``ValueError`` naming the minimum duration if a clip gives fewer than 16 frames."""
    need = min_samples(sr, win_ms, hop_ms)
    if n_samples < need:
        raise ValueError(
            f"{where} has {n_samples} samples ({n_samples / sr:.4f} s) but FISHER needs at least {MIN_FRAMES} STFT "
            f"frames = {need} samples ({need / sr:.4f} s) at sr={sr:g} Hz"
        )


def spectrogram(wave: Any, sr: float, *, max_frames: int | None = None) -> np.ndarray | torch.Tensor | list:
    """FISHER's normalised log-magnitude spectrogram.

    Args:
        wave: one clip ``[N]``, a batch ``[B, N]`` or a list of 1-D clips (numpy or torch; integer PCM is scaled).
        sr: sampling rate in Hz (required; nothing is resampled).
        max_frames: keep at most this many frames (the model uses 1024); ``None`` keeps all.
    Returns:
        ``[T, F]`` for one clip, ``[B, T, F]`` for a 2-D batch, a list of ``[T_i, F]`` for a list input;
        numpy float32 unless the input was torch.
    """
    sr = check_sr(sr)
    batch = as_clips(wave)
    n_fft, hop = frame_params(sr)
    specs = []
    for i, clip in enumerate(batch.clips):
        check_min_length(clip.numel(), sr, where="waveform" if batch.single else f"clip {i}")
        specs.append(log_spectrogram(clip, n_fft, hop, max_frames=max_frames))
    out = specs if batch.torch_input else [s.numpy() for s in specs]
    if batch.single:
        return out[0]
    if isinstance(wave, (list, tuple)):
        return out
    return torch.stack(out) if batch.torch_input else np.stack(out)


def split_bands(spec: torch.Tensor, band_width: int) -> torch.Tensor:
    """Split a ``[T, F]`` spectrogram into ``[nb, T, band_width]`` sub-bands, low → high.

    ``F < band_width`` is zero-padded on the right to one band; the residual ``F mod band_width`` highest bins are
    dropped (official behaviour).
    """
    _t, f = spec.shape
    if f < band_width:
        spec = torch.nn.functional.pad(spec, (0, band_width - f))
        f = band_width
    nb = f // band_width
    return rearrange(spec[:, : nb * band_width], "t (nb w) -> nb t w", w=band_width)
