"""The ``logstft`` baseline encoder: mean log-STFT energy per frequency band, no learned weights.

It uses the same framing as FISHER (``n_fft = floor(25 ms * sr)``, ``hop = floor(10 ms * sr)``, periodic Hann window,
no centring) and the same input conventions (:func:`fisher.signals.validate.as_clips`), so it is a drop-in reference point for
any evaluation that takes an encoder.

Band layout:
    The one-sided STFT has ``F = n_fft // 2 + 1`` bins spaced ``sr / n_fft`` Hz apart (exactly 40 Hz when ``sr`` is a
    multiple of 40). Band ``b`` is the average of bins ``[b * bins_per_band, (b + 1) * bins_per_band)``, low to high
    frequency; the ``F mod bins_per_band`` highest bins are dropped. With the default ``bins_per_band=1`` every bin is
    its own ~40 Hz band: 201 values at 16 kHz, 151 at 12 kHz, 601 at 48 kHz (see :meth:`LogSTFT.embedding_dim`).
"""

from __future__ import annotations

import numpy as np
import torch

from fisher.signals.validate import as_clips, check_sr
from fisher.types import SampleRate, WaveLike

__all__ = ["LogSTFT"]

_EPS = 1e-10
_BLOCK_FRAMES = 4096  # frames per STFT block: bounds memory on long recordings


class LogSTFT:
    """Weight-free baseline: the time average of ``log(|STFT|^2 + 1e-10)`` per frequency band.

    Args:
        bins_per_band: number of adjacent STFT bins averaged into one band (>= 1).

    Each clip has its mean (DC) removed before the STFT. A clip must hold at least ``n_fft`` samples (one frame).
    """

    name = "logstft"
    sample_rate = None  # works at the input's own rate
    dim = None  # depends on the rate: embedding_dim(sr)

    def __init__(self, bins_per_band: int = 1) -> None:
        if isinstance(bins_per_band, bool) or not isinstance(bins_per_band, (int, np.integer)):
            raise TypeError(f"bins_per_band must be an int, got {type(bins_per_band).__name__}")
        if bins_per_band < 1:
            raise ValueError(f"bins_per_band must be >= 1, got {bins_per_band}")
        self.bins_per_band = int(bins_per_band)

    def __repr__(self) -> str:
        return f"LogSTFT(bins_per_band={self.bins_per_band})"

    @property
    def cache_key(self) -> str:
        """A string identifying this encoder and its settings (used to key embedding caches)."""
        return f"logstft-v1-bpb{self.bins_per_band}"

    @staticmethod
    def framing(sr: float) -> tuple[int, int]:
        """``(n_fft, hop)`` in samples for sampling rate ``sr`` (25 ms / 10 ms, floored)."""
        sr = check_sr(sr)
        n_fft, hop = int(25 * sr // 1000), int(10 * sr // 1000)
        if n_fft < 2 or hop < 1:
            raise ValueError(f"sr={sr:g} Hz is too low for 25 ms / 10 ms framing (need sr >= 100 Hz)")
        return n_fft, hop

    def embedding_dim(self, sr: float) -> int:
        """Number of bands (= embedding size) at sampling rate ``sr``."""
        n_fft, _ = self.framing(sr)
        dim = (n_fft // 2 + 1) // self.bins_per_band
        if dim < 1:
            raise ValueError(f"bins_per_band={self.bins_per_band} exceeds the {n_fft // 2 + 1} STFT bins at sr={sr:g}")
        return dim

    def _one(self, clip: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor, index: int) -> torch.Tensor:
        n = clip.numel()
        if n < n_fft:
            raise ValueError(f"clip {index} has {n} samples; the logstft baseline needs at least n_fft = {n_fft}")
        x = clip - clip.mean()
        frames = 1 + (n - n_fft) // hop
        total = torch.zeros(n_fft // 2 + 1, dtype=torch.float64)
        for start in range(0, frames, _BLOCK_FRAMES):
            count = min(_BLOCK_FRAMES, frames - start)
            seg = x[start * hop : start * hop + (count - 1) * hop + n_fft]
            spec = torch.stft(seg, n_fft, hop_length=hop, window=window, center=False, return_complex=True)
            total += torch.log(spec.real.square() + spec.imag.square() + _EPS).sum(dim=1, dtype=torch.float64)
        mean = total / frames
        dim = (n_fft // 2 + 1) // self.bins_per_band
        return mean[: dim * self.bins_per_band].reshape(dim, self.bins_per_band).mean(dim=1)

    def embed(self, wave: WaveLike, sr: SampleRate, *, batch_size: int = 8) -> np.ndarray | torch.Tensor:
        """Embed clips (:class:`fisher.eval.encoders.Encoder` protocol).

        Args:
            wave: 1-D clip ``[N]``, batch ``[B, N]`` or list of 1-D clips (float in [-1, 1) or integer PCM).
            sr: sampling rate in Hz.
            batch_size: accepted for the protocol; clips are processed one by one (bounded memory).

        Returns:
            float32 ``[B, dim]`` (``[dim]`` for a 1-D input), ``dim = embedding_dim(sr)``; a torch tensor if the
            input was torch, numpy otherwise. Values are natural-log power (dimensionless).
        """
        sr = check_sr(sr)
        clips = as_clips(wave)
        n_fft, hop = self.framing(sr)
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float32)
        with torch.inference_mode():
            out = torch.stack([self._one(c, n_fft, hop, window, i) for i, c in enumerate(clips.clips)]).float()
        if clips.single:
            out = out[0]
        return out if clips.torch_input else out.numpy()
