"""Weight initialisation for pretraining from scratch (EAT / data2vec 2.0 ``init_bert_params`` convention).

Every ``nn.Linear`` weight (encoder blocks, decoder projection, band head) ~ N(0, std²) with zero bias, the CLS
token ~ N(0, cls_std²) (EAT: ``nn.init.normal_`` of its extra token, std 1); the patch-embedding convolution keeps the xavier-uniform init of its flattened weight (as the
MAE/EAT image patch embedding); LayerNorms stay at (1, 0); decoder convolutions keep PyTorch's default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from fisher.pretrain.objective import DistillationModel
    from fisher.pretrain.pretrain_config import PretrainConfig

__all__ = ["init_pretraining_weights", "initial_model"]


@torch.no_grad()
def init_pretraining_weights(
    module: nn.Module, std: float = 0.02, generator: torch.Generator | None = None, cls_std: float | None = None
) -> None:
    """Re-initialise ``module`` in place (see the module docstring); ``std`` > 0; ``cls_std`` default ``std``."""
    if not std > 0:
        raise ValueError(f"init std must be > 0, got {std}")
    cls_std = std if cls_std is None else cls_std
    for m in module.modules():
        if isinstance(m, nn.Linear):
            m.weight.normal_(0.0, std, generator=generator)
            if m.bias is not None:
                m.bias.zero_()
    for m in module.modules():
        cls = getattr(m, "cls_token", None)
        if isinstance(cls, nn.Parameter) and cls_std != 1.0:  # 1.0: Fisher's own N(0, 1) init is kept (no draw)
            cls.normal_(0.0, cls_std, generator=generator)


def initial_model(config: PretrainConfig) -> DistillationModel:
    """The exact starting point of a pretraining run (``PretrainConfig`` → ``DistillationModel`` on CPU): the
    global RNG seeded with ``train.seed``, student (or ``model.init``) and decoder built, then
    :func:`init_pretraining_weights` unless ``model.init`` or ``model.init_std=None``. ``.student`` is the
    "same architecture, random weights" baseline of a pretrained model."""
    from fisher.model.network import Fisher
    from fisher.pretrain.band_head import BandHead
    from fisher.pretrain.decoder import ConvDecoder
    from fisher.pretrain.objective import DistillationModel

    cfg = config
    torch.manual_seed(cfg.train.seed)
    student = Fisher.from_pretrained(cfg.model.init) if cfg.model.init else Fisher(cfg.model.fisher_config())
    d = cfg.decoder
    decoder = ConvDecoder(
        student.config.embed_dim, d.dim, d.layers, d.kernel, d.groups, d.dropout, cfg.masking.noise_std
    )
    head = BandHead(student.config.embed_dim, cfg.loss.cls_head, cfg.targets.band_norm, cfg.targets.band_norm_momentum)
    model = DistillationModel(student, decoder, head)
    if cfg.model.init_std is not None and not cfg.model.init:
        init_pretraining_weights(model, cfg.model.init_std, cls_std=cfg.model.cls_init_std)
    return model
