"""Projection heads of the six ASD streams: ``Linear(in_dim, 256) + ReLU`` (``256 · in_dim + 256`` parameters)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["HEAD_DIM", "ProjectionHead"]

HEAD_DIM = 256


class ProjectionHead(nn.Module):
    """``[B, in_dim] → [B, out_dim]`` with ``Linear + ReLU``."""

    def __init__(self, in_dim: int, out_dim: int = HEAD_DIM) -> None:
        super().__init__()
        for name, value in (("in_dim", in_dim), ("out_dim", out_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"ProjectionHead {name} must be a positive int, got {value!r}")
        self.in_dim, self.out_dim = in_dim, out_dim
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"ProjectionHead expects [..., {self.in_dim}] input, got {tuple(x.shape)}")
        return torch.relu(self.linear(x))
