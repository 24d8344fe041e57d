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

When only the CLS outputs are wanted (``summary="cls"``, the official output), the last block computes keys and
values for every token but queries, attention output, projection and MLP for the CLS token alone
(:func:`run_last_block_cls`): 1/12 of the attention and ~6 % of the linear work of a 12-block model are skipped; the
CLS rows agree with the full path to float rounding (≤ 2e-6: matrix products of one row round differently from
those of many); each CLS row is computed alone, so a clip's embedding is the same alone or in any batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fisher.model.vit import Block
from fisher.recipe.framing import TOKEN_BUDGET, sequences_per_chunk

__all__ = [
    "TOKEN_BUDGET",
    "encode_chunked",
    "last_block_cls_batched",
    "run_block",
    "run_last_block_cls",
    "sequences_per_chunk",
]


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


def run_last_block_cls(block: Block, x: torch.Tensor, sequences: int, length: int) -> torch.Tensor:
    """The last block for the CLS token only: ``x`` ``[sequences·length, D]`` → CLS outputs ``[sequences, D]``."""
    heads = block.attn.num_heads
    width = x.shape[-1]
    qkv = block.attn.qkv(x).view(sequences, length, 3, heads, width // heads)
    q = qkv[:, :1, 0].transpose(1, 2)  # [s, h, 1, d]: the CLS query
    k, v = qkv[:, :, 1].transpose(1, 2), qkv[:, :, 2].transpose(1, 2)
    cls_in = x.view(sequences, length, width)[:, 0]
    rows = []
    for i in range(sequences):  # one sequence per call: a row's result never depends on how many share the chunk
        # (a one-query SDPA splits the keys across threads depending on the batch; row products depend on M)
        attended = F.scaled_dot_product_attention(q[i : i + 1], k[i : i + 1], v[i : i + 1]).reshape(1, width)
        y = block.attn.proj(attended)
        y += cls_in[i : i + 1]
        h = block.norm1(y)
        z = block.mlp(h)
        z += h
        rows.append(block.norm2(z))
    return torch.cat(rows)


def last_block_cls_batched(block: Block, x: torch.Tensor) -> torch.Tensor:
    """The last block for the CLS token only, all sequences in one call (traceable: the ONNX export).

    ``x`` ``[S, L, D]`` (token 0 = CLS) → CLS outputs ``[S, D]``. Same arithmetic as :func:`run_last_block_cls`; that
    one loops over sequences so that torch's result for a row does not depend on the batch."""
    s, length, width = x.shape
    heads = block.attn.num_heads
    qkv = block.attn.qkv(x).reshape(s, length, 3, heads, width // heads)
    q = qkv[:, :1, 0].transpose(1, 2)  # [S, h, 1, d]
    k, v = qkv[:, :, 1].transpose(1, 2), qkv[:, :, 2].transpose(1, 2)
    attended = F.scaled_dot_product_attention(q, k, v).reshape(s, width)
    h = block.norm1(x[:, 0] + block.attn.proj(attended))
    return block.norm2(h + block.mlp(h))


def encode_chunked(
    blocks: nn.ModuleList,
    context_norm: nn.Module,
    cls: torch.Tensor,
    tokens: torch.Tensor,
    budget: int = TOKEN_BUDGET,
    cls_only: bool = False,
) -> torch.Tensor:
    """``[CLS, tokens]`` → context LayerNorm → every block, chunk by chunk.

    Args:
        blocks: the encoder blocks. context_norm: the LayerNorm before them. cls: ``[D]`` CLS vector.
        tokens: patch tokens with positions ``[S, N, D]``.
        budget: tokens per chunk (memory / cache knob; results do not depend on it).
        cls_only: return only the CLS outputs, computing the last block for the CLS token alone.
    Returns:
        last block output ``[S, N+1, D]`` (token 0 = CLS), or ``[S, D]`` with ``cls_only``.
    """
    s_total, n, d = tokens.shape
    length = n + 1
    out = tokens.new_empty((s_total, d) if cls_only else (s_total, length, d))
    step = sequences_per_chunk(length, budget)
    body = blocks[:-1] if cls_only else blocks
    for start in range(0, s_total, step):
        part = tokens[start : start + step]
        s = part.shape[0]
        x = context_norm(torch.cat([cls.to(part.dtype).expand(s, 1, d), part], dim=1)).view(s * length, d)
        for block in body:
            x = run_block(block, x, s, length)
        out[start : start + s] = run_last_block_cls(blocks[-1], x, s, length) if cls_only else x.view(s, length, d)
    return out
