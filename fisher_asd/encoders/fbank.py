"""Kaldi-compatible log-mel filterbank in pure torch (no torchaudio).

Implements the subset of Kaldi's ``compute-fbank-feats`` that BEATs uses (``torchaudio.compliance.kaldi.fbank``
defaults), written from the Kaldi algorithm description:

* frames of ``frame_length`` ms every ``frame_shift`` ms, ``snip_edges=True`` → ``T = 1 + (N − L) // H`` frames
  (0 frames when ``N < L``);
* dither 0, per-frame DC removal, pre-emphasis 0.97 (first sample uses itself as predecessor), Povey window
  (``hann(L, periodic=False) ** 0.85``) or Hann window, zero padding to the next power of two;
* power spectrum, triangular filters on the Kaldi mel scale ``1127 ln(1 + f / 700)`` built in mel space
  (no area normalisation, Nyquist bin weight 0), natural log floored at ``FLT_EPSILON``.

The waveform is used as given: Kaldi conventionally works on int16-scaled samples, so BEATs passes ``wave · 2**15``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["FLT_EPSILON", "kaldi_fbank", "kaldi_mel_banks", "num_frames"]

FLT_EPSILON = 1.1920928955078125e-07  # float32 machine epsilon, Kaldi's log floor


def _mel(freq: torch.Tensor | float) -> torch.Tensor | float:
    if isinstance(freq, torch.Tensor):
        return 1127.0 * torch.log1p(freq / 700.0)
    return 1127.0 * math.log1p(freq / 700.0)


def kaldi_mel_banks(
    num_bins: int, n_fft: int, sample_rate: float, low_freq: float = 20.0, high_freq: float = 0.0
) -> torch.Tensor:
    """Triangular mel filters ``[num_bins, n_fft // 2 + 1]`` (float64); ``high_freq <= 0`` is relative to Nyquist."""
    nyquist = 0.5 * sample_rate
    if high_freq <= 0.0:
        high_freq += nyquist
    if not 0.0 <= low_freq < high_freq <= nyquist:
        raise ValueError(f"need 0 <= low_freq < high_freq <= Nyquist ({nyquist} Hz), got {low_freq}, {high_freq}")
    mel_low, mel_high = _mel(low_freq), _mel(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    idx = torch.arange(num_bins, dtype=torch.float64).unsqueeze(1)
    left = mel_low + idx * delta
    center = left + delta
    right = center + delta
    bin_mel = _mel(torch.arange(n_fft // 2, dtype=torch.float64) * (sample_rate / n_fft)).unsqueeze(0)
    up = (bin_mel - left) / (center - left)
    down = (right - bin_mel) / (right - center)
    weights = torch.clamp(torch.minimum(up, down), min=0.0)
    return torch.nn.functional.pad(weights, (0, 1))  # Nyquist bin gets weight 0


def _window(kind: str, length: int) -> torch.Tensor:
    hann = torch.hann_window(length, periodic=False, dtype=torch.float64)
    if kind == "povey":
        return hann.pow(0.85)
    if kind == "hanning":
        return hann
    raise ValueError(f"window must be 'povey' or 'hanning', got {kind!r}")


def num_frames(num_samples: int, frame_length: int, frame_shift: int) -> int:
    """Number of frames with ``snip_edges=True``."""
    return 0 if num_samples < frame_length else 1 + (num_samples - frame_length) // frame_shift


def kaldi_fbank(
    wave: torch.Tensor,
    *,
    sample_rate: float = 16000.0,
    num_mel_bins: int = 128,
    frame_length_ms: float = 25.0,
    frame_shift_ms: float = 10.0,
    preemphasis: float = 0.97,
    remove_dc_offset: bool = True,
    window: str = "povey",
    low_freq: float = 20.0,
    high_freq: float = 0.0,
) -> torch.Tensor:
    """Log-mel filterbank of ``wave`` ``[N]`` or ``[B, N]`` → ``[T, num_mel_bins]`` or ``[B, T, num_mel_bins]``.

    Computed in float64 and returned in the input's floating dtype (float32 for integer input). No gradient is
    needed through this function (it is preprocessing), but it is differentiable.
    """
    if not isinstance(wave, torch.Tensor):
        raise TypeError(f"wave must be a torch.Tensor, got {type(wave).__name__}")
    if wave.ndim not in (1, 2):
        raise ValueError(f"wave must be [N] or [B, N], got shape {tuple(wave.shape)}")
    out_dtype = wave.dtype if wave.is_floating_point() else torch.float32
    single = wave.ndim == 1
    x = wave.reshape(1, -1) if single else wave
    length = int(sample_rate * frame_length_ms * 0.001)
    shift = int(sample_rate * frame_shift_ms * 0.001)
    n_fft = 1 << (length - 1).bit_length()
    t = num_frames(x.shape[1], length, shift)
    if t == 0:
        out = x.new_zeros((x.shape[0], 0, num_mel_bins), dtype=out_dtype)
        return out[0] if single else out
    frames = x.to(torch.float64).unfold(1, length, shift)[:, :t]  # [B, T, L]
    if remove_dc_offset:
        frames = frames - frames.mean(dim=-1, keepdim=True)
    if preemphasis != 0.0:
        previous = torch.cat([frames[..., :1], frames[..., :-1]], dim=-1)
        frames = frames - preemphasis * previous
    frames = frames * _window(window, length).to(frames.device)
    spectrum = torch.fft.rfft(frames, n=n_fft, dim=-1)
    power = spectrum.real.square() + spectrum.imag.square()  # [B, T, n_fft/2 + 1]
    banks = kaldi_mel_banks(num_mel_bins, n_fft, sample_rate, low_freq, high_freq).to(frames.device)
    mel = torch.matmul(power, banks.T)
    out = torch.log(torch.clamp(mel, min=FLT_EPSILON)).to(out_dtype)
    return out[0] if single else out
