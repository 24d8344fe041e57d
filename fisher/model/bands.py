"""The FISHER tokenizer front end: waveform → normalised log-magnitude STFT ``[T, F]`` → sub-bands.

Numerics follow the official release exactly (see ``docs/recipes.md``): per-clip DC removal (float32 mean),
``n_fft = floor(25 ms · sr)``, ``hop = floor(10 ms · sr)``, periodic Hann window, ``center=False``, magnitude,
natural log of ``|X| + 1e-10``, then ``(s - MEAN) / (STD · 2)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from einops import rearrange

from fisher.recipe.fisher_config import SPEC_MEAN, SPEC_STD, SPEC_STD_COEFF
from fisher.recipe.framing import check_min_length, frame_params
from fisher.signals.validate import as_clips, check_sr

__all__ = ["log_spectrogram", "spectrogram", "split_bands"]

LOG_EPS = 1e-10


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
    stft = torch.stft(
        x,
        n_fft,
        hop_length=hop,
        win_length=n_fft,
        window=window,
        center=False,
        onesided=True,
        normalized=False,
        return_complex=True,
    )
    spec = torch.log(stft.abs() + LOG_EPS).transpose(0, 1)
    return (spec - mean) / (std * std_coeff)


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
