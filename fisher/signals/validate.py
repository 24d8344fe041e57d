"""Validation and conversion of user waveforms.

Every public entry point that takes signals (``fisher.model.bands``, ``Fisher.embed``, the encoders and detectors of
``fisher_asd``) goes through :func:`as_clips` so that bad input fails early with a precise message instead of deep
inside torch.

Conventions
-----------
* A clip is a 1-D sequence of samples. ``[B, N]`` arrays and lists of 1-D arrays are batches of clips.
  Channels of a multi-channel recording are passed as separate clips.
* Floating-point input is used as is (expected range [-1, 1)), converted to float32.
* Integer PCM is scaled by its dtype's full scale: ``int16 / 2**15``, ``int32 / 2**31``, ``int8 / 2**7``,
  ``uint8`` as ``(x - 128) / 2**7`` (the WAV 8-bit convention), ``int64 / 2**63``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import torch

__all__ = ["Clips", "as_clips", "check_sr", "pcm_to_float"]


def check_sr(sr: Any, *, name: str = "sr") -> float:
    """Return ``sr`` as a float after checking it is a positive finite number (Hz)."""
    if isinstance(sr, bool) or not isinstance(sr, (Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number in Hz (e.g. 16000), got {type(sr).__name__}: {sr!r}")
    value = float(sr)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number in Hz, got {sr!r}")
    return value


def pcm_to_float(array: np.ndarray) -> np.ndarray:
    """Scale an integer PCM array to float32 in [-1, 1) by its dtype's full scale; floats are cast to float32."""
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float32, copy=False)
    if kind == "u":
        if array.dtype != np.uint8:
            raise TypeError(f"unsigned PCM is only defined for uint8 (WAV 8-bit), got {array.dtype}")
        return ((array.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if kind == "i":
        scale = float(2 ** (8 * array.dtype.itemsize - 1))
        return (array.astype(np.float64) / scale).astype(np.float32)
    raise TypeError(
        f"waveform dtype {array.dtype} is not numeric audio; allowed: float16/32/64 or integer PCM (int8/16/32/64, uint8)"
    )


def _tensor_to_float(t: torch.Tensor) -> torch.Tensor:
    if t.is_floating_point():
        return t.detach().to(torch.float32)
    if t.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        return torch.from_numpy(pcm_to_float(t.detach().cpu().numpy()))
    raise TypeError(f"waveform dtype {t.dtype} is not numeric audio; allowed: floating point or integer PCM")


@dataclass
class Clips:
    """A validated batch of clips.

    Attributes:
        clips: list of 1-D float32 CPU tensors (samples), one per clip, possibly of different lengths.
        single: the input was one 1-D clip (the caller should drop the batch axis of its result).
        torch_input: the input was a torch tensor (the caller should return torch tensors).
    """

    clips: list[torch.Tensor]
    single: bool
    torch_input: bool


def _one_clip(x: Any, index: int | None) -> torch.Tensor:
    where = "waveform" if index is None else f"clip {index}"
    if isinstance(x, torch.Tensor):
        t = _tensor_to_float(x)
    else:
        try:
            arr = np.asarray(x)
        except Exception as err:  # pragma: no cover - exotic objects
            raise TypeError(f"{where}: cannot convert {type(x).__name__} to an array") from err
        if arr.dtype == object or arr.dtype.kind not in "fiu":
            raise TypeError(
                f"{where}: dtype {arr.dtype} is not numeric audio; pass float samples in [-1, 1) or integer PCM"
            )
        t = torch.from_numpy(np.ascontiguousarray(pcm_to_float(arr)))
    if t.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D array of samples, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{where} is empty (0 samples)")
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{where} contains {bad} NaN or infinite sample(s); clean or drop it before embedding")
    return t


def as_clips(wave: Any) -> Clips:
    """Normalise the accepted waveform forms into a list of 1-D float32 tensors.

    Accepts a 1-D array/tensor (one clip), a 2-D ``[B, N]`` array/tensor, or a list/tuple of 1-D arrays/tensors
    (lengths may differ). Raises ``TypeError`` for non-numeric data and ``ValueError`` for empty input, NaN/inf
    samples or more than 2 dimensions.
    """
    if isinstance(wave, (str, bytes)):
        raise TypeError("waveform must be an array of samples, not a string (load the file first)")
    if isinstance(wave, (list, tuple)):
        if len(wave) == 0:
            raise ValueError("empty batch: pass at least one clip")
        if all(isinstance(w, Real) for w in wave):  # a plain list of numbers is one clip
            return Clips([_one_clip(np.asarray(wave, dtype=np.float64), None)], single=True, torch_input=False)
        torch_in = all(isinstance(w, torch.Tensor) for w in wave)
        return Clips([_one_clip(w, i) for i, w in enumerate(wave)], single=False, torch_input=torch_in)
    torch_in = isinstance(wave, torch.Tensor)
    ndim = wave.ndim if torch_in else np.ndim(wave)
    if ndim == 0:
        raise ValueError("waveform is a scalar; expected a 1-D clip, a [B, N] batch or a list of clips")
    if ndim == 1:
        return Clips([_one_clip(wave, None)], single=True, torch_input=torch_in)
    if ndim == 2:
        if len(wave) == 0:
            raise ValueError("empty batch: the [B, N] array has B = 0")
        return Clips([_one_clip(w, i) for i, w in enumerate(wave)], single=False, torch_input=torch_in)
    shape = tuple(wave.shape) if hasattr(wave, "shape") else np.shape(wave)
    raise ValueError(
        f"waveform has {ndim} dimensions {shape}; allowed: 1-D [N], 2-D [B, N] or a list of 1-D clips "
        "(pass the channels of a multi-channel recording as separate clips)"
    )


def as_sequence(values: Any, n: int, name: str) -> list:
    """Broadcast a scalar or check a sequence of length ``n`` (used for per-clip metadata)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
        return [values] * n
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but there are {n} clips")
    return values
