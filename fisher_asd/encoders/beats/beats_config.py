"""BEATs configuration: the ``cfg`` dict stored in official checkpoints, as a dataclass.

Field names and meanings follow the official ``BEATsConfig`` (microsoft/unilm ``beats/BEATs.py``) so that the ``cfg``
of an official checkpoint maps one to one. Depth and every width are read from here — never hard-coded.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from fisher.recipe.fisher_config import check_positive_ints

__all__ = ["BEATsConfig"]

log = logging.getLogger(__name__)


@dataclass
class BEATsConfig:
    """Architecture and training switches of a BEATs model (defaults = the official class defaults, except
    ``input_patch_size`` = 16 as in every released checkpoint)."""

    input_patch_size: int = 16
    embed_dim: int = 512
    conv_bias: bool = False
    encoder_layers: int = 12
    encoder_embed_dim: int = 768
    encoder_ffn_embed_dim: int = 3072
    encoder_attention_heads: int = 12
    activation_fn: str = "gelu"
    layer_wise_gradient_decay_ratio: float = 1.0
    layer_norm_first: bool = False
    deep_norm: bool = False
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation_dropout: float = 0.0
    encoder_layerdrop: float = 0.0
    dropout_input: float = 0.0
    conv_pos: int = 128
    conv_pos_groups: int = 16
    relative_position_embedding: bool = False
    num_buckets: int = 320
    max_distance: int = 1280
    gru_rel_pos: bool = False
    finetuned_model: bool = False
    predictor_dropout: float = 0.1
    predictor_class: int = 527
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> BEATsConfig:
        """Build from a checkpoint ``cfg`` dict; unknown keys are kept in ``extra`` (and logged), missing keys keep
        their defaults (as the official ``BEATsConfig.update``)."""
        if not isinstance(cfg, dict):
            raise TypeError(f"BEATs cfg must be a dict, got {type(cfg).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in cfg.items() if k in known}
        extra = {k: v for k, v in cfg.items() if k not in known}
        if extra:
            log.debug("BEATs cfg: ignoring unknown keys %s", sorted(extra))
        out = cls(**kwargs, extra=extra)
        out.validate()
        return out

    @classmethod
    def iter3_plus(cls, **overrides: Any) -> BEATsConfig:
        """The architecture of ``BEATs_iter3_plus_AS2M`` (90.3 M parameters); ``overrides`` change single fields."""
        base = {
            "encoder_layers": 12,
            "encoder_embed_dim": 768,
            "encoder_ffn_embed_dim": 3072,
            "encoder_attention_heads": 12,
            "deep_norm": True,
            "relative_position_embedding": True,
            "num_buckets": 320,
            "max_distance": 800,
            "gru_rel_pos": True,
            "layer_norm_first": False,
            "dropout": 0.0,
            "attention_dropout": 0.0,
            "activation_dropout": 0.0,
            "encoder_layerdrop": 0.05,
            "dropout_input": 0.0,
            "layer_wise_gradient_decay_ratio": 0.6,
        }
        base.update(overrides)
        return cls.from_dict(base)

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint ``cfg`` dict (``extra`` keys included)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out

    @property
    def deep_norm_alpha(self) -> float:
        """Residual scale of deep norm, ``(2 · encoder_layers) ** 0.25`` (1 when ``deep_norm`` is off)."""
        return (2 * self.encoder_layers) ** 0.25 if self.deep_norm else 1.0

    def validate(self) -> None:
        """Raise ``ValueError`` for inconsistent sizes."""
        check_positive_ints(
            self,
            (
                "input_patch_size",
                "embed_dim",
                "encoder_layers",
                "encoder_embed_dim",
                "encoder_ffn_embed_dim",
                "encoder_attention_heads",
                "conv_pos",
                "conv_pos_groups",
            ),
            "BEATs cfg {name} must be a positive int, got {value!r}",
        )
        if self.encoder_embed_dim % self.encoder_attention_heads:
            raise ValueError(
                f"BEATs cfg encoder_embed_dim={self.encoder_embed_dim} is not divisible by "
                f"encoder_attention_heads={self.encoder_attention_heads}"
            )
        if self.encoder_embed_dim % self.conv_pos_groups:
            raise ValueError(
                f"BEATs cfg encoder_embed_dim={self.encoder_embed_dim} is not divisible by "
                f"conv_pos_groups={self.conv_pos_groups}"
            )
        if self.activation_fn != "gelu":
            raise ValueError(f"BEATs cfg activation_fn={self.activation_fn!r} is not supported (only 'gelu')")
