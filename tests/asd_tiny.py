"""Tiny random encoders shared by the detector tests (imports torch and fisher_asd, unlike :mod:`tests.asd_configs`)."""

from __future__ import annotations

import torch

from fisher_asd.encoders import BEATsConfig, BEATsEncoder


def tiny_beats() -> BEATsEncoder:
    """A 5-layer, 32-wide random BEATs (seed 1; random backbones differ in how informative they are)."""
    cfg = BEATsConfig.iter3_plus(
        encoder_layers=5,
        encoder_embed_dim=32,
        encoder_ffn_embed_dim=64,
        encoder_attention_heads=2,
        embed_dim=32,
        conv_pos=16,
        conv_pos_groups=4,
    )
    torch.manual_seed(1)
    return BEATsEncoder.from_config(cfg)
