"""BEATs as a ``fisher_asd`` encoder: 16 kHz in, mean over all patch tokens out (``[B, 768]`` for iter3+).

``forward_frames`` returns the patch tokens ``[B, P, 768]`` (P = 8 · (T // 16), 10 s → 496). Fine-tuned checkpoints
are used as feature extractors (the AudioSet predictor is skipped). Split points for shared-prefix inference are
the layer indices 0 … encoder_layers (the LoRA streams adapt layers 8–11, so 8 layers are shared).

Weights: the official ``BEATs_iter3_plus_AS2M.pt`` (microsoft/unilm, MIT licence), loaded from a local path.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from ..base import AudioEncoder
from .beats_config import BEATsConfig
from .model import MIN_SAMPLES, BEATs, BEATsHidden, batchable_suffix, forward_suffix_batched

__all__ = ["BEATsEncoder"]


class BEATsEncoder(AudioEncoder):
    """Wraps a :class:`BEATs` model (see module docstring)."""

    name = "beats"
    sample_rate = 16000
    min_samples = MIN_SAMPLES

    def __init__(self, model: BEATs) -> None:
        if not isinstance(model, BEATs):
            raise TypeError(f"BEATsEncoder wraps a BEATs model, got {type(model).__name__}")
        super().__init__(model)
        self.dim = model.cfg.encoder_embed_dim
        self.split_points = tuple(range(model.cfg.encoder_layers + 1))

    @classmethod
    def from_pretrained(cls, path_or_hub_file: str | os.PathLike, **kwargs: Any) -> BEATsEncoder:
        """Load an official checkpoint (see :meth:`BEATs.from_pretrained`)."""
        return cls(BEATs.from_pretrained(path_or_hub_file, **kwargs))

    @classmethod
    def from_config(cls, config: BEATsConfig | dict | None = None) -> BEATsEncoder:
        """Random weights (default: the iter3+ architecture, 90.3 M parameters)."""
        return cls(BEATs(BEATsConfig.iter3_plus() if config is None else config).eval())

    def forward_prefix(self, x: torch.Tensor, split: int) -> BEATsHidden:
        """fbank, patch embedding, positional conv and layers ``0 … split − 1``."""
        if split not in self.split_points:
            raise ValueError(f"BEATs split must be one of 0..{self.split_points[-1]}, got {split!r}")
        return self.backbone.forward_prefix(self._check_batch(x).float(), layers=split)

    def _tokens(self, hidden: BEATsHidden) -> torch.Tensor:
        return self.backbone.forward_suffix(hidden, predictor=False)[0]

    def forward_from(self, state: BEATsHidden) -> torch.Tensor:
        """Remaining layers → mean over patches ``[B, D]``."""
        return self._tokens(state).mean(1)

    def forward_from_many(self, encoders: list[AudioEncoder], state: BEATsHidden) -> list[torch.Tensor] | None:
        """``[e.forward_from(state) for e in encoders]`` computed as one batch when the encoders differ only in their
        q / k / v projections from ``state.next_layer`` on (LoRA streams; inference only); None otherwise."""
        models = [e.backbone for e in encoders]
        if not all(isinstance(e, BEATsEncoder) for e in encoders) or not batchable_suffix(models, state.next_layer):
            return None
        return [t.mean(1) for t in forward_suffix_batched(models, state)]

    def forward_frames(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """16 kHz ``[B, N]`` → patch tokens ``[B, P, D]`` (no padding)."""
        return self._tokens(self.forward_prefix(x, 0)), None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """16 kHz ``[B, N]`` → mean-pooled ``[B, D]``."""
        return self.forward_from(self.forward_prefix(x, 0))

    def block_names(self) -> list[str]:
        """Qualified names (inside ``backbone``) of the attention modules, in execution order."""
        return [f"encoder.layers.{i}.self_attn" for i in range(len(self.backbone.encoder.layers))]

    def prefix_modules(self, split: int) -> list[torch.nn.Module]:
        """Modules that :meth:`forward_prefix` uses for ``split``."""
        bb = self.backbone
        mods = [bb.patch_embedding, bb.layer_norm, bb.encoder.pos_conv, bb.encoder.layer_norm]
        mods += [m for m in (bb.post_extract_proj,) if m is not None]
        if bb.cfg.relative_position_embedding:
            mods.append(bb.encoder.layers[0].self_attn.relative_attention_bias)
        return mods + list(bb.encoder.layers[:split])
