"""The band (utterance-level) objective's head: what the student CLS is compared with, and how.

EAT and data2vec 2.0 regress the raw student CLS onto the mean of the teacher's patch targets. On a small corpus
this fails in two measured ways (docs/pretraining.md, "A CLS that learns"):

* **scale gap** — a post-norm ViT's CLS leaves the last LayerNorm with norm ≈ ‖γ‖ (5–11 here) while the target
  (a mean of instance-normed, layer-normed tokens) has norm ≈ 0.2, so the loss and its gradient are dominated by
  a component shared by every clip;
* **uninformative target** — instance norm makes every channel zero-mean over a sequence's tokens, so the mean of
  the patch targets hardly differs between clips and matching it teaches the CLS little.

:class:`BandHead` fixes both, each part optional (``loss.cls_head``, ``targets.band_norm``):

* ``projection="linear"``: a ``Linear(D, D)`` on the student CLS before the loss (a pretraining-only head, dropped
  at export like the decoder; EAT keeps a ``cls_proj`` of the same shape for its DINO variant);
* ``norm="running"``: band targets standardised per channel with running statistics over the batches
  (``(t - μ) / sqrt(σ² + eps)``, momentum ``m``: ``μ ← m·μ + (1-m)·mean_batch``, also for ``σ²``; DINO-style
  centring plus scaling), so the target is what distinguishes clips and a constant CLS costs ≈ 1 per channel.
  ``norm="batch"`` uses the current batch's statistics only (needs several sequences per batch).

The statistics are buffers, saved in checkpoints with the head (exact resume).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["BAND_NORMS", "CLS_HEADS", "BandHead"]

CLS_HEADS = ("none", "linear")
BAND_NORMS = ("none", "batch", "running")


class BandHead(nn.Module):
    """Student-CLS projection and band-target standardisation for the band loss (``D`` channels)."""

    def __init__(
        self, dim: int, projection: str = "none", norm: str = "none", momentum: float = 0.99, eps: float = 1e-5
    ) -> None:
        super().__init__()
        if projection not in CLS_HEADS:
            raise ValueError(f"loss.cls_head must be one of {CLS_HEADS}, got {projection!r}")
        if norm not in BAND_NORMS:
            raise ValueError(f"targets.band_norm must be one of {BAND_NORMS}, got {norm!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"targets.band_norm_momentum must be in [0, 1), got {momentum!r}")
        self.norm, self.momentum, self.eps = norm, momentum, eps
        self.proj = nn.Linear(dim, dim) if projection == "linear" else nn.Identity()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))

    def project(self, cls: torch.Tensor) -> torch.Tensor:
        """Student CLS ``[M, D]`` → the prediction compared with the band target ``[M, D]``."""
        return self.proj(cls)

    @torch.no_grad()
    def _batch_moments(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, sq = t.mean(dim=0), t.square().mean(dim=0)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            both = torch.stack([mean, sq])
            dist.all_reduce(both)
            mean, sq = both / dist.get_world_size()
        return mean, (sq - mean.square()).clamp_min(0.0)

    @torch.no_grad()
    def normalise(self, target: torch.Tensor) -> torch.Tensor:
        """Band targets ``[S, D]`` (float32, no gradient) → standardised targets; updates running statistics in
        training mode (the first batch initialises them)."""
        if self.norm == "none":
            return target
        t = target.float()
        mean, var = self._batch_moments(t)
        if self.norm == "running":
            if self.training:
                if int(self.seen) == 0:
                    self.mean.copy_(mean)
                    self.var.copy_(var)
                else:
                    self.mean.mul_(self.momentum).add_(mean, alpha=1.0 - self.momentum)
                    self.var.mul_(self.momentum).add_(var, alpha=1.0 - self.momentum)
                self.seen += 1
            mean, var = self.mean, self.var
        return (t - mean) / torch.sqrt(var + self.eps)
