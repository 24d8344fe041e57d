"""Inputs of the detector: lazily indexed clips and per-clip labels.

:class:`ClipSource` wraps what ``fit`` / ``score`` receive — a 1-D clip, a ``[B, N]`` array / tensor, a list of 1-D
clips, or any ``Sequence`` whose items are 1-D clips (e.g. :class:`ClipFiles`, which reads files on access) — and
hands out validated float32 clips (:func:`fisher.signals.validate.as_clips`) for a subset of indices, so large training sets
never have to sit in memory at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fisher.signals.validate import as_clips
from fisher.types import WaveLike

if TYPE_CHECKING:
    from fisher.signals.reader import ChannelId

__all__ = ["ClipFiles", "ClipSource", "as_labels"]


class ClipSource:
    """Index-able access to the clips of one call (see the module docstring)."""

    def __init__(self, waves: WaveLike) -> None:
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
        if isinstance(waves, (np.ndarray, torch.Tensor)) and waves.ndim != 2:
            raise ValueError(f"waves has shape {tuple(waves.shape)}; expected [N], [B, N] or a list of 1-D clips")
        if len(waves) == 0:
            raise ValueError("no clips given (empty batch)")
        self.waves = waves

    def __len__(self) -> int:
        return len(self.waves)

    def get(self, indices: Sequence[int]) -> list[torch.Tensor]:
        """Validated 1-D float32 clips for ``indices`` (errors name the clip's index in the whole call)."""
        out = []
        for i in indices:
            try:
                out.extend(as_clips([self.waves[int(i)]]).clips)
            except (TypeError, ValueError) as err:
                raise type(err)(f"clip {int(i)}: {err}") from None
        return out


def as_labels(values: Any, n: int, name: str, *, allow_none: bool = False) -> list[Any]:
    """Broadcast a scalar label or check a sequence of ``n`` labels (strings; ``None`` only if ``allow_none``)."""
    if values is None and allow_none:
        return [None] * n
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        values = [values] * n
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but there are {n} clips")
    out = []
    for v in values:
        if v is None and allow_none:
            out.append(None)
        elif isinstance(v, (str, np.str_)) and str(v).strip():
            out.append(str(v))
        else:
            raise TypeError(f"{name} labels must be non-empty strings, got {v!r}")
    return out


class ClipFiles(Sequence):
    """Signal files read on access (:func:`fisher.eval.datasets.read_signal`): item ``i`` is one channel of file ``i``.

    Args:
        paths: audio / signal files (WAV, FLAC, npz, mat …).
        channel: channel index or ``"mean"`` (DCASE 2026 two-channel clips: 0 = near microphone, the default, as
            the official baseline).
        sr: expected sampling rate in Hz; a file at another rate raises ``ValueError`` (nothing is resampled here).
    """

    def __init__(
        self, paths: Sequence[str | os.PathLike], *, channel: ChannelId | None = 0, sr: float | None = None
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.channel, self.sr = channel, sr

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        from fisher.signals.reader import read_signal

        data, _ = read_signal(self.paths[i], channel=self.channel, sr=self.sr)
        return data
