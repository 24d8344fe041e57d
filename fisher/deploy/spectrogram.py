"""Torch-free (numpy/scipy) FISHER front end: normalised log-magnitude STFT, band split and band pooling.

Same numerics as :func:`fisher.model.bands.log_spectrogram` (periodic Hann window, ``center=False``, magnitude,
``log(|X| + 1e-10)``, ``(s - mean) / (std · coeff)``); the FFT runs in float64 and the result is rounded to float32,
which agrees with torch's float32 STFT to ~1e-6 on the parity fixtures (bins whose magnitude is ~0 differ more in
the log domain, as they do between any two FFT libraries). Used by :class:`fisher.deploy.runtime.OnnxFisher`.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

from fisher.recipe.fisher_config import SPEC_MEAN, SPEC_STD, SPEC_STD_COEFF
from fisher.recipe.plan import pool_bands

__all__ = ["hann_periodic", "log_spectrogram_np", "pool_bands_np", "split_bands_np"]

LOG_EPS = 1e-10


def hann_periodic(n: int) -> np.ndarray:
    """Periodic Hann window of length ``n`` (``torch.hann_window(n)``): ``0.5 - 0.5·cos(2πk/n)``, float64."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def log_spectrogram_np(
    centred: np.ndarray,
    n_fft: int,
    hop: int,
    *,
    mean: float = SPEC_MEAN,
    std: float = SPEC_STD,
    std_coeff: float = SPEC_STD_COEFF,
) -> np.ndarray:
    """Normalised log-magnitude STFT of one (already DC-free) window of samples.

    Args:
        centred: ``[N]`` float32 samples with the clip mean already removed, ``N >= n_fft``.
        n_fft: window and FFT length in samples; ``hop``: frame step in samples.
    Returns:
        ``[T, F]`` float32 with ``T = 1 + (N - n_fft) // hop`` and ``F = n_fft // 2 + 1``.
    """
    x = np.asarray(centred, dtype=np.float32)
    frames = 1 + (x.shape[0] - n_fft) // hop
    view = np.lib.stride_tricks.as_strided(
        x, shape=(frames, n_fft), strides=(hop * x.strides[0], x.strides[0]), writeable=False
    )
    mag = np.abs(sp_fft.rfft(view * hann_periodic(n_fft), axis=1)).astype(np.float32)
    spec = np.log(mag + np.float32(LOG_EPS))
    return ((spec - np.float32(mean)) / np.float32(std * std_coeff)).astype(np.float32)


def split_bands_np(spec: np.ndarray, band_width: int) -> np.ndarray:
    """``[T, F]`` → ``[nb, T, band_width]`` sub-bands low → high (right zero-pad to one band; residual bins dropped)."""
    t, f = spec.shape
    if f < band_width:
        spec = np.pad(spec, ((0, 0), (0, band_width - f)))
        f = band_width
    nb = f // band_width
    return np.ascontiguousarray(spec[:, : nb * band_width].reshape(t, nb, band_width).transpose(1, 0, 2))


pool_bands_np = pool_bands  # the recipe's pooling (one implementation for every backend)
