"""Explicit, logged resampling to an encoder's native rate.

One method everywhere: ``scipy.signal.resample_poly`` (polyphase FIR, Kaiser window β = 5, zero phase, output length
``ceil(N · up / down)``) with the exact ratio ``up / down`` of the two rates (``Fraction(out / in)``, denominator
limited to 10 000 for non-integer rates), computed in float64 and returned as float32. Each new
``(encoder, in → out)`` pair is logged once at INFO level on the ``fisher.signals.resample`` logger, later calls at
DEBUG; nothing is printed. Equal rates return the input unchanged.
"""

from __future__ import annotations

import logging
from fractions import Fraction

import numpy as np
import torch

from fisher.signals.validate import check_sr

__all__ = ["METHOD", "resample", "resample_clips", "resampled_length"]

log = logging.getLogger(__name__)
METHOD = "scipy.signal.resample_poly (Kaiser beta=5, exact rational ratio)"
_announced: set[tuple[str, float, float]] = set()


def _ratio(sr_in: float, sr_out: float) -> tuple[int, int]:
    frac = Fraction(sr_out / sr_in) if not (sr_in.is_integer() and sr_out.is_integer()) else None
    frac = Fraction(int(sr_out), int(sr_in)) if frac is None else frac.limit_denominator(10_000)
    return frac.numerator, frac.denominator


def resampled_length(n: int, sr_in: float, sr_out: float) -> int:
    """Number of output samples for ``n`` input samples."""
    up, down = _ratio(float(sr_in), float(sr_out))
    return -(-n * up // down)


def resample(x: torch.Tensor, sr_in: float, sr_out: float, *, who: str = "fisher_asd") -> torch.Tensor:
    """Resample a 1-D float tensor from ``sr_in`` to ``sr_out`` Hz (returns the input itself when equal)."""
    sr_in, sr_out = check_sr(sr_in, name="sr"), check_sr(sr_out, name="target sr")
    if sr_in == sr_out:
        return x
    from scipy.signal import resample_poly

    up, down = _ratio(sr_in, sr_out)
    key = (who, sr_in, sr_out)
    level = logging.DEBUG if key in _announced else logging.INFO
    _announced.add(key)
    log.log(level, "%s: resampling %g Hz -> %g Hz (up=%d, down=%d) with %s", who, sr_in, sr_out, up, down, METHOD)
    y = resample_poly(x.detach().cpu().numpy().astype(np.float64), up, down)
    return torch.from_numpy(y.astype(np.float32))


def resample_clips(clips: list[torch.Tensor], sr_in: float, sr_out: float, *, who: str = "fisher_asd"):
    """:func:`resample` applied to each clip of a list."""
    return [resample(c, sr_in, sr_out, who=who) for c in clips]
