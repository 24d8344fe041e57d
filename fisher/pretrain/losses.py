"""Regression losses of the distillation objective (targets are constants: the teacher has no gradient).

Per row: ``ℓ(p, t) = ||p - t||² / sqrt(D)`` (data2vec 2.0 / EAT scaling).

* ``L_patch`` = the **mean** of ``ℓ`` over the hidden real patches (decoder output vs teacher patch target);
* ``L_band`` = ``ℓ`` of every (cloned) band sequence's student CLS vs its teacher band target, **summed** over the
  sequences (``band_reduction="sum"``, EAT's effective weighting: EAT multiplies its CLS loss by the number of
  masked tokens and its criterion divides every summed term by that number) or averaged (``"mean"``);
* total = ``patch_weight·L_patch + band_weight·L_band`` (paper: ``L = L_band + L_patch``).
"""

from __future__ import annotations

import math

import torch

__all__ = ["REDUCTIONS", "reduce_rows", "regression_loss", "row_loss", "total_loss"]

REDUCTIONS = ("sum", "mean")


def row_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``pred``, ``target`` ``[M, D]`` → float32 ``[M]``: ``||pred_m - target_m||² / sqrt(D)``."""
    if pred.shape != target.shape or pred.ndim != 2:
        raise ValueError(f"pred and target must both be [M, D], got {tuple(pred.shape)} and {tuple(target.shape)}")
    diff = pred.float() - target.detach().float()
    return diff.square().sum(dim=-1) / math.sqrt(pred.shape[-1])


def reduce_rows(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return losses.sum() if reduction == "sum" else losses.mean()


def regression_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """``[M, D]`` pairs → scalar: the ``reduction`` (``"mean"`` or ``"sum"``) of :func:`row_loss`."""
    return reduce_rows(row_loss(pred, target), reduction)


def total_loss(
    patch: torch.Tensor, band: torch.Tensor, patch_weight: float = 1.0, band_weight: float = 1.0
) -> torch.Tensor:
    return patch_weight * patch + band_weight * band
