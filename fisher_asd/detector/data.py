"""Inputs of the detector: lazily indexed clips and per-clip labels.

:func:`clip_source` is the **one** input-normalising function of every detector entry point: it checks the sampling
rate and the array layout (:mod:`.inputs`) and wraps what ``fit`` / ``embed`` / ``score`` / ``predict`` receive — a
1-D clip, a ``[B, N]`` array / tensor, a list of 1-D clips, or any ``Sequence`` whose items are 1-D clips (e.g.
:class:`ClipFiles`, which reads files on access) — in a :class:`ClipSource`. That hands out validated float32 clips
(:func:`fisher.signals.validate.as_clips`, at least :data:`~.inputs.MIN_CLIP_SECONDS` long; a file's own rate must
equal the call's ``sr``) for a subset of indices, so large training sets never have to sit in memory at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fisher.signals.validate import as_clips
from fisher.types import SampleRate, WaveLike

from .inputs import check_clip_duration, check_not_channels_last, check_rate

if TYPE_CHECKING:
    from fisher.signals.reader import ChannelId

__all__ = ["ClipFiles", "ClipSource", "as_labels", "clip_source"]


class ClipSource:
    """Index-able access to the clips of one call at ``sr`` Hz (see the module docstring; build it with
    :func:`clip_source`)."""

    def __init__(self, waves: WaveLike, sr: float) -> None:
        if isinstance(waves, (str, bytes, os.PathLike)):
            raise TypeError("waves must be audio samples (or a ClipFiles sequence), not a path; load the file first")
        if isinstance(waves, (np.ndarray, torch.Tensor)) and waves.ndim == 1:
            waves = [waves]
        elif isinstance(waves, (list, tuple)) and waves and all(np.isscalar(w) for w in waves):
            waves = [np.asarray(waves)]  # a plain list of numbers is one clip
        if not isinstance(waves, (np.ndarray, torch.Tensor, Sequence)):
            raise TypeError(
                f"waves must be a 1-D clip, a [B, N] array / tensor or a sequence of 1-D clips, got {type(waves).__name__}"
            )
        if isinstance(waves, (np.ndarray, torch.Tensor)):
            if waves.ndim != 2:
                raise ValueError(
                    f"waves has shape {tuple(waves.shape)}; allowed: [N] (one clip), [B, N] (B clips) or a list of "
                    "1-D clips (pass one channel of a multi-channel recording, e.g. x[:, 0])"
                )
            check_not_channels_last(tuple(waves.shape))
        if len(waves) == 0:
            raise ValueError("no clips given (empty batch): pass at least one clip")
        if isinstance(waves, ClipFiles) and waves.sr is not None and check_rate(waves.sr, name="ClipFiles sr") != sr:
            raise ValueError(
                f"ClipFiles(sr={waves.sr:g}) but sr={sr:g} Hz was given to the detector; pass the files' rate to both"
            )
        self.waves = waves
        self.sr = sr

    def __len__(self) -> int:
        return len(self.waves)

    def get(self, indices: Sequence[int]) -> list[torch.Tensor]:
        """Validated 1-D float32 clips for ``indices`` (errors name the clip's index in the whole call)."""
        out = []
        for i in indices:
            i = int(i)
            if isinstance(self.waves, ClipFiles):
                item = self.waves.read_checked(i, self.sr)
                where = f"clip {i} ({self.waves.paths[i]})"
            else:
                item, where = self.waves[i], f"clip {i}"
            try:
                clip = as_clips([item]).clips[0]
            except (TypeError, ValueError) as err:
                msg = str(err)  # as_clips numbers the clip 0 within [item]: name it by its index in the call
                msg = where + msg[len("clip 0") :] if msg.startswith("clip 0") else f"{where}: {msg}"
                raise type(err)(msg) from None
            check_clip_duration(int(clip.shape[0]), self.sr, where)
            out.append(clip)
        return out


def clip_source(waves: WaveLike, sr: SampleRate) -> ClipSource:
    """The one input-normalising step of every detector entry point: check ``sr`` (:func:`~.inputs.check_rate`) and
    the layout of ``waves`` and wrap them in a :class:`ClipSource` (clips are read and checked lazily)."""
    return ClipSource(waves, check_rate(sr))


def as_labels(values: Any, n: int, name: str, *, allow_none: bool = False) -> list[Any]:
    """Broadcast a scalar label or check a sequence of ``n`` labels (strings; ``None`` only if ``allow_none``)."""
    if values is None and allow_none:
        return [None] * n
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        values = [values] * n
    values = list(values)
    if len(values) != n:
        raise ValueError(
            f"{name} has {len(values)} entries but there are {n} clips; pass one {name} label for all clips or one "
            "per clip"
        )
    out = []
    for v in values:
        if v is None and allow_none:
            out.append(None)
        elif isinstance(v, (str, np.str_)) and str(v).strip():
            out.append(str(v))
        else:
            raise TypeError(f"{name} labels must be non-empty strings (e.g. 'fan', 'source'), got {v!r}")
    return out


class ClipFiles(Sequence):
    """Signal files read on access (:func:`fisher.eval.datasets.read_signal`): item ``i`` is one channel of file ``i``.

    Args:
        paths: audio / signal files (WAV, FLAC, npz, mat …).
        channel: channel index or ``"mean"`` (DCASE 2026 two-channel clips: 0 = near microphone, the default, as
            the official baseline).
        sr: expected sampling rate in Hz; a file at another rate raises ``ValueError`` (nothing is resampled here).
            Whatever is given here, the detector checks each file's rate against the ``sr`` of the call
            (``fit(files, 16000, ...)`` on 48 kHz files raises ``ValueError`` naming the file and both rates).
    """

    def __init__(
        self, paths: Sequence[str | os.PathLike], *, channel: ChannelId | None = 0, sr: float | None = None
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.channel, self.sr = channel, sr

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        return self.read(i)[0]

    def read(self, i: int) -> tuple[np.ndarray, float]:
        """Samples and sampling rate (Hz) of file ``i``."""
        from fisher.signals.reader import read_signal

        return read_signal(self.paths[i], channel=self.channel, sr=self.sr)

    def read_checked(self, i: int, sr: float) -> np.ndarray:
        """Samples of file ``i`` after checking that the file's rate is ``sr`` (``ValueError`` naming the file)."""
        data, rate = self.read(i)
        if abs(float(rate) - float(sr)) > 1e-6:
            raise ValueError(
                f"clip {i}: {self.paths[i]} is sampled at {rate:g} Hz but sr={sr:g} Hz was given; nothing is "
                f"resampled here: resample the files to {sr:g} Hz or pass sr={rate:g} (one rate per call)"
            )
        return data
