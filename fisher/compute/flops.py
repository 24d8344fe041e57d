"""FLOP counting that sees the CPU attention kernel.

``torch.utils.flop_counter.FlopCounterMode`` has formulas for the CUDA SDPA kernels but (torch ≤ 2.13) none for
``aten._scaled_dot_product_flash_attention_for_cpu``, the kernel ``F.scaled_dot_product_attention`` runs on the CPU:
there, attention (``4·N²·D`` per layer and sequence; 24 % of FISHER-tiny's FLOPs at 10 s) counts as zero.
:func:`flop_counter` returns a counter with that formula added through ``custom_mapping`` — nothing global changes.

``Fisher.embed``'s inference path does not need it: its attention runs as ``fisher::band_attention``
(:mod:`fisher.compute.attention`), whose formula is registered, so a plain ``FlopCounterMode`` counts it. The counter
here matters for code that calls ``F.scaled_dot_product_attention`` directly (the layer-by-layer path, reference
implementations). Both kernels run below the dispatch of the operator, so nothing is counted twice.
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from fisher.compute.attention import attention_flops

__all__ = ["cpu_attention_flops", "flop_counter"]

cpu_attention_flops = attention_flops  # one CPU SDPA call: the same formula as fisher::band_attention's


def flop_counter(display: bool = False) -> FlopCounterMode:
    """A ``FlopCounterMode`` that also counts the CPU SDPA kernel (use as a context manager; ``get_total_flops()``)."""
    mapping = {}
    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if op is not None:
        mapping[op] = cpu_attention_flops
    return FlopCounterMode(display=display, custom_mapping=mapping)
