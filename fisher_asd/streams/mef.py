"""The six streams of the DCASE 2026 Task 2 detector and shared-prefix inference.

A stream = encoder (frozen backbone, optional LoRA on its last attention blocks) → pooled vector → projection head
``Linear(in, 256) + ReLU`` (``fisher_asd.adapters.heads``). The design is reconstructed from the published trainable-parameter
counts (``asd.md`` §1); :data:`STREAMS` lists it:

* ``clap`` — CLAP frozen, head on the 512-d ``audio_embeds``: 131,328 trainable;
* ``wavlm`` — WavLM-base frozen, head on the 768-d frame mean: 196,864;
* ``beats_r16`` — BEATs, LoRA r16 α32 on q, k, v of the last 4 layers (8–11), head on the patch mean: 491,776;
* ``beats_r32`` — the same with LoRA r32 α64: 786,688;
* ``clap_lora`` — CLAP, LoRA r8 α16 on query, value of the last 4 Swin blocks (stage-3 blocks 4–5, stage-4
  blocks 0–1), head on ``audio_embeds``: 205,056;
* ``ast`` — AST frozen, head on the 768-d token mean: 196,864.

Shared prefix: a LoRA stream gets a *copy* of its encoder in which only the adapted ``nn.Linear`` modules and their
ancestors are new objects; every other module (all frozen) is shared with the original. Streams of one family
(``beats_r16`` / ``beats_r32``; ``clap`` / ``clap_lora``) therefore share everything before the first adapted block,
and :meth:`StreamSet.embed` computes that prefix (resampling, fbank / mel, patch embedding, frozen blocks) once per
batch, then finishes each stream from it. ``share_prefix=False`` runs every stream independently (same numbers).

API: ``build_stream_set(beats=..., clap=..., wavlm=..., ast=...) -> StreamSet``; ``StreamSet.embed(waves, sr)`` →
``{stream name: [B, 256]}``; ``StreamSet.merge_lora()`` / ``unmerge_lora()``; ``Stream.forward(x)`` (differentiable,
``x`` ``[B, N]`` at the encoder's rate) for training heads / adapters.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from fisher.signals.resample import resample
from fisher.signals.validate import as_clips, check_sr
from fisher.types import SampleRate, WaveLike
from fisher_asd.adapters.heads import HEAD_DIM, ProjectionHead
from fisher_asd.adapters.lora import inject_lora, lora_parameters, merge_lora, unmerge_lora
from fisher_asd.encoders.base import RESAMPLE_METHOD, AudioEncoder, group_by_length, to_output

__all__ = ["STREAMS", "LoRASpec", "Stream", "StreamSet", "StreamSpec", "adapted_copy", "build_stream_set"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoRASpec:
    """LoRA on ``targets`` (child ``nn.Linear`` names) of the encoder's last ``last_blocks`` attention blocks."""

    r: int
    alpha: float
    targets: tuple[str, ...]
    last_blocks: int = 4


@dataclass(frozen=True)
class StreamSpec:
    """One stream: its name, encoder family, optional adapter and the published trainable-parameter count."""

    name: str
    encoder: str
    lora: LoRASpec | None = None
    share: str | None = None  # streams with the same share key (and encoder objects) share a prefix
    trainable: int | None = None  # published count at full size (heads + adapters)


_BEATS_QKV = ("q_proj", "k_proj", "v_proj")
_CLAP_QV = ("query", "value")
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("clap", "clap", None, "clap", 131_328),
    StreamSpec("wavlm", "wavlm", None, None, 196_864),
    StreamSpec("beats_r16", "beats", LoRASpec(16, 32, _BEATS_QKV), "beats", 491_776),
    StreamSpec("beats_r32", "beats", LoRASpec(32, 64, _BEATS_QKV), "beats", 786_688),
    StreamSpec("clap_lora", "clap", LoRASpec(8, 16, _CLAP_QV), "clap", 205_056),
    StreamSpec("ast", "ast", None, None, 196_864),
)


