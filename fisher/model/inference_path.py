"""The inference path of the encoder: token-major layout, sequences in cache-sized chunks, all blocks per chunk.

Band sequences never interact, so under ``torch.inference_mode`` the encoder runs each chunk of ``≈ TOKEN_BUDGET``
tokens (a few sequences) through *all* blocks before the next chunk: the activations of a chunk (qkv ``[T, 3D]``,
MLP hidden ``[T, 4D]``) stay a few MB, in cache, instead of tens of MB per layer for the whole batch, and peak
memory no longer grows with the batch. Inside a block the tokens stay one contiguous ``[T, D]`` matrix; attention is
the fused CPU/GPU kernel (``F.scaled_dot_product_attention``) on strided views of the qkv output, whose result is
already laid out ``[s, n, h, d]`` so that the output projection reads it without a copy.

The arithmetic is the module path's (:class:`fisher.model.vit.Block`) op for op, in the same order (``y += x`` is
``x + y``): outputs are identical to it (bit-exact on the parity fixtures). Training, padding masks and the
per-layer FFN targets use the module path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fisher.model.vit import Block

__all__ = ["TOKEN_BUDGET", "encode_chunked", "run_block", "sequences_per_chunk"]

TOKEN_BUDGET = 1536  # tokens per chunk: tiny 4 × 373, small 8 × 187 (measured best on 2 cores; docs/performance.md)


def sequences_per_chunk(tokens_per_sequence: int, budget: int = TOKEN_BUDGET) -> int:
    """How many sequences of ``tokens_per_sequence`` tokens make one chunk (at least 1)."""
    return max(1, budget // max(1, tokens_per_sequence))


def run_block(block: Block, x: torch.Tensor, sequences: int, length: int) -> torch.Tensor:
    """One post-norm block on token-major ``x`` ``[sequences·length, D]`` → ``[sequences·length, D]``."""
    heads = block.attn.num_heads
    width = x.shape[-1]
    qkv = block.attn.qkv(x).view(sequences, length, 3, heads, width // heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # [s, h, n, d] strided views, no copy
    attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(sequences * length, width)
    y = block.attn.proj(attended)
    y += x
    h = block.norm1(y)
    z = block.mlp(h)
    z += h
    return block.norm2(z)


def encode_chunked(
    blocks: nn.ModuleList, context_norm: nn.Module, cls: torch.Tensor, tokens: torch.Tensor, budget: int = TOKEN_BUDGET
) -> torch.Tensor:
    """``[CLS, tokens]`` → context LayerNorm → every block, chunk by chunk.

    Args:
        blocks: the encoder blocks. context_norm: the LayerNorm before them. cls: ``[D]`` CLS vector.
        tokens: patch tokens with positions ``[S, N, D]``.
        budget: tokens per chunk (memory / cache knob; results do not depend on it).
    Returns:
        last block output ``[S, N+1, D]`` (token 0 = CLS).
    """
    s_total, n, d = tokens.shape
    length = n + 1
    out = tokens.new_empty(s_total, length, d)
    step = sequences_per_chunk(length, budget)
    for start in range(0, s_total, step):
        part = tokens[start : start + step]
        s = part.shape[0]
        x = context_norm(torch.cat([cls.to(part.dtype).expand(s, 1, d), part], dim=1)).view(s * length, d)
        for block in blocks:
            x = run_block(block, x, s, length)
        out[start : start + s] = x.view(s, length, d)
    return out
