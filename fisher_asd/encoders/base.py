"""The trainable extension of the encoder protocol and a base class for torch encoders.

Protocol (what the detector relies on):
    Every encoder — built-in or user-registered — provides the library's one protocol,
    :class:`fisher.eval.encoders.Encoder` (re-exported here), restated:

    * ``name: str``: Registry name (``"beats"``, ``"clap"``, …).
    * ``sample_rate: int | None``: Native rate in Hz. Input at another rate is resampled explicitly
      (``fisher.signals.resample``, logged). ``None`` means the encoder works at any rate and never resamples
      (``fisher``, ``logstft``).
    * ``dim: int | None``: Size of one embedding; ``None`` when it depends on the input rate (then use
      ``embedding_dim(sr)``).
    * ``embedding_dim(sr) -> int``: Size of one embedding for input at ``sr`` Hz.
    * ``embed(waves, sr, *, batch_size=8) -> np.ndarray | torch.Tensor``: ``waves``: one clip ``[N]``, a batch
      ``[B, N]`` or a list of 1-D clips (lengths may differ), float in [-1, 1) or integer PCM (see
      ``fisher.signals.validate.as_clips``); ``sr`` in Hz (required). Returns ``[B, dim]`` float32 (``[dim]`` for a
      single 1-D clip), numpy unless the input was a torch tensor. Deterministic, evaluation mode, no gradient; a clip
      gives the same embedding alone and in a batch (clips are only batched with clips of the same length, so no padding
      is involved).

Trainable encoders:
    Trainable torch encoders (:class:`AudioEncoder`: ``beats``, ``clap``, ``wavlm``, ``ast``) add the frame-level,
    differentiable path used to train heads and LoRA adapters:

    * ``prepare(waves, sr) -> torch.Tensor``: Validated, resampled ``[B, N]`` float32 batch at ``sample_rate`` (all
      clips must have the same length).
    * ``forward(x) -> torch.Tensor``: ``[B, N]`` at the native rate → pooled stream input ``[B, dim]`` (BEATs / WavLM /
      AST: mean over tokens; CLAP: the 512-d projected ``audio_embeds``). Gradients reach LoRA adapters inside
      ``backbone``.
    * ``forward_frames(x) -> (frames [B, T, D], padding_mask [B, T] | None)``: Token / frame features before pooling
      (True in the mask = padded).
    * ``frames(waves, sr)``: ``prepare`` + ``forward_frames``.
    * ``backbone: nn.Module``: The wrapped network (LoRA is injected here; names in
      ``fisher_asd.adapters.lora.LORA_TARGETS``). It stays in ``eval()`` even when the encoder is put in ``train()`` (no
      dropout, no layer drop, frozen BatchNorm statistics), so only heads / adapters learn.
    * ``split_points: tuple[int, ...]`` with ``forward_prefix(x, split) -> state`` and
      ``forward_from(state) -> [B, dim]`` (BEATs, CLAP): ``forward_from(forward_prefix(x, k)) == forward(x)``; lets
      several streams that share frozen early layers compute them once (``fisher_asd.streams.mef``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from fisher.eval.encoders import Encoder
from fisher.signals.resample import resample
from fisher.signals.validate import as_clips, check_sr
from fisher.types import SampleRate, WaveLike

__all__ = ["AudioEncoder", "Encoder", "FrameEncoder", "group_by_length", "to_output"]

#: Resampling of every fisher_asd encoder / stream / training crop (:mod:`fisher.signals.resample`): the exact-ratio
#: polyphase method (``scipy.signal.resample_poly``). Which resampler the report used is unknown (not stated).
RESAMPLE_METHOD = "polyphase"


@runtime_checkable
class FrameEncoder(Encoder, Protocol):
    """Trainable torch encoder with the differentiable frame-level path."""

    backbone: nn.Module

    def prepare(self, waves: WaveLike, sr: SampleRate) -> torch.Tensor: ...

    def forward(self, x: torch.Tensor) -> torch.Tensor: ...

    def forward_frames(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def frames(self, waves: WaveLike, sr: SampleRate) -> tuple[torch.Tensor, torch.Tensor | None]: ...


def group_by_length(clips: list[torch.Tensor], batch_size: int) -> list[list[int]]:
    """Indices of clips grouped by equal length, each group cut into chunks of at most ``batch_size``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    groups: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clips):
        groups[c.shape[0]].append(i)
    return [idx[s : s + batch_size] for idx in groups.values() for s in range(0, len(idx), batch_size)]


