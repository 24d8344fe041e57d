"""WavLM encoder (``microsoft/wavlm-base``) via ``transformers``.

Input: 16 kHz clips, raw waveform (the wavlm-base preprocessor does not normalise: ``do_normalize=False``; a local
directory's ``preprocessor_config.json`` can switch it on → zero mean / unit variance per clip). Output: mean over
frames of the last hidden state (``[B, 768]``; ≈ 50 frames per second, 10 s → 499 frames). ``forward_frames`` returns
that hidden state ``[B, T, 768]``. Clips need at least 400 samples (the conv front-end's receptive field).

Weights: ``microsoft/wavlm-base`` (the WavLM repository is MIT-licensed; check the model card before
redistribution). Frozen in the ASD system: LoRA would be a silent no-op on its attention (transformers calls
``F.multi_head_attention_forward`` with ``q_proj.weight`` directly).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import torch

from ._hf import load_model, preprocessor_config, transformers
from .base import AudioEncoder

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel

__all__ = ["WAVLM_ID", "WavLMEncoder"]

WAVLM_ID = "microsoft/wavlm-base"
_FEATURE = "the WavLM encoder"


class WavLMEncoder(AudioEncoder):
    """``WavLMModel`` mean-pooled over frames (see module docstring)."""

    name = "wavlm"
    sample_rate = 16000
    min_samples = 400

    def __init__(self, backbone: PreTrainedModel, *, do_normalize: bool = False) -> None:
        super().__init__(backbone)
        self.do_normalize = bool(do_normalize)
        self.dim = int(backbone.config.hidden_size)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike = WAVLM_ID, *, local_files_only: bool | None = None
    ) -> WavLMEncoder:
        """Load from a hub id or a local directory."""
        model = load_model("WavLMModel", name_or_path, local_files_only=local_files_only, feature=_FEATURE)
        return cls(model, do_normalize=preprocessor_config(name_or_path).get("do_normalize", False))

    @classmethod
    def from_config(cls, config: PretrainedConfig | None = None) -> WavLMEncoder:
        """Random weights from a ``WavLMConfig`` (default: wavlm-base size)."""
        tf = transformers(_FEATURE)
        config = tf.WavLMConfig() if config is None else config
        return cls(tf.WavLMModel(config).eval())

    def forward_frames(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """16 kHz ``[B, N]`` → last hidden state ``[B, T, D]`` (no padding: equal-length batches)."""
        x = self._check_batch(x).float()
        if self.do_normalize:
            x = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, unbiased=False) + 1e-7)
        return self.backbone(input_values=x).last_hidden_state, None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """16 kHz ``[B, N]`` → mean-pooled ``[B, D]``."""
        return self.forward_frames(x)[0].mean(1)
