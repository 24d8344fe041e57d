"""Built detector streams: a registered encoder, optionally followed by a head, or one of the six MEF streams.

Kinds (configured by :class:`~fisher_asd.detector.config.StreamConfig`):

* **frozen encoder** (``head=None``) — the encoder's own pooled embedding; nothing to train (``logstft``,
  ``fisher``, or any registered encoder).
* **head stream** (``head=256``) — ``Linear(in, 256) + ReLU`` (:class:`fisher_asd.adapters.heads.ProjectionHead`) on the
  encoder's pooled output; the head trains, the encoder stays frozen. ``in`` may depend on the input rate
  (``logstft``), so the head is created at the first ``fit``.
* **MEF stream** (``mef="beats_r16"`` …) — a stream of :data:`fisher_asd.streams.mef.STREAMS` (head, and LoRA for
  ``beats_r16`` / ``beats_r32`` / ``clap_lora``), built by :class:`fisher_asd.streams.mef.Stream`; streams of one family
  share their frozen prefix at inference (:class:`fisher_asd.streams.mef.StreamSet`).

Training calls :meth:`DetectorStream.forward` on ``[B, N]`` batches at the stream's native rate (differentiable
through adapters; the features of a frozen encoder are computed without gradient). Inference calls
:meth:`DetectorStream.embed`, which goes through the encoder's own ``embed`` (resampling, long-clip policy, batching).
Encoders are built once per distinct ``(encoder, options, location)`` and shared between streams.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from fisher_asd.adapters.heads import ProjectionHead
from fisher_asd.adapters.lora import lora_parameters

from .config import LOCATION_ARG, StreamConfig, encoder_key
from .knn import l2_normalize

if TYPE_CHECKING:
    from fisher.eval.encoders import Encoder

__all__ = ["DetectorStream", "build_streams", "embed_streams", "torch_module"]


def torch_module(encoder: Encoder) -> nn.Module | None:
    """The ``nn.Module`` holding an encoder's weights (the encoder itself or its ``model``), if any."""
    if isinstance(encoder, nn.Module):
        return encoder
    model = getattr(encoder, "model", None)
    return model if isinstance(model, nn.Module) else None


def _seed(seed: int, name: str) -> int:
    return int(np.random.SeedSequence([seed, zlib.crc32(name.encode())]).generate_state(1)[0])


class DetectorStream(nn.Module):
    """A built stream (see the module docstring); ``encoder`` is the (possibly shared) encoder object."""

    def __init__(self, config: StreamConfig, encoder: Encoder, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.seed = int(seed)
        self.mef: nn.Module | None = None
        module = torch_module(encoder)
        if module is not None:
            for p in module.parameters():
                p.requires_grad_(False)
        if config.mef is not None:
            from fisher_asd.streams.mef import STREAMS, Stream

            spec = dataclasses.replace(next(s for s in STREAMS if s.name == config.mef), name=config.name)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(_seed(self.seed, config.name))
                self.mef = Stream(spec, encoder)
            for p in self.mef.parameters():
                p.requires_grad_(False)
            self.encoder = self.mef.encoder
        else:
            self.encoder = encoder  # a submodule when it is an nn.Module
        self.head: ProjectionHead | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def trainable(self) -> bool:
        return self.config.trainable

    def native_rate(self, sr: float) -> float:
        """Rate of the training batches: the encoder's native rate, or ``sr`` for rate-agnostic encoders."""
        return float(self.encoder.sample_rate or sr)

    def ensure_head(self, sr: float) -> None:
        """Create the head of a head stream for the encoder's output size at ``sr`` (seeded by the stream name)."""
        if self.config.head is None or self.mef is not None or self.head is not None:
            return
        in_dim = int(self.encoder.embedding_dim(sr))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed(self.seed, self.name))
            self.head = ProjectionHead(in_dim, self.config.head)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Head and LoRA parameters."""
        if self.mef is not None:
            return list(self.mef.head.parameters()) + lora_parameters(self.mef.encoder)
        return list(self.head.parameters()) if self.head is not None else []

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Head and LoRA tensors only (CPU, contiguous), keyed by their names in this module."""
        keep = {id(p) for p in self.trainable_parameters()}
        return {k: v.detach().cpu().contiguous() for k, v in self.named_parameters() if id(v) in keep}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        """Load :meth:`trainable_state` output; missing or unexpected names raise ``KeyError``."""
        own = dict(self.named_parameters())
        expected = set(self.trainable_state())
        if set(state) != expected:
            raise KeyError(
                f"stream {self.name!r}: state keys differ: missing {sorted(expected - set(state))}, "
                f"unexpected {sorted(set(state) - expected)}"
            )
        with torch.no_grad():
            for k, v in state.items():
                own[k].copy_(v)

    # ------------------------------------------------------------------ compute
    def forward(self, x: torch.Tensor, sr: float) -> torch.Tensor:
        """Differentiable embedding of a ``[B, N]`` batch at ``native_rate(sr)`` → ``[B, D]``."""
        if self.mef is not None:
            return self.mef(x.to(self.mef.encoder.device))
        if isinstance(self.encoder, nn.Module) and hasattr(self.encoder, "backbone"):
            with torch.no_grad():
                feats = self.encoder(x.to(self.encoder.device)).float()
        else:
            with torch.no_grad():
                feats = torch.as_tensor(np.asarray(self.encoder.embed(x.detach().cpu().numpy(), sr)))
        feats = feats.reshape(x.shape[0], -1).float()
        return self.head(feats.to(self.head.linear.weight.device)) if self.head is not None else feats

    @torch.inference_mode()
    def embed(self, clips: list[torch.Tensor], sr: float, batch_size: int = 8) -> np.ndarray:
        """Inference embeddings of 1-D clips at ``sr`` → float32 ``[B, D]`` (not normalised)."""
        if self.mef is not None:
            out = self.mef.embed(list(clips), sr, batch_size=batch_size)
            return np.asarray(out, dtype=np.float32).reshape(len(clips), -1)
        feats = self.encoder.embed(list(clips), sr, batch_size=batch_size)
        feats = torch.as_tensor(np.asarray(feats.cpu() if isinstance(feats, torch.Tensor) else feats)).float()
        feats = feats.reshape(len(clips), -1)
        if self.head is not None:
            feats = self.head(feats.to(self.head.linear.weight.device)).cpu()
        return feats.numpy().astype(np.float32)


