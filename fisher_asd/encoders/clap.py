"""CLAP audio encoder (LAION ``laion/clap-htsat-unfused``: HTS-AT Swin tower + projection) via ``transformers``.

Input: 48 kHz clips (resampled explicitly otherwise). Preprocessing = the unfused checkpoint's feature extractor:
64-bin Slaney log-mel (fft 1024, hop 480, 50–14 000 Hz), ``rand_trunc`` / ``repeatpad`` semantics over 10 s
(480 000 samples): shorter clips are tiled then zero-padded to 10 s. The random crop of longer clips is replaced by a
deterministic policy (``crop``): ``"center"`` (default, the expected position of the uniform random crop),
``"start"``, or ``"windows"`` (evenly spaced 10 s windows covering the clip, embeddings averaged).

Output (``forward`` / ``embed``): the 512-d ``audio_embeds`` of ``ClapAudioModelWithProjection`` (Linear–ReLU–Linear
projection of the mean of the final Swin tokens; **not** L2-normalised). ``forward_frames``: the final
LayerNorm-ed Swin tokens ``[B, 64 · W, 768]``. Split points for shared-prefix inference: the global Swin block index
0 … sum(depths) (the LoRA stream adapts blocks from index 8 = stage 3 block 4 on).

Weights: ``laion/clap-htsat-unfused`` (Apache-2.0 per its model card). Tests build tiny random configs offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ._hf import crop_windows, load_model, preprocessor_config, transformers
from .base import AudioEncoder

if TYPE_CHECKING:
    from transformers import ClapFeatureExtractor, PretrainedConfig, PreTrainedModel

__all__ = ["CLAP_ID", "ClapEncoder"]

CLAP_ID = "laion/clap-htsat-unfused"
_FEATURE = "the CLAP encoder"
_UNFUSED = {
    "truncation": "rand_trunc",
    "padding": "repeatpad",
    "frequency_min": 50,
    "frequency_max": 14000,
    "sampling_rate": 48000,
    "fft_window_size": 1024,
    "hop_length": 480,
    "max_length_s": 10,
    "top_db": None,
}


@dataclass
class _ClapState:
    hidden: torch.Tensor  # [B · W, L, C] Swin tokens
    next_block: int
    windows: int


class ClapEncoder(AudioEncoder):
    """``ClapAudioModelWithProjection`` with deterministic unfused preprocessing (see module docstring)."""

    name = "clap"
    sample_rate = 48000
    min_samples = 1

    def __init__(
        self, backbone: PreTrainedModel, *, crop: str = "center", feature_extractor: ClapFeatureExtractor | None = None
    ) -> None:
        super().__init__(backbone)
        cfg = backbone.config
        if getattr(cfg, "enable_fusion", False):
            raise ValueError("ClapEncoder needs an unfused CLAP model (config.enable_fusion=False)")
        crop_windows(torch.zeros(1, 1), 1, crop)  # validates the policy name
        self.crop = crop
        if feature_extractor is None:
            fe_cls = transformers(_FEATURE).ClapFeatureExtractor
            feature_extractor = fe_cls(feature_size=cfg.num_mel_bins, **_UNFUSED)
        self.feature_extractor = feature_extractor
        self.max_samples = int(feature_extractor.nb_max_samples)
        self.dim = int(cfg.projection_dim)
        self.frame_dim = int(backbone.audio_model.audio_encoder.num_features)
        self.split_points = tuple(range(sum(cfg.depths) + 1))

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike = CLAP_ID, *, crop: str = "center", local_files_only: bool | None = None
    ) -> ClapEncoder:
        """Load from a hub id or a local directory (the preprocessing is always the unfused one)."""
        model = load_model(
            "ClapAudioModelWithProjection", name_or_path, local_files_only=local_files_only, feature=_FEATURE
        )
        pre = {k: v for k, v in preprocessor_config(name_or_path).items() if k in ("frequency_min", "frequency_max")}
        fe = transformers(_FEATURE).ClapFeatureExtractor(feature_size=model.config.num_mel_bins, **{**_UNFUSED, **pre})
        return cls(model, crop=crop, feature_extractor=fe)

    @classmethod
    def from_config(cls, config: PretrainedConfig | None = None, *, crop: str = "center") -> ClapEncoder:
        """Random weights from a ``ClapAudioConfig`` (default: the full-size HTS-AT of clap-htsat-unfused)."""
        tf = transformers(_FEATURE)
        config = tf.ClapAudioConfig() if config is None else config
        return cls(tf.ClapAudioModelWithProjection(config).eval(), crop=crop)

    # ------------------------------------------------------------------ internals
    @property
    def _tower(self):
        return self.backbone.audio_model.audio_encoder

    def _blocks(self):
        """``(stage, block_index_in_stage, module)`` in execution order."""
        return [(s, j, blk) for s, stage in enumerate(self._tower.layers) for j, blk in enumerate(stage.blocks)]

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        """48 kHz ``[B, N]`` → log-mel ``input_features`` ``[B · W, 1, 1001, 64]`` and the window count W."""
        x, windows = crop_windows(self._check_batch(x).detach().float().cpu(), self.max_samples, self.crop)
        arrays = [row.numpy().astype(np.float64) for row in x]
        out = self.feature_extractor(arrays, sampling_rate=self.sample_rate, return_tensors="pt")
        return out["input_features"].to(torch.float32).to(self.device), windows

    def _run(self, hidden: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        tower = self._tower
        for g, (s, j, blk) in enumerate(self._blocks()):
            if not start <= g < stop:
                continue
            dims = tower.input_resolutions[s]
            hidden = blk(hidden, dims, False, False)[0]
            stage = tower.layers[s]
            if j == len(stage.blocks) - 1 and stage.downsample is not None:
                hidden = stage.downsample(hidden, dims)
        return hidden

    def forward_prefix(self, x: torch.Tensor, split: int) -> _ClapState:
        """Preprocessing, BatchNorm, patch embedding and Swin blocks ``0 … split − 1``."""
        if split not in self.split_points:
            raise ValueError(f"CLAP split must be one of 0..{self.split_points[-1]}, got {split!r}")
        feats, windows = self.features(x)
        tower = self._tower
        h = tower.batch_norm(feats.transpose(1, 3)).transpose(1, 3)
        h = tower.patch_embed(tower.reshape_mel2img(h), None)
        return _ClapState(self._run(h, 0, split), split, windows)

    def _tokens(self, state: _ClapState) -> torch.Tensor:
        return self._tower.norm(self._run(state.hidden, state.next_block, self.split_points[-1]))

    def forward_from(self, state: _ClapState) -> torch.Tensor:
        """Remaining blocks → mean token → projection → ``audio_embeds`` ``[B, 512]`` (averaged over windows)."""
        embeds = self.backbone.audio_projection(self._tokens(state).mean(1))
        return embeds.reshape(-1, state.windows, embeds.shape[-1]).mean(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """48 kHz ``[B, N]`` → ``audio_embeds`` ``[B, 512]``."""
        return self.forward_from(self.forward_prefix(x, 0))

    def forward_frames(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """48 kHz ``[B, N]`` → final Swin tokens ``[B, 64 · W, 768]`` (windows concatenated), no mask."""
        state = self.forward_prefix(x, 0)
        tokens = self._tokens(state)
        return tokens.reshape(-1, state.windows * tokens.shape[1], tokens.shape[-1]), None

    def block_names(self) -> list[str]:
        """Qualified names (inside ``backbone``) of the Swin self-attention modules, in execution order."""
        return [f"audio_model.audio_encoder.layers.{s}.blocks.{j}.attention.self" for s, j, _ in self._blocks()]

    def prefix_modules(self, split: int) -> list[torch.nn.Module]:
        """Modules that :meth:`forward_prefix` uses for ``split``."""
        tower = self._tower
        mods: list[torch.nn.Module] = [tower.batch_norm, tower.patch_embed]
        for g, (s, j, blk) in enumerate(self._blocks()):
            if g < split:
                mods.append(blk)
                stage = tower.layers[s]
                if j == len(stage.blocks) - 1 and stage.downsample is not None:
                    mods.append(stage.downsample)
        return mods
