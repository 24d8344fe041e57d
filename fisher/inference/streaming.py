"""Deprecated location (to be removed in 0.3): long recordings are embedded by :meth:`fisher.Fisher.embed_file`
with the torch-free driver :mod:`fisher.recipe.long_files` (``SignalReader``, ``FileEmbedding`` live there).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.recipe import long_files as _streaming
from fisher.recipe.long_files import DC_BLOCK, FileEmbedding

__all__ = ["DC_BLOCK", "FileEmbedding", "SignalReader", "embed_file", "iter_file_windows"]

warnings.warn(
    "fisher.inference.streaming is deprecated: use model.embed_file(...) and fisher.recipe.long_files",
    DeprecationWarning,
    stacklevel=2,
)


class SignalReader(_streaming.SignalReader):
    """Deprecated: :class:`fisher.recipe.long_files.SignalReader` (whose ``read`` returns numpy)."""

    def read(self, start: int, stop: int) -> torch.Tensor:  # type: ignore[override]
        return torch.from_numpy(super().read(start, stop))


def embed_file(model: torch.nn.Module, path: str | Path, **options: Any) -> FileEmbedding:
    """Deprecated: ``model.embed_file(path, **options)``."""
    return model.embed_file(path, **options)


def iter_file_windows(
    model: torch.nn.Module, path: str | Path, **options: Any
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Deprecated: ``model.iter_file_windows(path, **options)``."""
    return model.iter_file_windows(path, **options)
