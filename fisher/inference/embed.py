"""Deprecated location (to be removed in 0.3): the embedding recipe is :mod:`fisher.recipe.plan` and
:meth:`fisher.Fisher.embed` is a method of the class; the torch backend is :class:`fisher.model.backend.TorchBackend`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from fisher.model.backend import TorchBackend
from fisher.recipe.plan import EmbeddingRecipe
from fisher.recipe.plan import pool_bands as _pool_bands_np

__all__ = ["WindowEncoder", "embed", "pool_bands"]

warnings.warn(
    "fisher.inference.embed is deprecated: call model.embed(...) (a method of fisher.Fisher); the recipe is "
    "fisher.recipe.plan and the torch backend fisher.model.backend.TorchBackend",
    DeprecationWarning,
    stacklevel=2,
)


def embed(model: torch.nn.Module, wave: Any, sr: float, **options: Any) -> np.ndarray | torch.Tensor:
    """Deprecated: ``model.embed(wave, sr, **options)``."""
    return model.embed(wave, sr, **options)


def pool_bands(per_band: torch.Tensor, pool: str) -> torch.Tensor:
    """Deprecated: :func:`fisher.recipe.plan.pool_bands` (numpy)."""
    return torch.from_numpy(np.ascontiguousarray(_pool_bands_np(per_band.numpy(), pool)))


class WindowEncoder(TorchBackend):
    """Deprecated: :class:`fisher.model.backend.TorchBackend` built from ``(model, sr, ...)``."""

    def __init__(
        self,
        model: torch.nn.Module,
        sr: float,
        *,
        pad_frames: bool = False,
        precision: str = "fp32",
        device: str | torch.device | None = None,
        summary: str | None = None,
    ) -> None:
        recipe = EmbeddingRecipe.build(model.config, sr, pad_frames=pad_frames, summary=summary)
        super().__init__(model, recipe, precision=precision, device=device)
        self.n_fft, self.hop, self.num_bands, self.dim = recipe.n_fft, recipe.hop, recipe.bands, recipe.band_dim
        self.summary, self.pad_frames = recipe.summary, pad_frames
