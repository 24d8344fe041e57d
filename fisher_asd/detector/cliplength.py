"""One clip-length policy for training and inference: every clip is fixed to 160,000 samples at 16 kHz (10 s).

The report trains on "mono 16 kHz clips of fixed length 160,000 samples"; DCASE 2026 clips are 6, 10 or 16 s. The
detector applies the same :class:`ClipLength` to every clip of every stream, in training (before augmentation) and,
by default, at inference (before the encoders, so their own long-clip handling — AST's 1024 frames, CLAP's crop —
never comes into play for a 10 s clip). ``Detector(whole_clips=True)`` scores whole clips instead.

Policy (defaults are **our choice**; the report does not say how it fixed the length):

* the length at an input rate ``sr`` is ``round(samples · sr / rate)`` — the same duration (10 s) at any rate;
* **crop** (clip longer than the length): ``"start"`` keeps the first samples (default), ``"center"`` the middle;
* **pad** (clip shorter): ``"tile"`` repeats the clip until the length is reached (default; keeps a stationary machine
  sound stationary, as CLAP's own ``repeatpad``), ``"zeros"`` appends zeros.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch

__all__ = ["CROPS", "PADS", "ClipLength"]

CROPS = ("start", "center")
PADS = ("tile", "zeros")


@dataclass(frozen=True)
class ClipLength:
    """Fixed clip length ``samples`` at ``rate`` Hz, with a ``crop`` and a ``pad`` rule (see the module docstring)."""

    samples: int = 160_000
    rate: float = 16_000.0
    crop: str = "start"
    pad: str = "tile"

    def __post_init__(self) -> None:
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 2:
            raise ValueError(f"clip_samples must be an int >= 2, got {self.samples!r}")
        if not (isinstance(self.rate, (int, float)) and math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"clip rate must be a positive number, got {self.rate!r}")
        if self.crop not in CROPS:
            raise ValueError(f"clip_crop must be one of {CROPS}, got {self.crop!r}")
        if self.pad not in PADS:
            raise ValueError(f"clip_pad must be one of {PADS}, got {self.pad!r}")

    def length_at(self, sr: float) -> int:
        """Number of samples at ``sr`` Hz (``samples`` at ``rate``)."""
        return max(2, round(self.samples * float(sr) / float(self.rate)))

    def apply(self, clip: torch.Tensor, sr: float) -> torch.Tensor:
        """Fix a 1-D clip at ``sr`` Hz to :meth:`length_at` samples (crop or pad)."""
        if not isinstance(clip, torch.Tensor) or clip.ndim != 1 or clip.shape[0] == 0:
            raise ValueError(f"expected a non-empty 1-D tensor clip, got shape {tuple(getattr(clip, 'shape', ()))}")
        n, length = clip.shape[0], self.length_at(sr)
        if n >= length:
            start = 0 if self.crop == "start" else (n - length) // 2
            return clip[start : start + length]
        if self.pad == "zeros":
            return torch.cat([clip, clip.new_zeros(length - n)])
        return clip.repeat(-(-length // n))[:length]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