def to_output(rows: torch.Tensor, single: bool, torch_input: bool) -> np.ndarray | torch.Tensor:
    """``[B, D]`` tensor → numpy (or torch for torch input), ``[D]`` for a single clip."""
    rows = rows[0] if single else rows
    return rows if torch_input else rows.numpy()


class AudioEncoder(nn.Module):
    """Base class for torch encoders; subclasses set the class attributes and implement ``forward`` /
    ``forward_frames`` (and optionally ``forward_prefix`` / ``forward_from``)."""

    name: str = "encoder"
    sample_rate: int | None = 16000
    dim: int | None = None
    min_samples: int = 1  # at the native rate
    split_points: tuple[int, ...] = ()

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.backbone.eval()

    # ------------------------------------------------------------------ protocol
    def embedding_dim(self, sr: float | None = None) -> int:
        """Embedding size (independent of ``sr`` for fixed-rate encoders)."""
        if sr is not None:
            check_sr(sr)
        assert self.dim is not None
        return self.dim

    def train(self, mode: bool = True) -> AudioEncoder:
        """Set the training flag of heads / adapters; the backbone always stays in ``eval()``."""
        super().train(mode)
        self.backbone.eval()
        return self

    @property
    def device(self) -> torch.device:
        return next(self.backbone.parameters()).device

    def clips(self, waves: WaveLike, sr: SampleRate):
        """Validate ``waves`` and resample each clip to the native rate → ``(list of 1-D tensors, Clips)``."""
        sr = check_sr(sr)
        batch = as_clips(waves)
        native = self.sample_rate or sr
        out = [resample(c, sr, native, method=RESAMPLE_METHOD, who=self.name) for c in batch.clips]
        for i, c in enumerate(out):
            if c.shape[0] < self.min_samples:
                raise ValueError(
                    f"clip {i} too short for {self.name}: {c.shape[0]} samples at {native:g} Hz "
                    f"(need >= {self.min_samples} = {self.min_samples / native:.3f} s)"
                )
        return out, batch

    def prepare(self, waves: WaveLike, sr: SampleRate) -> torch.Tensor:
        """``[B, N]`` float32 batch at the native rate on the encoder's device (equal clip lengths required)."""
        clips, _ = self.clips(waves, sr)
        lengths = {c.shape[0] for c in clips}
        if len(lengths) > 1:
            raise ValueError(
                f"{self.name}: clips of different lengths {sorted(lengths)} cannot form one training batch; "
                "crop or pad them to a common length first (embed() accepts mixed lengths)"
            )
        return torch.stack(clips).to(self.device)

    @torch.inference_mode()
    def embed(self, waves: WaveLike, sr: SampleRate, *, batch_size: int = 8) -> np.ndarray | torch.Tensor:
        """Pooled embeddings ``[B, dim]`` (``[dim]`` for one clip); see the module docstring."""
        clips, batch = self.clips(waves, sr)
        was_training = self.training
        self.eval()
        try:
            out = torch.empty(len(clips), self.embedding_dim(), dtype=torch.float32)
            for idx in group_by_length(clips, batch_size):
                x = torch.stack([clips[i] for i in idx]).to(self.device)
                out[idx] = self.forward(x).float().cpu()
        finally:
            self.train(was_training)
        return to_output(out, batch.single, batch.torch_input)

    def frames(self, waves: WaveLike, sr: SampleRate) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Frame-level features of an equal-length batch (differentiable)."""
        return self.forward_frames(self.prepare(waves, sr))

    # ------------------------------------------------------------------ to implement
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_frames(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:  # pragma: no cover
        raise NotImplementedError

    def forward_prefix(self, x: torch.Tensor, split: int) -> Any:
        """State after the frozen part before ``split`` (see ``split_points``)."""
        raise NotImplementedError(f"{self.name} does not support shared-prefix inference")

    def forward_from(self, state: Any) -> torch.Tensor:
        """Finish a state from :meth:`forward_prefix` → ``[B, dim]``."""
        raise NotImplementedError(f"{self.name} does not support shared-prefix inference")

    def forward_from_many(self, encoders: list[AudioEncoder], state: Any) -> list[torch.Tensor] | None:
        """``[e.forward_from(state) for e in encoders]`` computed jointly (faster), or None when this encoder cannot
        (then the caller runs them one by one)."""
        return None

    def _check_batch(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 2:
            raise TypeError(f"{self.name}: expected a float tensor [B, N] at {self.sample_rate} Hz")
        if x.shape[1] < self.min_samples:
            raise ValueError(f"{self.name}: clips too short ({x.shape[1]} < {self.min_samples} samples)")
        return x.to(self.device)