def adapted_copy(module: nn.Module, names: list[str]) -> nn.Module:
    """Copy of ``module`` in which only the submodules ``names`` (with their parameters) and their ancestors are new
    objects; every other submodule, parameter and buffer is shared with ``module``."""
    named = dict(module.named_modules())
    missing = [n for n in names if n not in named]
    if missing:
        raise ValueError(f"no submodule {missing[0]!r} in {type(module).__name__}")
    targets = {id(named[n]) for n in names}
    fresh = set(targets)
    for n in names:
        parts = n.split(".")
        fresh.update(id(named[".".join(parts[:k])]) for k in range(len(parts)))  # "" is the root
    memo: dict[int, Any] = {}
    for m in module.modules():
        if id(m) not in fresh:
            memo[id(m)] = m
        elif id(m) not in targets:  # an ancestor: new object, but its own tensors stay shared
            for t in [*m._parameters.values(), *m._buffers.values()]:
                if t is not None:
                    memo[id(t)] = t
    return copy.deepcopy(module, memo)


def _adapt(spec: StreamSpec, encoder: AudioEncoder) -> tuple[AudioEncoder, int, list[str]]:
    """``(encoder, split, adapter names)`` of a stream: for a LoRA spec an adapted copy (:func:`adapted_copy`) with
    adapters on the last ``spec.lora.last_blocks`` blocks, which start at ``split``; else the encoder, 0, ``[]``."""
    lora = spec.lora
    if lora is None:
        return encoder, 0, []
    blocks = encoder.block_names()
    if len(blocks) < lora.last_blocks:
        raise ValueError(f"{spec.name}: encoder has {len(blocks)} blocks < {lora.last_blocks}")
    split = len(blocks) - lora.last_blocks
    targets = [f"{b}.{t}" for b in blocks[split:] for t in lora.targets]
    encoder = adapted_copy(encoder, [f"backbone.{t}" for t in targets])
    pattern = "|".join(t.replace(".", r"\.") for t in targets)
    return encoder, split, inject_lora(encoder.backbone, pattern, lora.r, lora.alpha)


class Stream(nn.Module):
    """Encoder (+ LoRA) + projection head; ``forward(x)`` ``[B, N]`` at ``encoder.sample_rate`` → ``[B, 256]``."""

    def __init__(self, spec: StreamSpec, encoder: AudioEncoder, *, head_dim: int = HEAD_DIM) -> None:
        super().__init__()
        if not isinstance(encoder, AudioEncoder):
            raise TypeError(f"stream {spec.name!r} needs a torch AudioEncoder, got {type(encoder).__name__}")
        self.spec = spec
        encoder, self.split, self.lora_names = _adapt(spec, encoder)
        for p in encoder.backbone.parameters():
            p.requires_grad_(False)
        for p in lora_parameters(encoder.backbone):
            p.requires_grad_(True)
        self.encoder = encoder
        self.head = ProjectionHead(encoder.embedding_dim(), head_dim)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def adapted(self) -> bool:
        """A LoRA stream (``beats_r16`` / ``beats_r32`` / ``clap_lora``): its encoder is an adapted copy whose blocks
        from ``split`` on carry adapters; the others use the given encoder as is (``split`` 0)."""
        return bool(self.lora_names)

    def num_trainable(self) -> int:
        """Trainable parameters (head + LoRA)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, N]`` at the encoder's rate → head output ``[B, 256]`` (differentiable)."""
        return self.head(self.encoder(x))

    def embed(self, waves: WaveLike, sr: SampleRate, *, batch_size: int = 8) -> np.ndarray | torch.Tensor:
        """Head outputs ``[B, 256]`` for any input rate (see the encoder protocol)."""
        return StreamSet([self]).embed(waves, sr, batch_size=batch_size, share_prefix=False)[self.name]


def _same_prefix(a: AudioEncoder, b: AudioEncoder, split: int) -> bool:
    pa = [p for m in a.prefix_modules(split) for p in m.parameters()]
    pb = [p for m in b.prefix_modules(split) for p in m.parameters()]
    return len(pa) == len(pb) and all(x is y for x, y in zip(pa, pb))


