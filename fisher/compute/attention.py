"""Attention of the inference path as a named operator, ``torch.ops.fisher.band_attention``, that FLOP counters see.

``F.scaled_dot_product_attention`` on the CPU dispatches to ``aten._scaled_dot_product_flash_attention_for_cpu``,
for which ``torch.utils.flop_counter.FlopCounterMode`` (torch ≤ 2.13) has no formula: with it, a model's attention
(24 % of FISHER-tiny's FLOPs at 10 s) counts as zero and every efficiency figure built on that counter is low.

:func:`band_attention` runs the *same* fused kernel through an operator of our own namespace,
``fisher::band_attention(Tensor query, Tensor key, Tensor value) -> Tensor``, registered with

* one kernel for every backend (``CompositeExplicitAutograd``): the call is ``F.scaled_dot_product_attention(q, k,
  v)``, so outputs are bit-identical to calling it directly (the dispatch costs ≈ 1–5 µs per call);
* a fake (meta) kernel: shape propagation for ``torch.compile`` / ``torch.export`` / meta tensors;
* a FLOP formula (``torch.utils.flop_counter.register_flop_formula``, the documented hook for custom operators):
  ``4·B·H·Nq·Nk·d`` as for torch's CUDA attention kernels, so a plain ``FlopCounterMode`` counts the attention the
  encoder really computes. Nothing about torch's own operators changes.

The operator has no autograd formula: :func:`band_attention` uses it only when no input needs a gradient and calls
``F.scaled_dot_product_attention`` otherwise (training). On a torch without ``torch.library`` registration support
the function falls back to ``F.scaled_dot_product_attention`` (same outputs; attention then counts as zero).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils import flop_counter

__all__ = ["OPERATOR", "attention_flops", "band_attention", "operator"]

OPERATOR = "fisher::band_attention"
_SCHEMA = "band_attention(Tensor query, Tensor key, Tensor value) -> Tensor"


def attention_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of one attention call on ``[B, H, Nq, d]`` queries and ``[B, H, Nk, d]`` keys / values: ``Q·Kᵀ`` and
    ``weights·V``, 2 FLOPs per multiply-add (softmax not counted), as ``FlopCounterMode`` counts CUDA SDPA."""
    return flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape)


def _kernel(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(query, key, value)


def _fake(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    return query.new_empty((*query.shape[:-1], value.shape[-1]))


def _existing():
    """The operator if this process already registered it (module reloaded), else ``None``."""
    try:
        return torch.ops.fisher.band_attention.default
    except (AttributeError, RuntimeError):
        return None


def _register():
    """Define the operator, its kernel, fake kernel and FLOP formula; ``(library, op)`` or ``(None, None)``."""
    existing = _existing()
    if existing is not None:
        return None, existing
    try:
        library = torch.library.Library("fisher", "FRAGMENT")  # kept alive below: deleting it unregisters
        library.define(_SCHEMA)
        library.impl("band_attention", _kernel, "CompositeExplicitAutograd")
        op = torch.ops.fisher.band_attention.default
    except (AttributeError, RuntimeError):  # torch too old for Python-defined operators
        return None, None
    register_fake = getattr(torch.library, "register_fake", None) or getattr(torch.library, "impl_abstract", None)
    if register_fake is not None:
        register_fake(OPERATOR)(_fake)
    register_formula = getattr(flop_counter, "register_flop_formula", None)
    if register_formula is not None:
        register_formula(torch.ops.fisher.band_attention)(attention_flops)
    return library, op


_LIBRARY, _OP = _register()


def operator():
    """The registered ``torch.ops.fisher.band_attention.default`` overload, or ``None`` where torch cannot define
    it (the fallback is ``F.scaled_dot_product_attention``)."""
    return _OP


def band_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Softmax attention without mask or dropout: ``query`` ``[B, H, Nq, d]``, ``key`` / ``value`` ``[B, H, Nk, d]``
    → ``[B, H, Nq, d]`` (strided views are fine). Identical to ``F.scaled_dot_product_attention(query, key, value)``;
    runs as ``fisher::band_attention`` (visible to FLOP counters) unless a gradient is needed."""
    needs_grad = torch.is_grad_enabled() and (query.requires_grad or key.requires_grad or value.requires_grad)
    if _OP is None or needs_grad:
        return F.scaled_dot_product_attention(query, key, value)
    return _OP(query, key, value)
