"""A synthetic machine for tests, examples and documentation (no data download needed).

Normal sound: a harmonic tone (fundamental ``f0``, partials 1–4 with amplitudes 1, 1/2, 1/3, 1/4) whose amplitude is
modulated at ``fm`` Hz with depth 0.5, plus white noise (σ = 0.01); each clip draws ``f0`` within ±1 % of the
domain's fundamental, a random phase per partial and a gain in ±1 dB. Domains differ by the fundamental (source
200 Hz, target 260 Hz by default). Anomalies (alternating): an **added inharmonic partial** at 3.6·``f0``
(amplitude 0.3), or a **changed modulation** (rate ×3.5 = 105 Hz, depth 0.9).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DOMAIN_F0", "synthetic_clips"]

DOMAIN_F0 = {"source": 200.0, "target": 260.0}


def synthetic_clips(
    n: int,
    *,
    anomaly: bool = False,
    domain: str = "source",
    sr: int = 16000,
    seconds: float = 1.0,
    fm: float = 30.0,
    seed: int = 0,
) -> np.ndarray:
    """``n`` clips ``[n, round(seconds · sr)]`` float32 of the synthetic machine (see the module docstring)."""
    if domain not in DOMAIN_F0:
        raise ValueError(f"domain must be one of {sorted(DOMAIN_F0)}, got {domain!r}")
    if n < 1 or seconds <= 0 or sr <= 0:
        raise ValueError("n, seconds and sr must be positive")
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sr)) / sr
    out = np.empty((n, t.size), dtype=np.float32)
    for i in range(n):
        f0 = DOMAIN_F0[domain] * (1 + 0.01 * rng.uniform(-1, 1))
        rate, depth = fm, 0.5
        if anomaly and i % 2 == 1:
            rate, depth = fm * 3.5, 0.9
        tone = sum(np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) / h for h in range(1, 5))
        if anomaly and i % 2 == 0:
            tone = tone + 0.3 * np.sin(2 * np.pi * 3.6 * f0 * t + rng.uniform(0, 2 * np.pi))
        env = 1 + depth * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
        gain = 10 ** (rng.uniform(-1, 1) / 20)
        x = 0.1 * gain * env * tone + 0.01 * rng.standard_normal(t.size)
        out[i] = x.astype(np.float32)
    return out