class StreamSet(nn.Module):
    """A set of :class:`Stream` s evaluated together with shared-prefix inference."""

    def __init__(self, streams: list[Stream]) -> None:
        super().__init__()
        self.streams = nn.ModuleDict({s.name: s for s in streams})

    @property
    def names(self) -> list[str]:
        return list(self.streams)

    def merge_lora(self) -> int:
        """Fold every adapter into its base weights (inference); returns the number merged."""
        return merge_lora(self)

    def unmerge_lora(self) -> int:
        """Undo :meth:`merge_lora` (before training)."""
        return unmerge_lora(self)

    def _groups(self) -> list[tuple[list[Stream], int]]:
        """Streams grouped by shared prefix → ``[(streams, split)]`` (singletons have split 0)."""
        by_key: dict[str, list[Stream]] = defaultdict(list)
        groups: list[tuple[list[Stream], int]] = []
        for s in self.streams.values():
            if s.spec.share is None:
                groups.append(([s], 0))
            else:
                by_key[s.spec.share].append(s)
        for key, members in by_key.items():
            lora_splits = [s.split for s in members if s.adapted]
            split = min(lora_splits) if lora_splits else 0  # frozen members can continue from any block
            first = members[0].encoder
            ok = [s for s in members if _same_prefix(first, s.encoder, split)] if split > 0 else []
            if len(ok) < 2:
                groups.extend(([s], 0) for s in members)
                continue
            if len(ok) < len(members):
                log.warning(
                    "streams %s do not share the %s prefix with the others; run alone",
                    [s.name for s in members if s not in ok],
                    key,
                )
                groups.extend(([s], 0) for s in members if s not in ok)
            groups.append((ok, split))
        return groups

    @torch.inference_mode()
    def embed(
        self, waves: WaveLike, sr: SampleRate, *, share_prefix: bool = True, heads: bool = True, batch_size: int = 8
    ) -> dict[str, np.ndarray | torch.Tensor]:
        """``{stream: [B, 256]}`` (``[B, encoder dim]`` pooled vectors with ``heads=False``); one clip → ``[256]``."""
        sr = check_sr(sr)
        batch = as_clips(waves)
        groups = self._groups() if share_prefix else [([s], 0) for s in self.streams.values()]
        rates = {s.encoder.sample_rate or sr for s in self.streams.values()}
        native = {r: [resample(c, sr, r, method=RESAMPLE_METHOD, who="streams") for c in batch.clips] for r in rates}
        modes = {n: s.training for n, s in self.streams.items()}
        was_training = self.training
        self.eval()
        try:
            out: dict[str, torch.Tensor] = {}
            for members, split in groups:
                enc0 = members[0].encoder
                clips = native[enc0.sample_rate or sr]
                for s in members:
                    dim = s.head.out_dim if heads else s.encoder.embedding_dim()
                    out[s.name] = torch.empty(len(clips), dim)
                for idx in group_by_length(clips, batch_size):
                    x = torch.stack([clips[i] for i in idx]).to(enc0.device)
                    state = enc0.forward_prefix(x, split) if split > 0 else None
                    joint = enc0.forward_from_many([s.encoder for s in members], state) if state is not None else None
                    for j, s in enumerate(members):
                        if joint is not None:
                            pooled = joint[j]
                        else:
                            pooled = s.encoder.forward_from(state) if state is not None else s.encoder(x)
                        out[s.name][idx] = (s.head(pooled) if heads else pooled).float().cpu()
        finally:
            self.training = was_training
            for n, s in self.streams.items():
                s.train(modes[n])
        return {n: to_output(out[n], batch.single, batch.torch_input) for n in self.streams}


def build_stream_set(
    *,
    beats: AudioEncoder | None = None,
    clap: AudioEncoder | None = None,
    wavlm: AudioEncoder | None = None,
    ast: AudioEncoder | None = None,
    names: tuple[str, ...] | None = None,
    head_dim: int = HEAD_DIM,
) -> StreamSet:
    """Build the streams of :data:`STREAMS` whose encoder is given (or exactly ``names``; then all are required).

    No adapter is injected into the given encoders (LoRA streams adapt a copy that shares their frozen modules), but
    their backbone parameters are frozen (``requires_grad=False``): only heads and adapters train.
    """
    given = {"beats": beats, "clap": clap, "wavlm": wavlm, "ast": ast}
    specs = [s for s in STREAMS if (s.name in names if names is not None else given[s.encoder] is not None)]
    if names is not None:
        unknown = set(names) - {s.name for s in STREAMS}
        if unknown:
            raise ValueError(f"unknown stream(s) {sorted(unknown)}; known: {[s.name for s in STREAMS]}")
        lacking = sorted({s.encoder for s in specs if given[s.encoder] is None})
        if lacking:
            raise ValueError(f"streams {list(names)} need encoder(s) {lacking}")
    if not specs:
        raise ValueError("build_stream_set needs at least one of beats=, clap=, wavlm=, ast=")
    return StreamSet([Stream(s, given[s.encoder], head_dim=head_dim) for s in specs])
