"""Building blocks of the BEATs transformer encoder (own implementation of the published architecture).

Layout is ``[B, N, C]`` (batch, patches, channels) throughout. Parameter names match the official checkpoints:
``self_attn.{q,k,v,out}_proj``, ``self_attn.grep_linear``, ``self_attn.grep_a``, ``self_attn.relative_attention_bias``,
``self_attn_layer_norm``, ``fc1``, ``fc2``, ``final_layer_norm``, ``pos_conv.0.weight_{g,v}``. No in-place operation
touches a tensor that autograd needs, so LoRA / full fine-tuning can backpropagate.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .beats_config import BEATsConfig

__all__ = ["BEATsAttention", "BEATsLayer", "WeightNormConv1d", "gelu_fp32", "grad_multiply", "relative_buckets"]


#: ``x [B, N, C] → (q, k, v)``, each ``[B, N, C]``.
QKV = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


class _GradMultiply(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:  # type: ignore[override]
        ctx.scale = scale
        return x.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad * ctx.scale, None


def grad_multiply(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``scale`` in the backward pass."""
    if scale == 1.0 or not (torch.is_grad_enabled() and x.requires_grad):
        return x
    return _GradMultiply.apply(x, scale)


def gelu_fp32(x: torch.Tensor) -> torch.Tensor:
    """Exact (erf) GELU computed in float32 and cast back to the input dtype."""
    return F.gelu(x.float()).type_as(x)


def relative_buckets(query_len: int, key_len: int, num_buckets: int, max_distance: int, device=None) -> torch.Tensor:
    """Bidirectional T5-style bucket ``[query_len, key_len]`` of ``key_pos − query_pos`` (long).

    Half of the buckets per sign; positive offsets are shifted by ``num_buckets // 2``; distances below a quarter of
    the buckets are exact, larger ones are log-spaced up to ``max_distance``.
    """
    half = num_buckets // 2
    exact = half // 2
    rel = torch.arange(key_len, device=device)[None, :] - torch.arange(query_len, device=device)[:, None]
    offset = (rel > 0).long() * half
    dist = rel.abs()
    far = (
        exact + (torch.log(dist.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (half - exact)).long()
    )
    far = torch.clamp(far, max=half - 1)
    return offset + torch.where(dist < exact, dist, far)


class WeightNormConv1d(nn.Module):
    """Conv1d with weight norm over dims (0, 1) — one gain per kernel tap (legacy ``weight_g`` / ``weight_v`` names)."""

    def __init__(self, channels: int, kernel_size: int, groups: int) -> None:
        super().__init__()
        self.groups = groups
        self.padding = kernel_size // 2
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel_size))
        self.weight_v = nn.Parameter(torch.empty(channels, channels // groups, kernel_size))
        self.bias = nn.Parameter(torch.zeros(channels))
        std = math.sqrt(4.0 / (kernel_size * channels))
        nn.init.normal_(self.weight_v, mean=0.0, std=std)
        with torch.no_grad():
            self.weight_g.copy_(torch.linalg.vector_norm(self.weight_v, dim=(0, 1), keepdim=True))

    def weight(self) -> torch.Tensor:
        """Effective kernel ``g · v / ‖v‖`` ``[C, C / groups, K]``."""
        norm = torch.linalg.vector_norm(self.weight_v, dim=(0, 1), keepdim=True)
        return self.weight_v * (self.weight_g / norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, N] → [B, C, N + 1 − K mod 2]`` (caller drops the extra step for even kernels)."""
        return F.conv1d(x, self.weight(), self.bias, padding=self.padding, groups=self.groups)


class BEATsAttention(nn.Module):
    """Multi-head self-attention with an optional gated relative position bias (``gru_rel_pos``)."""

    def __init__(self, cfg: BEATsConfig, relative_attention_bias: nn.Embedding | None) -> None:
        super().__init__()
        dim, heads = cfg.encoder_embed_dim, cfg.encoder_attention_heads
        self.num_heads, self.head_dim = heads, dim // heads
        self.dropout = cfg.attention_dropout
        self.num_buckets, self.max_distance = cfg.num_buckets, cfg.max_distance
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))
        self.gru_rel_pos = cfg.gru_rel_pos
        if cfg.gru_rel_pos:
            self.grep_linear = nn.Linear(self.head_dim, 8)
            self.grep_a = nn.Parameter(torch.ones(1, heads, 1, 1))
        if relative_attention_bias is not None:
            self.relative_attention_bias = relative_attention_bias  # one module shared by every layer

    def position_bias(self, length: int) -> torch.Tensor:
        """Ungated relative position bias ``[H, N, N]`` over the flattened patch index."""
        table = self.relative_attention_bias
        buckets = relative_buckets(length, length, self.num_buckets, self.max_distance, table.weight.device)
        return table(buckets).permute(2, 0, 1)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``q, k, v`` ``[B, N, C]`` of ``x``."""
        return self.q_proj(x), self.k_proj(x), self.v_proj(x)

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        pos_bias: torch.Tensor | None = None,
        project: QKV | None = None,
    ) -> torch.Tensor:
        """``x`` ``[B, N, C]``, ``key_padding_mask`` ``[B, N]`` (True = padded), ``pos_bias`` ``[H, N, N]``;
        ``project`` replaces :meth:`project` (batched streams that differ only in their q / k / v projections)."""
        b, n, _ = x.shape
        q, k, v = (project or self.project)(x)
        q = q.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)  # [B, H, N, d]
        k = k.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
        v = v.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)
        bias = None
        if pos_bias is not None:
            bias = pos_bias.unsqueeze(0)
            if self.gru_rel_pos:
                gates = torch.sigmoid(self.grep_linear(q).view(b, self.num_heads, n, 2, 4).sum(-1))
                gate_a, gate_b = gates[..., :1], gates[..., 1:]
                bias = (gate_a * (gate_b * self.grep_a - 1.0) + 2.0) * bias  # [B, H, N, N]
        if key_padding_mask is not None:
            pad = torch.zeros(key_padding_mask.shape, dtype=q.dtype, device=q.device)
            pad = pad.masked_fill(key_padding_mask, float("-inf"))[:, None, None, :]
            bias = pad if bias is None else bias + pad
        drop = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=drop)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, -1))


