"""Post-norm transformer blocks of the FISHER encoder (no dropout, no drop-path: inference-exact).

Block: ``h = LN1(x + Attn(x)); y = LN2(h + MLP(h))`` with LayerNorm eps 1e-6, a qkv projection with bias laid out
``[q | k | v]``, softmax attention scaled by ``head_dim ** -0.5``, and an exact-erf GELU MLP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

__all__ = ["Attention", "Block", "Mlp", "sincos_table"]


class Attention(nn.Module):
    """Multi-head self-attention over ``[S, N, D]`` (S sequences of N tokens)."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``[S, N, D]``; ``key_padding_mask`` ``[S, N]`` bool, ``True`` = padding (never attended to)."""
        q, k, v = rearrange(self.qkv(x), "s n (three h d) -> three s h n d", three=3, h=self.num_heads)
        mask = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # scale = head_dim ** -0.5
        return self.proj(rearrange(out, "s h n d -> s n (h d)"))


class Mlp(nn.Module):
    """``Linear(D, hidden) → GELU(erf) → Linear(hidden, D)``."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """One post-norm transformer block (``layer_norm_first=False`` in the official configs)."""

    def __init__(self, dim: int, num_heads: int, mlp_dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, mlp_dim)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm1(x + self.attn(x, key_padding_mask))
        return self.norm2(h + self.mlp(h))

    def forward_with_ffn(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Block output and the MLP-branch output before the residual (the per-layer pretraining target)."""
        h = self.norm1(x + self.attn(x, key_padding_mask))
        ffn = self.mlp(h)
        return self.norm2(h + ffn), ffn


def sincos_table(dim: int, rows: int, cols: int) -> torch.Tensor:
    """Fixed 2-D sin-cos table ``[rows · cols, dim]`` computed in float32 like the official constructor.

    Row ``j`` ↔ grid cell ``(r, c) = (j // cols, j % cols)`` and holds
    ``[sin(c·ω), cos(c·ω), sin(r·ω), cos(r·ω)]`` with ``ω_i = 10000^(-i / (dim/4))``, ``i < dim/4``.
    """
    import numpy as np

    quarter = dim // 4
    omega = np.arange(quarter, dtype=np.float32) / np.float32(quarter)
    omega = (1.0 / 10000**omega).astype(np.float32)
    r, c = np.meshgrid(np.arange(rows, dtype=np.float32), np.arange(cols, dtype=np.float32), indexing="ij")

    def encode(pos: np.ndarray) -> np.ndarray:
        angles = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    table = np.concatenate([encode(c), encode(r)], axis=1).astype(np.float32)
    return torch.from_numpy(table)
