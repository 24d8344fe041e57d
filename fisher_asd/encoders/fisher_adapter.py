"""FISHER as a ``fisher_asd`` encoder: works at the input's native rate (never resamples).

``pool="concat"`` (default) concatenates the per-band CLS vectors → ``num_bands(sr) · D`` values (depends on the
rate, so ``dim`` is None; use ``embedding_dim(sr)``); ``pool="mean"`` averages the bands → ``D`` (192 / 256 / 384 for
tiny / mini / small). Long clips follow ``long`` (``"chunk"``: windows averaged, ``"truncate"``). The frame-level
variant is not offered (FISHER is used frozen in ``fisher_asd``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from fisher.signals.validate import check_sr

__all__ = ["FisherEncoder"]


class FisherEncoder:
    """Adapter over :class:`fisher.Fisher` implementing the encoder protocol."""

    name = "fisher"
    sample_rate = None

    def __init__(
        self,
        model: Any = "small",
        *,
        pool: str = "concat",
        long: str = "chunk",
        device: str | torch.device | None = None,
        local_files_only: bool | None = None,
    ) -> None:
        from fisher import Fisher, FisherConfig

        if pool not in ("concat", "mean"):
            raise ValueError(f"pool must be 'concat' or 'mean' (one vector per clip), got {pool!r}")
        if long not in ("chunk", "truncate"):
            raise ValueError(f"long must be 'chunk' or 'truncate', got {long!r}")
        if isinstance(model, FisherConfig):
            model = Fisher(model)
        elif isinstance(model, (str, os.PathLike)):
            model = Fisher.from_pretrained(model, local_files_only=local_files_only)
        elif not isinstance(model, Fisher):
            raise TypeError(f"model must be a Fisher, a FisherConfig, a name or a path, got {type(model).__name__}")
        self.model = model.eval()
        self.pool, self.long, self.device = pool, long, device
        self.dim = model.embed_dim if pool == "mean" else None

    def __repr__(self) -> str:
        return f"FisherEncoder(pool={self.pool!r}, long={self.long!r}, model={self.model.extra_repr()})"

    def embedding_dim(self, sr: float) -> int:
        """``num_bands(sr) · D`` for ``pool="concat"``, ``D`` for ``"mean"``."""
        return self.model.embedding_dim(check_sr(sr), self.pool)

    def embed(self, waves: Any, sr: float, *, batch_size: int = 8) -> np.ndarray | torch.Tensor:
        """``[B, embedding_dim(sr)]`` (``[dim]`` for one clip); numpy unless the input was torch."""
        return self.model.embed(waves, sr, pool=self.pool, long=self.long, batch_size=batch_size, device=self.device)

    def frames(self, waves: Any, sr: float):
        raise NotImplementedError(
            "FisherEncoder has no frame-level (trainable) variant; fisher_asd uses FISHER frozen via embed()"
        )