class BEATsLayer(nn.Module):
    """One transformer layer: post-LN (optionally deep norm) or pre-LN, GELU feed-forward."""

    def __init__(self, cfg: BEATsConfig, relative_attention_bias: nn.Embedding | None) -> None:
        super().__init__()
        dim, ffn = cfg.encoder_embed_dim, cfg.encoder_ffn_embed_dim
        self.layer_norm_first = cfg.layer_norm_first
        self.alpha = cfg.deep_norm_alpha
        self.dropout, self.activation_dropout = cfg.dropout, cfg.activation_dropout
        self.self_attn = BEATsAttention(cfg, relative_attention_bias)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn)
        self.fc2 = nn.Linear(ffn, dim)
        self.final_layer_norm = nn.LayerNorm(dim)

    def _ffn(self, x: torch.Tensor) -> torch.Tensor:
        x = F.dropout(gelu_fp32(self.fc1(x)), self.activation_dropout, self.training)
        return F.dropout(self.fc2(x), self.dropout, self.training)

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        pos_bias: torch.Tensor | None = None,
        project: QKV | None = None,
    ) -> torch.Tensor:
        """``[B, N, C] → [B, N, C]`` (``project``: see :meth:`BEATsAttention.forward`)."""
        if self.layer_norm_first:
            h = self.self_attn(self.self_attn_layer_norm(x), key_padding_mask, pos_bias, project)
            x = x + F.dropout(h, self.dropout, self.training)
            return x + self._ffn(self.final_layer_norm(x))
        h = self.self_attn(x, key_padding_mask, pos_bias, project)
        x = self.self_attn_layer_norm(x * self.alpha + F.dropout(h, self.dropout, self.training))
        return self.final_layer_norm(x * self.alpha + self._ffn(x))
