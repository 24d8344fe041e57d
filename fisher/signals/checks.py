"""Torch-free validation of user waveforms and sampling rates (numpy only).

This is the single input-checking code path of the library: :func:`fisher.signals.validate.as_clips` (used by
``Fisher.embed``, ``fisher.spectrogram`` and the ``fisher_asd`` encoders) wraps :func:`as_arrays`, and the
torch-free :class:`fisher.deploy.runtime.OnnxFisher` calls it directly. Torch tensors are accepted without importing
torch (they are recognised by type and converted through ``.numpy()``).

Conventions:
    * A clip is a 1-D sequence of samples. ``[B, N]`` arrays and lists of 1-D arrays are batches of clips.
      Channels of a multi-channel recording are passed as separate clips (``wave.T`` for soundfile's
      ``(frames, channels)`` arrays).
    * Floating-point input is used as is (expected range [-1, 1)), converted to float32.
    * Integer PCM is scaled by its dtype's full scale: ``int16 / 2**15``, ``int32 / 2**31``, ``int8 / 2**7``,
      ``uint8`` as ``(x - 128) / 2**7`` (the WAV 8-bit convention), ``int64 / 2**63``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from fisher.types import WaveLike

if TYPE_CHECKING:
    import torch

__all__ = ["ClipArrays", "as_arrays", "as_sequence", "check_sr", "is_torch_tensor", "pcm_to_float"]

# A [B, N] array with N at most this and N < B is almost surely soundfile's (frames, channels) layout.
_MAX_CHANNELS_HINT = 64


def is_torch_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor`` (checked without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


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


def _tensor_to_numpy(t: torch.Tensor, where: str) -> np.ndarray:
    t = t.detach().cpu()
    if t.is_complex():
        raise TypeError(f"{where}: dtype {t.dtype} is not numeric audio (complex: pass the real part or the magnitude)")
    if t.is_floating_point() and str(t.dtype) not in ("torch.float16", "torch.float32", "torch.float64"):
        t = t.float()  # bfloat16 and other float formats numpy lacks
    return t.numpy()


@dataclass
class ClipArrays:
    """A validated batch of clips.

    Attributes:
        clips: list of 1-D float32 numpy arrays (samples), one per clip, possibly of different lengths.
        single: the input was one 1-D clip (the caller should drop the batch axis of its result).
        torch_input: the input was a torch tensor (or a list of them): the caller should return torch tensors.
        sources: the original torch tensors when ``torch_input`` (their devices), else ``None``.
    """

    clips: list[np.ndarray]
    single: bool
    torch_input: bool
    sources: list[Any] | None = None


def _one_clip(x: Any, index: int | None) -> np.ndarray:
    where = "waveform" if index is None else f"clip {index}"
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{where} is a {type(x).__name__}, not an array of samples (load the file first)")
    if is_torch_tensor(x):
        arr = _tensor_to_numpy(x, where)
    else:
        try:
            arr = np.asarray(x)
        except Exception as err:  # ragged nested lists, exotic objects
            raise TypeError(f"{where}: cannot convert {type(x).__name__} to a numeric array of samples") from err
    if arr.dtype == object or arr.dtype.kind not in "fiu":
        kind = " (complex: pass the real part or the magnitude)" if arr.dtype.kind == "c" else ""
        raise TypeError(
            f"{where}: dtype {arr.dtype} is not numeric audio{kind}; pass float samples in [-1, 1) or integer PCM"
        )
    if arr.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D array of samples, got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{where} is empty (0 samples)")
    out = np.ascontiguousarray(pcm_to_float(arr))
    finite = np.isfinite(out)
    if not finite.all():
        raise ValueError(
            f"{where} contains {int((~finite).sum())} NaN or infinite sample(s) (or values beyond float32); "
            "clean or drop it before embedding"
        )
    return out


def _check_layout(shape: tuple[int, ...]) -> None:
    b, n = shape
    if n < b and n <= _MAX_CHANNELS_HINT:
        raise ValueError(
            f"waveform has shape {shape}, i.e. {b} clips of {n} samples each; this looks like soundfile's "
            f"(frames, channels) layout. Pass the channels as clips with wave.T (shape ({n}, {b})), or one channel "
            "with wave[:, 0]"
        )


def as_arrays(wave: WaveLike) -> ClipArrays:
    """Normalise the accepted waveform forms into a list of 1-D float32 numpy arrays.

    Accepts a 1-D array/tensor (one clip), a 2-D ``[B, N]`` array/tensor, or a list/tuple of 1-D arrays/tensors
    (lengths may differ). Raises ``TypeError`` for non-numeric data (strings, complex, objects) and ``ValueError``
    for empty input, NaN/inf samples, more than 2 dimensions or a ``(frames, channels)``-looking array.
    """
    if isinstance(wave, (str, bytes)):
        raise TypeError("waveform must be an array of samples, not a string (load the file first)")
    if isinstance(wave, (list, tuple)):
        if len(wave) == 0:
            raise ValueError("empty batch: pass at least one clip")
        if all(isinstance(w, Real) and not isinstance(w, bool) for w in wave):  # a plain list of numbers: one clip
            return ClipArrays([_one_clip(np.asarray(wave, dtype=np.float64), None)], single=True, torch_input=False)
        torch_in = all(is_torch_tensor(w) for w in wave)
        clips = [_one_clip(w, i) for i, w in enumerate(wave)]
        return ClipArrays(clips, single=False, torch_input=torch_in, sources=list(wave) if torch_in else None)
    torch_in = is_torch_tensor(wave)
    try:
        ndim = wave.ndim if torch_in else np.ndim(wave)
    except Exception as err:  # ragged nested sequences inside arrays, exotic objects
        raise TypeError(f"waveform of type {type(wave).__name__} is not an array of samples") from err
    sources = [wave] if torch_in else None
    if ndim == 0:
        raise ValueError("waveform is a scalar; expected a 1-D clip, a [B, N] batch or a list of clips")
    if ndim == 1:
        return ClipArrays([_one_clip(wave, None)], single=True, torch_input=torch_in, sources=sources)
    if ndim == 2:
        shape = tuple(int(s) for s in (wave.shape if hasattr(wave, "shape") else np.shape(wave)))
        if shape[0] == 0:
            raise ValueError("empty batch: the [B, N] array has B = 0")
        _check_layout(shape)
        return ClipArrays(
            [_one_clip(w, i) for i, w in enumerate(wave)], single=False, torch_input=torch_in, sources=sources
        )
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
