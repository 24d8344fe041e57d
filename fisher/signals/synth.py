"""Synthetic machine signals for demos and tests: a rotating shaft with optional bearing-fault impulses."""

from __future__ import annotations

import numpy as np

from fisher.signals.validate import check_sr

__all__ = ["shaft_signal"]


def shaft_signal(sr: float, seconds: float = 2.0, *, fault: bool = False, shaft_hz: float = 25.0,
                 seed: int = 0) -> np.ndarray:
    """A rotating-machine vibration/sound signal, float32 in [-1, 1).

    Normal: shaft harmonics (1×…5× ``shaft_hz``) with random phases, a gear-mesh tone at 37× shaft speed, slow
    amplitude modulation and broadband noise. Faulty: additionally, outer-race bearing-fault impulses at
    BPFO = 3.58× shaft speed, each a decaying burst of a structural resonance (3 kHz, or 0.3·sr when lower).

    Args:
        sr: sampling rate in Hz. seconds: duration. fault: add bearing-fault impulses. seed: random seed.
    Returns:
        ``[round(seconds·sr)]`` float32.
    """
    sr = check_sr(sr)
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    rng = np.random.default_rng(seed)
    n = round(seconds * sr)
    t = np.arange(n) / sr
    nyquist = sr / 2
    x = np.zeros(n)
    for h, amp in zip(range(1, 6), (0.20, 0.10, 0.06, 0.04, 0.03)):
        x += amp * np.sin(2 * np.pi * h * shaft_hz * t + rng.uniform(0, 2 * np.pi))
    mesh = 37 * shaft_hz
    if mesh < nyquist:
        x += 0.05 * np.sin(2 * np.pi * mesh * t + rng.uniform(0, 2 * np.pi))
    x *= 1 + 0.2 * np.sin(2 * np.pi * 0.5 * t)
    x += 0.02 * rng.standard_normal(n)
    if fault:
        resonance = min(3000.0, 0.3 * sr)
        period = 1.0 / (3.58 * shaft_hz)
        burst_t = np.arange(int(0.01 * sr)) / sr
        burst = np.exp(-burst_t / 0.0015) * np.sin(2 * np.pi * resonance * burst_t)
        for start in np.arange(rng.uniform(0, period), seconds, period):
            i = int(start * sr)
            seg = burst[: max(0, min(len(burst), n - i))]
            x[i : i + len(seg)] += 0.25 * (1 + 0.2 * rng.standard_normal()) * seg
    return np.clip(x, -1.0, 1.0 - 2**-15).astype(np.float32)