def _create(config: StreamConfig, location: str | None) -> Any:
    from ..encoders import create_encoder

    kwargs = dict(config.options)
    if location is not None:
        kwargs[LOCATION_ARG.get(config.encoder, "name_or_path")] = location
    return create_encoder(config.encoder, **kwargs)


def build_streams(
    configs: list[StreamConfig],
    *,
    backbones: dict[str, Any] | None = None,
    backbone_states: dict[str, dict[str, torch.Tensor]] | None = None,
    seed: int = 0,
) -> tuple[dict[str, DetectorStream], dict[str, Any]]:
    """Build streams sharing encoders → ``({stream: DetectorStream}, {encoder key: encoder})``.

    Args:
        configs: the stream configurations.
        backbones: per encoder name (``"beats"``) or stream name, a location (path / hub id) overriding
            ``config.location``, or a ready encoder object.
        backbone_states: per :func:`encoder_key`, a saved state dict loaded into the encoder before the streams
            wrap it (detectors whose backbones were randomly initialised).
        seed: seeds the heads (with each stream's name).
    """
    backbones = dict(backbones or {})
    encoders: dict[str, Any] = {}
    streams: dict[str, DetectorStream] = {}
    for cfg in configs:
        given = backbones.get(cfg.name, backbones.get(cfg.encoder))
        if given is not None and not isinstance(given, (str, os.PathLike)):
            key = f"instance:{id(given)}"
            encoders.setdefault(key, given)
        else:
            if given is not None:
                cfg.location = os.fspath(given)
            key = encoder_key(cfg)
            if key not in encoders:
                encoders[key] = _create(cfg, cfg.location)
                state = (backbone_states or {}).get(key)
                if state is not None:
                    torch_module(encoders[key]).load_state_dict(state, strict=True)
        if cfg.name in streams:
            raise ValueError(f"duplicate stream name {cfg.name!r}")
        streams[cfg.name] = DetectorStream(cfg, encoders[key], seed=seed)
    return streams, encoders


def embed_streams(
    streams: dict[str, DetectorStream], clips: list[torch.Tensor], sr: float, names: Sequence[str], batch_size: int = 8
) -> dict[str, np.ndarray]:
    """Unit-norm float32 embeddings ``{stream: [B, D]}`` of ``names``; MEF streams share their frozen prefixes
    (:class:`fisher_asd.streams.mef.StreamSet`)."""
    out: dict[str, np.ndarray] = {}
    mef = [n for n in names if streams[n].mef is not None]
    if len(mef) > 1:
        from fisher_asd.streams.mef import StreamSet

        res = StreamSet([streams[n].mef for n in mef]).embed(list(clips), sr, batch_size=batch_size)
        out.update({n: np.asarray(res[n], dtype=np.float32).reshape(len(clips), -1) for n in mef})
    for n in names:
        if n not in out:
            out[n] = streams[n].embed(clips, sr, batch_size)
    return {n: l2_normalize(out[n]).astype(np.float32) for n in names}
