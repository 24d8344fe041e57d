"""Light CNN decoder: student outputs at visible patches + noise at hidden ones → predictions for every patch.

The student's visible token outputs ``[S, n_vis, D]`` are scattered back onto the band's ``Tp × Fp`` patch grid;
hidden positions hold Gaussian noise (``noise_std``). ``layers`` blocks of
``grouped Conv2d(kernel, same padding) → LayerNorm over channels (no affine) → GELU`` (residual from the second
block on, where the shapes match) run over the grid, and a linear layer maps back to ``D``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvDecoder"]


class _ConvBlock(nn.Module):
    def __init__(self, in_dim: int, dim: int, kernel: int, groups: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_dim, dim, kernel, padding=kernel // 2, groups=groups)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [S, C, Tp, Fp]
        y = self.conv(x).permute(0, 2, 3, 1)
        y = F.layer_norm(y, (self.dim,))
        return F.gelu(y).permute(0, 3, 1, 2)


class ConvDecoder(nn.Module):
    """Predict teacher targets ``[S, N, D]`` for all ``N = Tp·Fp`` patches of each band sequence."""

    def __init__(
        self,
        embed_dim: int,
        dim: int = 384,
        layers: int = 5,
        kernel: int = 5,
        groups: int = 16,
        dropout: float = 0.1,
        noise_std: float = 0.01,
    ) -> None:
        super().__init__()
        if embed_dim % groups or dim % groups:
            raise ValueError(f"decoder groups {groups} must divide embed_dim {embed_dim} and decoder dim {dim}")
        self.embed_dim, self.noise_std = embed_dim, noise_std
        self.input_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            _ConvBlock(embed_dim if i == 0 else dim, dim, kernel, groups) for i in range(layers)
        )
        self.proj = nn.Linear(dim, embed_dim)

    def forward(
        self, visible: torch.Tensor, index: torch.Tensor, grid: tuple[int, int], pad: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``visible`` ``[S, n_vis, D]`` at token positions ``index`` ``[S, n_vis]`` → ``[S, Tp·Fp, D]``.

        ``pad`` ``[S, n_vis]`` (bool): filler slots of sequences with fewer visible patches; they are dropped.
        """
        s, _, d = visible.shape
        tp, fp = grid
        n = tp * fp
        x = visible.new_empty(s, n + 1, d).normal_(0.0, self.noise_std)
        if pad is not None:
            index = index.masked_fill(pad, n)  # filler slots land in a scratch column that is cut off
        x = x.scatter(1, index.unsqueeze(-1).expand(-1, -1, d), visible)[:, :n]
        x = self.input_dropout(x)
        x = x.transpose(1, 2).reshape(s, d, tp, fp)
        for i, block in enumerate(self.blocks):
            y = block(x)
            x = y + x if i > 0 else y
        return self.proj(x.flatten(2).transpose(1, 2))
