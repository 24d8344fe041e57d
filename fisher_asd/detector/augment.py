"""Two-view augmentation for contrastive training (``asd.md`` §3.7).

The report defines the augmentations on mono 16 kHz clips of 160,000 samples; the trainer
(:mod:`~fisher_asd.detector.train`) therefore applies them to the 16 kHz fixed-length clip
(:class:`~fisher_asd.detector.cliplength.ClipLength`) and only then resamples each view to the stream's native rate
(48 kHz for CLAP), so the noise stays in 0–8 kHz and the cut lasts 0.5 s of the 16 kHz clip.

A view of a clip ``x`` (``[B, N]`` float tensor at rate ``sr``) is made in this order:

1. **segment removal** — one random segment of ``drop_seconds`` (default 0.5 s, at most ``N - 1`` samples) is cut out
   and ``drop_seconds`` of zeros are appended at the end, so the length is preserved;
2. **gain** — multiplication by ``10 ** (g / 20)`` with ``g ~ U(-gain_db, +gain_db)`` dB (default ±3 dB);
3. **noise** — additive white Gaussian noise of absolute standard deviation ``noise_std`` (default 0.005, full
   scale = 1), last so that the zero tail also carries the noise floor and σ is the same for every view.

Every clip of the batch draws its own segment, gain and noise from the caller's ``torch.Generator``. The order of
the three steps is **ours** (the report lists noise, gain and the cut without an order).
"""

from __future__ import annotations

import torch

__all__ = ["contrastive_view"]


def _check_batch(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 2:
        raise TypeError(f"expected a float tensor [B, N], got {type(x).__name__} {getattr(x, 'shape', '')}")
    if x.shape[1] < 2:
        raise ValueError(f"clips need at least 2 samples for augmentation, got {x.shape[1]}")


def contrastive_view(
    x: torch.Tensor,
    sr: float,
    *,
    generator: torch.Generator,
    noise_std: float = 0.005,
    gain_db: float = 3.0,
    drop_seconds: float = 0.5,
) -> torch.Tensor:
    """One augmented view ``[B, N]`` of the batch ``x`` ``[B, N]`` at ``sr`` Hz (see the module docstring)."""
    _check_batch(x)
    if noise_std < 0 or gain_db < 0 or drop_seconds < 0:
        raise ValueError("noise_std, gain_db and drop_seconds must be >= 0")
    b, n = x.shape
    dev = x.device
    drop = min(round(drop_seconds * float(sr)), n - 1)
    if drop > 0:
        start = torch.randint(0, n - drop + 1, (b, 1), generator=generator).to(dev)
        pos = torch.arange(n, device=dev).expand(b, n)
        src = torch.where(pos >= start, pos + drop, pos).clamp(max=n - 1)
        x = torch.where(pos < n - drop, torch.gather(x, 1, src), torch.zeros((), dtype=x.dtype, device=dev))
    gain = (torch.rand((b, 1), generator=generator) * 2.0 - 1.0) * gain_db
    x = x * torch.pow(10.0, gain / 20.0).to(dev, x.dtype)
    noise = torch.randn((b, n), generator=generator).to(dev, x.dtype)
    return x + noise_std * noise
