"""Deprecated location (to be removed in 0.3): long recordings are embedded by :meth:`fisher.Fisher.embed_file`
with the torch-free driver :mod:`fisher.recipe.streaming` (``SignalReader``, ``FileEmbedding`` live there).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.model.backend import TorchBackend
from fisher.recipe import streaming as _streaming
from fisher.recipe.framing import check_options, parse_summary
from fisher.recipe.plan import EmbeddingRecipe
from fisher.recipe.streaming import DC_BLOCK, FileEmbedding

__all__ = ["DC_BLOCK", "FileEmbedding", "SignalReader", "embed_file", "iter_file_windows"]

warnings.warn(
    "fisher.inference.streaming is deprecated: use model.embed_file(...) and fisher.recipe.streaming",
    DeprecationWarning,
    stacklevel=2,
)


class SignalReader(_streaming.SignalReader):
    """Deprecated: :class:`fisher.recipe.streaming.SignalReader` (whose ``read`` returns numpy)."""

    def read(self, start: int, stop: int) -> torch.Tensor:  # type: ignore[override]
        return torch.from_numpy(super().read(start, stop))


def embed_file(model: torch.nn.Module, path: str | Path, **options: Any) -> FileEmbedding:
    """Deprecated: ``model.embed_file(path, **options)``."""
    return model.embed_file(path, **options)


def iter_file_windows(
    model: torch.nn.Module,
    path: str | Path,
    *,
    channel: int | str = 0,
    key: str | None = None,
    sr: float | None = None,
    pool: str = "concat",
    batch_size: int = 8,
    precision: str = "fp32",
    device: Any = None,
    summary: str | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Deprecated: :func:`fisher.recipe.streaming.iter_reader_windows` with a :class:`TorchBackend`."""
    check_options(pool, "chunk", False, batch_size)
    if summary is not None:
        parse_summary(summary)
    with _streaming.open_reader(path, channel=channel, key=key, sr=sr) as reader:
        recipe = EmbeddingRecipe.build(model.config, reader.sr, pool=pool, batch_size=batch_size, summary=summary)
        backend = TorchBackend(model, recipe, precision=precision, device=device)
        yield from _streaming.iter_reader_windows(recipe, backend, reader)
