"""Torch-free validation of user waveforms and sampling rates (numpy only).

This is the single input-checking code path of the library: :func:`fisher.signals.validate.as_clips` (used by
``Fisher.embed``, ``fisher.spectrogram`` and the ``fisher_asd`` encoders) wraps :func:`as_arrays`, and the
torch-free :class:`fisher.deploy.runtime.OnnxFisher` calls it directly. Torch tensors are accepted without importing
torch (they are recognised by type and converted through ``.numpy()``).

Conventions (the rules every entry point shares: ``Fisher.embed``, ``OnnxFisher.embed``, the encoders of
:mod:`fisher.eval` and ``fisher_asd``, and the file readers):
    * A clip is a 1-D sequence of samples. ``[B, N]`` arrays and lists of 1-D arrays are batches of clips.
    * **One channel rule** (:func:`check_not_channels_last`): a 2-D ``[a, b]`` array with ``b <= 8`` and ``a > b``
      looks like soundfile's ``(frames, channels)`` layout and is refused with the fixes (``x[:, 0]`` one channel,
      ``x.mean(axis=1)`` a mix, ``x.T`` if the rows are clips). No valid clip has <= 8 samples, so the rule never
      refuses a usable input. A ``(channels, frames)`` array with few rows is a batch of clips (kept).
    * Floating-point input is used as is (expected range [-1, 1)), converted to float32; NaN / inf samples are
      refused (:func:`first_non_finite` names the first one).
    * Integer PCM (:data:`PCM_DTYPES`) is scaled by its dtype's full scale: ``int16 / 2**15``, ``int32 / 2**31``,
      ``uint8`` as ``(x - 128) / 2**7`` (the WAV 8-bit convention). Other integer dtypes (``int64`` — numpy's
      default —, ``int8``, ``uint16`` …) are refused with a ``TypeError``: their full scale is almost never the
      intended one (``np.array([100, -100])`` would become ~1e-17).
    * Sampling rates (:func:`check_sr`) are positive whole numbers of Hz (``44100.5``, ``0``, ``nan``, ``True``,
      ``"16000"`` are refused); ``integer=False`` admits fractional rates where they make sense (resampling,
      rates stated by files).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from fisher.types import WaveLike

if TYPE_CHECKING:
    import torch

__all__ = [
    "MAX_CHANNELS",
    "PCM_DTYPES",
    "ClipArrays",
    "as_arrays",
    "as_sequence",
    "check_not_channels_last",
    "check_sr",
    "first_non_finite",
    "is_torch_tensor",
    "pcm_to_float",
]

#: A 2-D ``[a, b]`` array with ``b <= MAX_CHANNELS < a`` is read as ``(frames, channels)`` and refused.
MAX_CHANNELS = 8
#: Integer dtypes accepted as PCM, with their full scale.
PCM_DTYPES = ("int16", "int32", "uint8")


def is_torch_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor`` (checked without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def check_sr(sr: Any, *, name: str = "sr", integer: bool = True) -> float:
    """Return ``sr`` (Hz) as a float after checking it is a positive finite whole number.

    Args:
        sr: the sampling rate; ``bool``, strings and other non-numbers raise ``TypeError``.
        name: the argument's name in messages.
        integer: refuse fractional rates (``ValueError``). FISHER's STFT (``n_fft = floor(25 ms·sr)``) is defined
            for whole rates only; ``False`` only where a fractional rate is meaningful (resampling, file headers).
    """
    if isinstance(sr, bool) or not isinstance(sr, (Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive number in Hz (e.g. 16000), got {type(sr).__name__}: {sr!r}")
    value = float(sr)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number in Hz, got {sr!r}")
    if integer and not value.is_integer():
        raise ValueError(
            f"{name} must be a whole number of Hz for FISHER's STFT (n_fft = floor(25 ms·sr)), got {sr!r}; round it "
            "or resample to an integer rate"
        )
    return value


def check_not_channels_last(shape: tuple[int, ...], where: str = "waveform") -> None:
    """Refuse a 2-D shape that looks like soundfile's ``(frames, channels)`` layout (the one channel rule).

    Pure and torch-free; called by :func:`as_arrays` (so by every ``embed``) and available to any other entry point
    that takes ``[B, N]`` batches. Raises ``ValueError`` naming the shape and the fixes when ``shape`` is
    ``(a, b)`` with ``b <= MAX_CHANNELS`` and ``a > b``; other shapes pass (``(channels, frames)`` is a batch).
    """
    if len(shape) != 2:
        return
    a, b = (int(s) for s in shape)
    if b <= MAX_CHANNELS and a > b:
        raise ValueError(
            f"{where} has shape {(a, b)}, which looks like (frames, channels) = {a} frames of {b} channel(s), not "
            f"{a} clips of {b} samples; pass x[:, 0] (one channel), x.mean(axis=1) (mix) or x.T if these are clips"
        )


def first_non_finite(samples: np.ndarray) -> int | None:
    """Index of the first NaN / ±inf of a 1-D float array, or ``None`` when every sample is finite."""
    finite = np.isfinite(samples)
    return None if finite.all() else int(np.argmin(finite))


def pcm_to_float(array: np.ndarray, where: str = "waveform") -> np.ndarray:
    """Scale integer PCM (:data:`PCM_DTYPES`) to float32 in [-1, 1) by its full scale; floats are cast to float32.

    Raises ``TypeError`` naming ``where`` for other integer dtypes (int64, int8, uint16 …) and non-numeric data.
    """
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float32, copy=False)
    if array.dtype == np.uint8:
        return ((array.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if array.dtype in (np.int16, np.int32):
        scale = float(2 ** (8 * array.dtype.itemsize - 1))
        return (array.astype(np.float64) / scale).astype(np.float32)
    if kind in "iu":
        raise TypeError(
            f"{where}: integer dtype {array.dtype} is not an accepted PCM format; integer PCM must be int16 "
            "(/ 2**15), int32 (/ 2**31) or uint8 (WAV 8-bit, (x - 128) / 2**7). Convert explicitly, e.g. "
            "x.astype(np.float32) / 32768 for 16-bit sample values"
        )
    raise TypeError(
        f"{where}: dtype {array.dtype} is not numeric audio; allowed: float16/32/64 or integer PCM "
        f"({', '.join(PCM_DTYPES)})"
    )


def _type_name(x: Any) -> str:
    cls = type(x)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _not_a_wave(x: Any, where: str = "wave") -> TypeError:
    hint = "; to embed a file use model.embed_file(path)" if isinstance(x, (str, bytes, os.PathLike)) else ""
    allowed = (
        "a 1-D numpy array, torch tensor or list of numbers"
        if where.startswith("clip")
        else ("a 1-D/2-D numpy array, torch tensor or list of 1-D arrays")
    )
    return TypeError(f"{where} must be {allowed}, got {_type_name(x)}{hint}")


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
    if x is None or isinstance(x, (str, bytes, os.PathLike, dict, set)):
        raise _not_a_wave(x, where)
    if is_torch_tensor(x):
        arr = _tensor_to_numpy(x, where)
    else:
        try:
            arr = np.asarray(x)
        except Exception as err:  # ragged nested lists, exotic objects
            raise TypeError(f"{where}: cannot convert {type(x).__name__} to a numeric array of samples") from err
    if arr.dtype == object and arr.ndim == 0:  # an arbitrary object, not samples
        raise _not_a_wave(x, where)
    if arr.dtype == object or arr.dtype.kind not in "fiu":
        kind = " (complex: pass the real part or the magnitude)" if arr.dtype.kind == "c" else ""
        raise TypeError(
            f"{where}: dtype {arr.dtype} is not numeric audio{kind}; pass float samples in [-1, 1) or integer PCM"
        )
    if arr.ndim != 1:
        check_not_channels_last(tuple(arr.shape), where)
        raise ValueError(f"{where}: expected a 1-D array of samples, got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{where} is empty (0 samples)")
    out = np.ascontiguousarray(pcm_to_float(arr, where))
    first = first_non_finite(out)
    if first is not None:
        raise ValueError(
            f"{where} contains {int((~np.isfinite(out)).sum())} NaN or infinite sample(s) (or values beyond "
            f"float32), the first at sample {first}; clean or drop it before embedding"
        )
    return out


def as_arrays(wave: WaveLike) -> ClipArrays:
    """Normalise the accepted waveform forms into a list of 1-D float32 numpy arrays.

    Accepts a 1-D array/tensor (one clip), a 2-D ``[B, N]`` array/tensor, or a list/tuple of 1-D arrays/tensors
    (lengths may differ). Raises ``TypeError`` for non-numeric data (strings, complex, objects) and ``ValueError``
    for empty input, NaN/inf samples, more than 2 dimensions or a ``(frames, channels)``-looking array
    (:func:`check_not_channels_last`).
    """
    if wave is None or isinstance(wave, (str, bytes, os.PathLike, dict, set)):
        raise _not_a_wave(wave)
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
        if isinstance(wave, bool) or not isinstance(wave, (Real, np.number)):
            raise _not_a_wave(wave)
        raise ValueError(f"waveform is a scalar ({wave!r}); expected a 1-D clip, a [B, N] batch or a list of clips")
    if ndim == 1:
        return ClipArrays([_one_clip(wave, None)], single=True, torch_input=torch_in, sources=sources)
    if ndim == 2:
        shape = tuple(int(s) for s in (wave.shape if hasattr(wave, "shape") else np.shape(wave)))
        if shape[0] == 0:
            raise ValueError("empty batch: the [B, N] array has B = 0")
        check_not_channels_last(shape)
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
