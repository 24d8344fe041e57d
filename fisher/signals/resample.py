"""The one resampler: ``librosa.resample`` (imported lazily), explicit and logged.

Methods (:data:`METHODS`):

* ``"soxr_hq"`` (:data:`DEFAULT_METHOD`) — libsoxr high quality; any positive rates; output length
  ``ceil(N · out / in)``. Used wherever no earlier result pins the numerics (RMIS ``resample_to`` / ``--resample``).
* ``"polyphase"`` — ``scipy.signal.resample_poly`` through librosa (polyphase FIR, Kaiser window β = 5, zero phase)
  with the exact ratio ``up / down`` of two **integer** rates, computed in float64; output length
  ``ceil(N · up / down)``. Used where an exact rational ratio must match scipy: the ``fisher_asd`` encoders and
  detector (the detector's published numbers were computed with ``resample_poly``;
  :data:`fisher_asd.encoders.base.RESAMPLE_METHOD`) and pretraining crops (their context margins assume this filter).

Every call returns float32 (numpy in → numpy out, torch in → torch out); equal rates return the input itself.
Each new ``(who, in → out, method)`` is logged once at INFO level on the ``fisher.signals.resample`` logger, later
calls at DEBUG; nothing is printed.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction

import numpy as np
import torch

from fisher.signals.validate import check_sr
from fisher.types import ArrayLike, SampleRate

__all__ = ["DEFAULT_METHOD", "METHODS", "ratio", "resample", "resample_clips", "resampled_length"]

log = logging.getLogger(__name__)
METHODS = {
    "soxr_hq": "librosa soxr_hq (libsoxr high quality)",
    "polyphase": "librosa polyphase = scipy.signal.resample_poly (Kaiser beta=5, exact rational ratio)",
}
DEFAULT_METHOD = "soxr_hq"
_announced: set[tuple[str, float, float, str]] = set()


def _check(sr_in: SampleRate, sr_out: SampleRate, method: str) -> tuple[float, float]:
    if method not in METHODS:
        raise ValueError(f"resampling method must be one of {sorted(METHODS)}, got {method!r}")
    sr_in, sr_out = check_sr(sr_in, name="sr", integer=False), check_sr(sr_out, name="target sr", integer=False)
    if method == "polyphase" and not (sr_in.is_integer() and sr_out.is_integer()):
        raise ValueError(
            f"polyphase resampling needs integer rates, got {sr_in:g} -> {sr_out:g} Hz; use method='soxr_hq'"
        )
    return sr_in, sr_out


def ratio(sr_in: float, sr_out: float) -> tuple[int, int]:
    """``(up, down)``: the reduced ratio ``sr_out / sr_in`` of two integer rates (the polyphase factors)."""
    sr_in, sr_out = _check(sr_in, sr_out, "polyphase")
    frac = Fraction(int(sr_out), int(sr_in))
    return frac.numerator, frac.denominator


def resampled_length(n: int, sr_in: float, sr_out: float, *, method: str = DEFAULT_METHOD) -> int:
    """Number of output samples for ``n`` input samples."""
    sr_in, sr_out = _check(sr_in, sr_out, method)
    if method == "polyphase":
        up, down = ratio(sr_in, sr_out)
        return -(-n * up // down)
    return math.ceil(n * (sr_out / sr_in))  # as librosa.resample(fix=True)


def resample(
    x: ArrayLike, sr_in: SampleRate, sr_out: SampleRate, *, method: str = DEFAULT_METHOD, who: str = "fisher"
) -> ArrayLike:
    """Resample a 1-D signal from ``sr_in`` to ``sr_out`` Hz.

    Args:
        x: ``[N]`` samples, numpy array or torch tensor (float, or integer PCM already scaled by the caller).
        sr_in: rate of ``x`` in Hz. sr_out: target rate in Hz.
        method: ``"soxr_hq"`` (default) or ``"polyphase"`` (integer rates, matches ``scipy.signal.resample_poly``).
        who: name logged with the first call of each rate pair (e.g. the encoder).

    Returns:
        float32 ``[resampled_length(N, sr_in, sr_out, method=method)]``, numpy or torch as the input (the input
        itself when the rates are equal).
    """
    sr_in, sr_out = _check(sr_in, sr_out, method)
    if sr_in == sr_out:
        return x
    key = (who, sr_in, sr_out, method)
    level = logging.DEBUG if key in _announced else logging.INFO
    _announced.add(key)
    log.log(level, "%s: resampling %g Hz -> %g Hz with %s", who, sr_in, sr_out, METHODS[method])
    is_torch = isinstance(x, torch.Tensor)
    arr = x.detach().cpu().numpy() if is_torch else np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"resample expects a 1-D signal, got shape {arr.shape}")
    import librosa

    if method == "polyphase":
        y = librosa.resample(
            arr.astype(np.float64), orig_sr=int(sr_in), target_sr=int(sr_out), res_type="polyphase", fix=False
        )
    else:
        y = librosa.resample(arr.astype(np.float32), orig_sr=sr_in, target_sr=sr_out, res_type="soxr_hq")
    y = np.ascontiguousarray(y, dtype=np.float32)
    return torch.from_numpy(y) if is_torch else y


def resample_clips(
    clips: list[ArrayLike], sr_in: SampleRate, sr_out: SampleRate, *, method: str = DEFAULT_METHOD, who: str = "fisher"
) -> list[ArrayLike]:
    """:func:`resample` applied to each clip of a list."""
    return [resample(c, sr_in, sr_out, method=method, who=who) for c in clips]
