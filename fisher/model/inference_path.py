"""The inference path of the encoder: token-major layout, sequences in cache-sized chunks, all blocks per chunk.

Band sequences never interact, so under ``torch.inference_mode`` the encoder runs each chunk of ``≈ TOKEN_BUDGET``
tokens (a few sequences) through *all* blocks before the next chunk: the activations of a chunk (qkv ``[T, 3D]``,
MLP hidden ``[T, 4D]``) stay a few MB, in cache, instead of tens of MB per layer for the whole batch, and peak
memory no longer grows with the batch. Inside a block the tokens stay one contiguous ``[T, D]`` matrix; attention is
the fused CPU/GPU kernel (``F.scaled_dot_product_attention``, called as the operator ``fisher::band_attention`` of
:mod:`fisher.compute.attention` so that FLOP counters see it) on strided views of the qkv output, whose result is
already laid out ``[s, n, h, d]`` so that the output projection reads it without a copy.

The arithmetic is the module path's (:class:`fisher.model.vit.Block`) op for op, in the same order (``y += x`` is
``x + y``), except that float32 linear layers add their bias after the product (:class:`Workspace`): outputs equal
it to float rounding (the parity fixtures: ≤ 1.5e-6 end to end, as before that change). Training, padding masks and the
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

from fisher.compute.attention import band_attention
from fisher.model.vit import Block, Mlp
from fisher.recipe.framing import TOKEN_BUDGET, sequences_per_chunk

__all__ = [
    "TOKEN_BUDGET",
    "Workspace",
    "encode_chunked",
    "last_block_cls_batched",
    "run_block",
    "run_last_block_cls",
    "sequences_per_chunk",
]


def _has_hooks(module: nn.Module) -> bool:
    """Whether calling ``module`` would run forward (pre-)hooks of its own or global ones (then it must be called)."""
    hooks = nn.modules.module
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or getattr(hooks, "_global_forward_hooks", None)
        or getattr(hooks, "_global_forward_pre_hooks", None)
    )


class Workspace:
    """Activation buffers reused by every block of every chunk of one :func:`encode_chunked` call.

    The linear layers of a chunk write into the same ``[T, 3D]`` / ``[T, D]`` / ``[T, H]`` matrices layer after layer
    and GELU runs in place: no allocator round trips for multi-MB activations, one pass over the MLP hidden matrix
    less. In float32 a layer is ``torch.mm(..., out=)`` then ``+= bias``: the GEMM does not read its output (``addmm``,
    which ``F.linear`` calls, first copies the broadcast bias into it). For inner sizes ≥ 768 (the MLP's second
    layer) MKL then adds the bias after the last block of the inner dimension rather than before the first: results
    differ from ``F.linear`` by at most 1 ulp (≤ 5e-7 here). Other dtypes use ``torch.addmm(..., out=)``,
    ``F.linear``'s own kernel. Tiny, 8 × 10 s, 2-core AVX-512 Xeon: 421 → 400 ms with the buffers; small
    1153 → 1115 ms with ``mm`` + bias (AVX2 kernels: 1664 → 1620 ms)."""

    def __init__(self) -> None:
        self.buffers: dict[str, torch.Tensor] = {}

    def linear(self, name: str, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``layer(x)`` for 2-D ``x`` ``[T, in]`` → ``[T, out]``, into buffer ``name`` when ``layer`` is a plain
        ``nn.Linear`` with a bias of ``x``'s dtype and no hooks (quantised, wrapped or hooked layers are called)."""
        bias = getattr(layer, "bias", None)
        plain = type(layer) is nn.Linear and bias is not None and layer.weight.dtype == x.dtype and x.ndim == 2
        if not plain or _has_hooks(layer):
            return layer(x)
        shape = (x.shape[0], layer.out_features)
        out = self.buffers.get(name)
        if out is None or out.shape != shape or out.dtype != x.dtype or out.device != x.device:
            out = self.buffers[name] = x.new_empty(shape)
        if x.dtype != torch.float32:  # bf16: addmm adds the bias before rounding the product
            return torch.addmm(bias, x, layer.weight.t(), out=out)
        torch.mm(x, layer.weight.t(), out=out)  # beta = 0: no broadcast copy of the bias, C is never read
        return out.add_(bias)

    def mlp(self, mlp: nn.Module, h: torch.Tensor) -> torch.Tensor:
        """``fc2(GELU(fc1(h)))`` of a :class:`fisher.model.vit.Mlp`, GELU in place on the hidden buffer; any other
        module is simply called."""
        if type(mlp) is not Mlp:
            return mlp(h)
        hidden = self.linear("fc1", mlp.fc1, h)
        owned = self.buffers.get("fc1") is hidden  # our buffer: GELU may overwrite it
        return self.linear("fc2", mlp.fc2, torch.ops.aten.gelu_(hidden) if owned else F.gelu(hidden))


def run_block(
    block: Block, x: torch.Tensor, sequences: int, length: int, workspace: Workspace | None = None
) -> torch.Tensor:
    """One post-norm block on token-major ``x`` ``[sequences·length, D]`` → ``[sequences·length, D]`` (a new tensor;
    intermediate activations live in ``workspace``, a fresh one if ``None``)."""
    ws = Workspace() if workspace is None else workspace
    heads = block.attn.num_heads
    width = x.shape[-1]
    qkv = ws.linear("qkv", block.attn.qkv, x).view(sequences, length, 3, heads, width // heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # [s, h, n, d] strided views, no copy
    attended = band_attention(q, k, v).transpose(1, 2).reshape(sequences * length, width)
    y = ws.linear("proj", block.attn.proj, attended)
    y += x
    h = block.norm1(y)
    z = ws.mlp(block.mlp, h)
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
        attended = band_attention(q[i : i + 1], k[i : i + 1], v[i : i + 1]).reshape(1, width)
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
    workspace = Workspace()
    for start in range(0, s_total, step):
        part = tokens[start : start + step]
        s = part.shape[0]
        x = context_norm(torch.cat([cls.to(part.dtype).expand(s, 1, d), part], dim=1)).view(s * length, d)
        for block in body:
            x = run_block(block, x, s, length, workspace)
        out[start : start + s] = run_last_block_cls(blocks[-1], x, s, length) if cls_only else x.view(s, length, d)
    return out
