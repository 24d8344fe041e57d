"""Weight initialisation for pretraining from scratch (EAT / data2vec 2.0 ``init_bert_params`` convention).

Every ``nn.Linear`` weight (encoder blocks and decoder projection) ~ N(0, std²) with zero bias, the CLS token
~ N(0, std²); the patch-embedding convolution keeps the xavier-uniform init of its flattened weight (as the
MAE/EAT image patch embedding); LayerNorms stay at (1, 0); decoder convolutions keep PyTorch's default.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["init_pretraining_weights"]


@torch.no_grad()
def init_pretraining_weights(module: nn.Module, std: float = 0.02, generator: torch.Generator | None = None) -> None:
    """Re-initialise ``module`` in place (see the module docstring); ``std`` > 0."""
    if not std > 0:
        raise ValueError(f"init std must be > 0, got {std}")
    for m in module.modules():
        if isinstance(m, nn.Linear):
            m.weight.normal_(0.0, std, generator=generator)
            if m.bias is not None:
                m.bias.zero_()
    cls = getattr(module, "cls_token", None)
    if isinstance(cls, nn.Parameter):
        cls.normal_(0.0, std, generator=generator)
