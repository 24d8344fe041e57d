"""Regression losses of the distillation objective (targets are constants: the teacher has no gradient).

``regression_loss(p, t) = mean over rows of ||p - t||² / sqrt(D)`` (data2vec 2.0 / EAT scaling), so
``L_patch`` = it over the hidden patches (decoder output vs teacher patch targets) and ``L_band`` = it over band
sequences (student CLS vs teacher band target). The total is ``patch_weight·L_patch + band_weight·L_band``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["regression_loss", "total_loss"]


def regression_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``pred``, ``target`` ``[M, D]`` → scalar ``mean_m ||pred_m - target_m||² / sqrt(D)`` in float32."""
    if pred.shape != target.shape or pred.ndim != 2:
        raise ValueError(f"pred and target must both be [M, D], got {tuple(pred.shape)} and {tuple(target.shape)}")
    diff = pred.float() - target.detach().float()
    return diff.square().sum(dim=-1).mean() / math.sqrt(pred.shape[-1])


def total_loss(patch: torch.Tensor, band: torch.Tensor, patch_weight: float = 1.0,
               band_weight: float = 1.0) -> torch.Tensor:
    return patch_weight * patch + band_weight * band
