"""Synthetic machine signals for demos and tests: a rotating shaft with optional bearing-fault impulses."""

from __future__ import annotations

import numpy as np

from fisher.signals.validate import check_sr

__all__ = ["bearing_signal", "shaft_signal"]


def _check_args(sr: float, seconds: float) -> float:
    """Validate the sampling rate (returned as float) and a positive duration in seconds."""
    sr = check_sr(sr)
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    return sr


def shaft_signal(
    sr: float, seconds: float = 2.0, *, fault: bool = False, shaft_hz: float = 25.0, seed: int = 0
) -> np.ndarray:
    """A rotating-machine vibration/sound signal, float32 in [-1, 1).

    Normal: shaft harmonics (1×…5× ``shaft_hz``) with random phases, a gear-mesh tone at 37× shaft speed, slow
    amplitude modulation and broadband noise. Faulty: additionally, outer-race bearing-fault impulses at
    BPFO = 3.58× shaft speed, each a decaying burst of a structural resonance (3 kHz, or 0.3·sr when lower).

    Args:
        sr: sampling rate in Hz. seconds: duration. fault: add bearing-fault impulses. seed: random seed.
    Returns:
        ``[round(seconds·sr)]`` float32.
    """
    sr = _check_args(sr, seconds)
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


# --- the demo task: bearing faults that are hard to hear -----------------------------------------------------------

SHAFT_HZ = 25.0  # nominal shaft speed
BPFO = 3.58  # outer-race fault frequency in shaft orders
MODES_HZ = (1800.0, 4300.0, 9700.0)  # structural resonances at half load (shift with load)


def _shaped_noise(rng: np.random.Generator, n: int, sr: float, shape) -> np.ndarray:
    """White Gaussian noise coloured by an amplitude response ``shape(f_hz)`` (FFT domain), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    spec *= shape(np.fft.rfftfreq(n, 1.0 / sr))
    x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def _resonance(f: np.ndarray, f0: float, q: float) -> np.ndarray:
    """Amplitude response of a second-order resonance at ``f0`` Hz with quality factor ``q`` (peak 1)."""
    r = f / f0
    return 1.0 / np.sqrt((1 - r**2) ** 2 + (r / q) ** 2) / q


def bearing_signal(
    sr: float, seconds: float = 2.0, *, fault: bool = False, snr_db: float = -9.0, seed: int = 0
) -> np.ndarray:
    """A gearbox-bearing vibration signal under changing operating conditions, float32 in [-1, 1).

    Every clip draws its own operating point (the same draws at every ``sr`` for one ``seed``):

    * shaft speed 25 Hz ± 10 % (uniform) with harmonics 1×…6× of random strength, a gear mesh at 37× with ±1×
      sidebands, both growing with the load (0…1, uniform);
    * three structural resonances (1.8, 4.3, 9.7 kHz at half load, shifted by up to ±6 % with load, random Q and
      level) excited by broadband noise, over a pink background ("other machinery");
    * a neighbouring motor hum (mains 50 Hz ± 1 % with harmonics) and random impacts from other machines (Poisson,
      about 3 per second, each ringing a random resonance) — so impulsiveness alone does not mean a fault;
    * a per-clip sensor gain of ±6 dB (uniform).

    Faulty clips add an outer-race bearing fault: impulses at BPFO = 3.58× shaft speed (1 % timing jitter),
    amplitude-modulated by the load zone once per revolution, each ringing the load-dependent 2nd resonance;
    the impulse train's RMS is ``snr_db`` below the rest of the signal (severity ±3 dB at random).

    Args:
        sr: sampling rate in Hz (components above 0.45·sr are left out). seconds: duration. fault: add the fault.
        snr_db: fault-to-background RMS ratio in dB. seed: random seed.
    Returns:
        ``[round(seconds·sr)]`` float32.
    """
    sr = _check_args(sr, seconds)
    rng = np.random.default_rng(seed)
    # operating point: drawn first, in a fixed order, so that it does not depend on sr
    speed = SHAFT_HZ * rng.uniform(0.9, 1.1)
    load = rng.uniform(0.0, 1.0)
    gain = 10 ** (rng.uniform(-6.0, 6.0) / 20)
    harmonics = rng.uniform(0.3, 1.0, 6) * np.array([1.0, 0.5, 0.3, 0.2, 0.15, 0.1]) * (0.6 + 0.8 * load)
    phases = rng.uniform(0, 2 * np.pi, 10)
    shift = 1 + 0.12 * (load - 0.5)
    modes = [(f * shift, q, lvl) for f, q, lvl in zip(MODES_HZ, rng.uniform(8, 25, 3), rng.uniform(0.3, 1.0, 3))]
    hum_hz = 50.0 * rng.uniform(0.99, 1.01)
    severity = 10 ** ((snr_db + rng.uniform(-3.0, 3.0)) / 20)
    n = round(seconds * sr)
    t = np.arange(n) / sr
    top = 0.45 * sr

    tonal = np.zeros(n)
    for h, amp in enumerate(harmonics, start=1):
        if h * speed < top:
            tonal += amp * np.sin(2 * np.pi * h * speed * t + phases[h - 1])
    for k, side in enumerate((-1, 0, 1)):
        f = (37 + side) * speed
        if f < top:
            tonal += (0.15 if side == 0 else 0.06) * (0.5 + load) * np.sin(2 * np.pi * f * t + phases[6 + k])
    for h in (1, 2, 3):
        tonal += 0.08 / h * np.sin(2 * np.pi * h * hum_hz * t + phases[9] * h)

    def structure(f: np.ndarray) -> np.ndarray:
        resp = sum(lvl * _resonance(f, f0, q) for f0, q, lvl in modes if f0 < top)
        return resp + 0.05 / np.sqrt(np.maximum(f, 20.0) / 1000)

    background = 0.15 * _shaped_noise(rng, n, sr, structure)
    impacts = np.zeros(n)
    for when in np.sort(rng.uniform(0, seconds, rng.poisson(3 * seconds))):
        impacts[min(int(when * sr), n - 1)] = rng.uniform(0.5, 1.5)
    ring_t = np.arange(int(0.02 * sr)) / sr
    f_ring = min(rng.uniform(1000, 8000), top)
    background += 0.4 * np.convolve(impacts, np.exp(-ring_t / 0.002) * np.sin(2 * np.pi * f_ring * ring_t))[:n]
    x = tonal + background
    if fault:
        period = 1.0 / (BPFO * speed)
        times = np.arange(rng.uniform(0, period), seconds, period)
        times = times + rng.normal(0, 0.01 * period, times.size)
        train = np.zeros(n)
        idx = np.clip((times * sr).astype(int), 0, n - 1)
        train[idx] = 1 + 0.5 * np.cos(2 * np.pi * speed * times)  # load zone: once per revolution
        f0 = min(modes[1][0], top)
        burst = np.exp(-ring_t / 0.0015) * np.sin(2 * np.pi * f0 * ring_t)
        faulty = np.convolve(train, burst)[:n]
        faulty *= severity * np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(faulty**2)) + 1e-12)
        x = x + faulty
    x *= 0.1 * gain
    return np.clip(x, -1.0, 1.0 - 2**-15).astype(np.float32)
