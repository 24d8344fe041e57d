"""Tiny random transformers configs (and a noise helper) shared by the fisher_asd tests."""

from __future__ import annotations

import numpy as np

TINY_BEATS = {
    "encoder_layers": 6,
    "encoder_embed_dim": 64,
    "encoder_attention_heads": 4,
    "encoder_ffn_embed_dim": 128,
    "embed_dim": 32,
    "conv_pos": 16,
    "conv_pos_groups": 4,
}
TINY_CLAP = {
    "depths": [1, 1, 6, 2],
    "num_attention_heads": [2, 2, 4, 4],
    "patch_embeds_hidden_size": 16,
    "hidden_size": 128,
    "projection_dim": 32,
}
TINY_WAVLM = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "conv_dim": (32,) * 7,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
}
TINY_AST = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_length": 256,
}


def noise(*shape: int, seed: int = 0) -> np.ndarray:
    """float32 white noise with std 0.1."""
    return (0.1 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)
