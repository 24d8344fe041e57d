"""AST encoder (``MIT/ast-finetuned-audioset-10-10-0.4593``) via ``transformers``.

Input: 16 kHz clips. Preprocessing reproduces ``ASTFeatureExtractor`` with this package's Kaldi fbank (the torchaudio
path the model was trained with): 128 mel bins, Hann window, 25 / 10 ms, **no** ×2¹⁵ scaling; frames zero-padded or
cut to ``max_length`` (1024 ≈ 10.24 s; longer clips: ``crop`` = ``"start"`` as the extractor, ``"center"`` or
``"windows"``); normalised ``(x + 4.2677393) / (2 · 4.5689974)``.

Output: mean of the last hidden state over ``tokens="all"`` (default: 1212 patches + CLS + distillation token,
``last_hidden_state.mean(1)``) or ``tokens="patches"`` (patch tokens only) → ``[B, 768]``. ``forward_frames``
returns the whole last hidden state ``[B, 1214, 768]``.

Weights: ``MIT/ast-finetuned-audioset-10-10-0.4593`` (BSD-3-Clause per the AST repository; check the model card).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ._hf import crop_windows, load_model, preprocessor_config, transformers
from .base import AudioEncoder
from .fbank import kaldi_fbank

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel

__all__ = ["AST_ID", "ASTEncoder"]

AST_ID = "MIT/ast-finetuned-audioset-10-10-0.4593"
_FEATURE = "the AST encoder"
_MEAN, _STD = -4.2677393, 4.5689974


class ASTEncoder(AudioEncoder):
    """``ASTModel`` mean-pooled over tokens (see module docstring)."""

    name = "ast"
    sample_rate = 16000
    min_samples = 400

    def __init__(
        self,
        backbone: PreTrainedModel,
        *,
        tokens: str = "all",
        crop: str = "start",
        mean: float = _MEAN,
        std: float = _STD,
    ) -> None:
        super().__init__(backbone)
        if tokens not in ("all", "patches"):
            raise ValueError(f"tokens must be 'all' or 'patches', got {tokens!r}")
        crop_windows(torch.zeros(1, 1), 1, crop)
        cfg = backbone.config
        self.tokens, self.crop, self.mean, self.std = tokens, crop, float(mean), float(std)
        self.num_mel_bins, self.max_length = int(cfg.num_mel_bins), int(cfg.max_length)
        self.dim = int(cfg.hidden_size)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike = AST_ID,
        *,
        tokens: str = "all",
        crop: str = "start",
        local_files_only: bool | None = None,
    ) -> ASTEncoder:
        """Load from a hub id or a local directory (mean / std from its ``preprocessor_config.json`` if present)."""
        model = load_model("ASTModel", name_or_path, local_files_only=local_files_only, feature=_FEATURE)
        pre = preprocessor_config(name_or_path)
        return cls(model, tokens=tokens, crop=crop, mean=pre.get("mean", _MEAN), std=pre.get("std", _STD))

    @classmethod
    def from_config(
        cls, config: PretrainedConfig | None = None, *, tokens: str = "all", crop: str = "start"
    ) -> ASTEncoder:
        """Random weights from an ``ASTConfig`` (default: the full-size AudioSet model)."""
        tf = transformers(_FEATURE)
        config = tf.ASTConfig() if config is None else config
        return cls(tf.ASTModel(config).eval(), tokens=tokens, crop=crop)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        """16 kHz ``[B, N]`` → normalised fbank ``[B · W, max_length, num_mel_bins]`` and the window count W."""
        x = self._check_batch(x).detach().float()
        hop, frame = 160, 400
        x, windows = crop_windows(x, frame + (self.max_length - 1) * hop, self.crop)
        fb = kaldi_fbank(x, sample_rate=16000, num_mel_bins=self.num_mel_bins, window="hanning")
        fb = F.pad(fb, (0, 0, 0, max(0, self.max_length - fb.shape[1])))[:, : self.max_length]
        return (fb - self.mean) / (2 * self.std), windows

    def forward_frames(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """16 kHz ``[B, N]`` → last hidden state ``[B, W · tokens, D]`` (windows concatenated), no mask."""
        feats, windows = self.features(x)
        h = self.backbone(input_values=feats).last_hidden_state
        return h.reshape(-1, windows * h.shape[1], h.shape[-1]), None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """16 kHz ``[B, N]`` → mean-pooled ``[B, D]`` (averaged over windows)."""
        feats, windows = self.features(x)
        h = self.backbone(input_values=feats).last_hidden_state
        h = h[:, 2:] if self.tokens == "patches" else h
        return h.mean(1).reshape(-1, windows, h.shape[-1]).mean(1)
