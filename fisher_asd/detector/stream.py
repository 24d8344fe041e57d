"""Built detector streams, one class per kind: a registered encoder, optionally followed by a head, or an MEF stream.

Kinds (:class:`~fisher_asd.detector.stream_config.StreamKind`, read from a
:class:`~fisher_asd.detector.stream_config.StreamConfig` by its ``kind`` property):

* :class:`FrozenStream` (``head=None``) — the encoder's own pooled embedding; nothing to train (``logstft``,
  ``fisher``, or any registered encoder).
* :class:`HeadStream` (``head=256``) — ``Linear(in, 256) + ReLU`` (:class:`fisher_asd.adapters.heads.ProjectionHead`) on
  the encoder's pooled output; the head trains, the encoder stays frozen. ``in`` may depend on the input rate
  (``logstft``), so the head is created at the first ``fit`` (:meth:`DetectorStream.ensure_head`).
* :class:`MEFStream` (``mef="beats_r16"`` …) — a stream of :data:`fisher_asd.streams.mef.STREAMS` (head, and LoRA for
  ``beats_r16`` / ``beats_r32`` / ``clap_lora``), built by :class:`fisher_asd.streams.mef.Stream` (``.mef``); streams
  of one family share their frozen prefix at inference (:class:`fisher_asd.streams.mef.StreamSet`).

``DetectorStream(config, encoder)`` builds the class of ``config.kind`` (:data:`STREAM_TYPES`); everything that
differs between kinds — head creation, trainable parameters, the differentiable ``forward``, inference ``embed`` —
is a method of the kind's class, so training, embedding and persistence never ask which kind a stream is.

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
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from fisher_asd.adapters.heads import ProjectionHead
from fisher_asd.adapters.lora import lora_parameters
from fisher_asd.encoders.base import AudioEncoder

from .bank import l2_normalize
from .stream_config import LOCATION_ARG, StreamConfig, StreamKind, encoder_key

if TYPE_CHECKING:
    from fisher.eval.encoders import Encoder

__all__ = [
    "STREAM_TYPES",
    "DetectorStream",
    "FrozenStream",
    "HeadStream",
    "MEFStream",
    "build_streams",
    "embed_streams",
    "torch_module",
]


def torch_module(encoder: Encoder) -> nn.Module | None:
    """The ``nn.Module`` holding an encoder's weights (the encoder itself or its ``model``), if any."""
    if isinstance(encoder, nn.Module):
        return encoder
    model = getattr(encoder, "model", None)
    return model if isinstance(model, nn.Module) else None


def _seed(seed: int, name: str) -> int:
    return int(np.random.SeedSequence([seed, zlib.crc32(name.encode())]).generate_state(1)[0])


class DetectorStream(nn.Module):
    """A built stream (see the module docstring); ``encoder`` is the (possibly shared) encoder object.

    The base of :class:`FrozenStream`, :class:`HeadStream` and :class:`MEFStream`: ``DetectorStream(config, encoder)``
    returns an instance of the class of ``config.kind``; a kind class given a config of another kind raises
    ``ValueError``.
    """

    kind: ClassVar[StreamKind]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        config = args[0] if args else kwargs.get("config")
        kind_cls = cls
        if cls is DetectorStream and isinstance(config, StreamConfig):  # (copy / pickle call __new__ without args)
            kind_cls = STREAM_TYPES[config.kind]
        return super().__new__(kind_cls)

    def __init__(self, config: StreamConfig, encoder: Encoder, *, seed: int = 0) -> None:
        super().__init__()
        if config.kind is not self.kind:
            raise ValueError(f"stream {config.name!r} is a {config.kind.value} stream, not {self.kind.value}")
        self.config = config
        self.seed = int(seed)
        module = torch_module(encoder)
        if module is not None:
            for p in module.parameters():
                p.requires_grad_(False)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def trainable(self) -> bool:
        return self.config.trainable

    def native_rate(self, sr: float) -> float:
        """Rate of the training batches: the encoder's native rate, or ``sr`` for rate-agnostic encoders."""
        return float(self.encoder.sample_rate or sr)

    @property
    def needs_head(self) -> bool:
        """A head stream whose head is not created yet (:meth:`ensure_head`)."""
        return False

    def ensure_head(self, sr: float) -> None:
        """Create the head of a head stream for the encoder's output size at ``sr``; nothing for the other kinds."""

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Head and LoRA parameters (none for a frozen stream)."""
        return []

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
        return self._features(x, sr)

    @torch.inference_mode()
    def embed(self, clips: list[torch.Tensor], sr: float, batch_size: int = 8) -> np.ndarray:
        """Inference embeddings of 1-D clips at ``sr`` → float32 ``[B, D]`` (not normalised)."""
        return self._embed_features(clips, sr, batch_size).numpy().astype(np.float32)

    def _features(self, x: torch.Tensor, sr: float) -> torch.Tensor:
        """The frozen encoder's pooled features of a ``[B, N]`` batch (no gradient) → float32 ``[B, D]``."""
        if isinstance(self.encoder, AudioEncoder):  # a torch encoder: its differentiable forward, without gradient
            with torch.no_grad():
                feats = self.encoder(x.to(self.encoder.device)).float()
        else:
            with torch.no_grad():
                feats = torch.as_tensor(np.asarray(self.encoder.embed(x.detach().cpu().numpy(), sr)))
        return feats.reshape(x.shape[0], -1).float()

    def _embed_features(self, clips: list[torch.Tensor], sr: float, batch_size: int) -> torch.Tensor:
        """The encoder's own ``embed`` of 1-D clips → float32 CPU tensor ``[B, D]``."""
        feats = self.encoder.embed(list(clips), sr, batch_size=batch_size)
        feats = torch.as_tensor(np.asarray(feats.cpu() if isinstance(feats, torch.Tensor) else feats)).float()
        return feats.reshape(len(clips), -1)


class FrozenStream(DetectorStream):
    """A registered encoder's own pooled embedding (``head=None``); nothing trains."""

    kind = StreamKind.FROZEN
    mef = None  # only MEF streams have one (kept for code written before the kinds were classes)

    def __init__(self, config: StreamConfig, encoder: Encoder, *, seed: int = 0) -> None:
        super().__init__(config, encoder, seed=seed)
        self.encoder = encoder  # a submodule when it is an nn.Module


class HeadStream(DetectorStream):
    """A projection head (``config.head`` outputs) on a frozen encoder, created by :meth:`ensure_head`."""

    kind = StreamKind.HEAD
    mef = None  # only MEF streams have one (kept for code written before the kinds were classes)

    def __init__(self, config: StreamConfig, encoder: Encoder, *, seed: int = 0) -> None:
        super().__init__(config, encoder, seed=seed)
        self.encoder = encoder  # a submodule when it is an nn.Module
        self.head: ProjectionHead | None = None

    @property
    def needs_head(self) -> bool:
        return self.head is None

    def ensure_head(self, sr: float) -> None:
        """Create the head for the encoder's output size at ``sr`` (seeded by the stream name); once."""
        if not self.needs_head:
            return
        in_dim = int(self.encoder.embedding_dim(sr))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed(self.seed, self.name))
            self.head = ProjectionHead(in_dim, self.config.head)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [] if self.head is None else list(self.head.parameters())

    def forward(self, x: torch.Tensor, sr: float) -> torch.Tensor:
        feats = self._features(x, sr)
        return feats if self.head is None else self.head(feats.to(self.head.linear.weight.device))

    @torch.inference_mode()
    def embed(self, clips: list[torch.Tensor], sr: float, batch_size: int = 8) -> np.ndarray:
        """Before :meth:`ensure_head` (no head yet) the encoder's features, as a frozen stream."""
        feats = self._embed_features(clips, sr, batch_size)
        if self.head is not None:
            feats = self.head(feats.to(self.head.linear.weight.device)).cpu()
        return feats.numpy().astype(np.float32)


class MEFStream(DetectorStream):
    """A stream of :data:`fisher_asd.streams.mef.STREAMS` (head, LoRA for the adapted ones), held as ``.mef``."""

    kind = StreamKind.MEF

    def __init__(self, config: StreamConfig, encoder: Encoder, *, seed: int = 0) -> None:
        from fisher_asd.streams.mef import STREAMS, Stream

        super().__init__(config, encoder, seed=seed)
        spec = dataclasses.replace(next(s for s in STREAMS if s.name == config.mef), name=config.name)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_seed(self.seed, config.name))
            stream = Stream(spec, encoder)
        for p in stream.parameters():
            p.requires_grad_(False)
        self.mef = stream  # registered before ``encoder``: the tensor names start with "mef."
        self.encoder = stream.encoder  # the LoRA-adapted copy for adapted streams

    def trainable_parameters(self) -> list[nn.Parameter]:
        return list(self.mef.head.parameters()) + lora_parameters(self.mef.encoder)

    def forward(self, x: torch.Tensor, sr: float) -> torch.Tensor:
        return self.mef(x.to(self.mef.encoder.device))

    @torch.inference_mode()
    def embed(self, clips: list[torch.Tensor], sr: float, batch_size: int = 8) -> np.ndarray:
        out = self.mef.embed(list(clips), sr, batch_size=batch_size)
        return np.asarray(out, dtype=np.float32).reshape(len(clips), -1)


#: The class of each stream kind (``DetectorStream(config, ...)`` builds ``STREAM_TYPES[config.kind]``).
STREAM_TYPES: dict[StreamKind, type[DetectorStream]] = {
    StreamKind.FROZEN: FrozenStream,
    StreamKind.HEAD: HeadStream,
    StreamKind.MEF: MEFStream,
}


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
    mef = [n for n in names if isinstance(streams[n], MEFStream)]
    if len(mef) > 1:
        from fisher_asd.streams.mef import StreamSet

        res = StreamSet([streams[n].mef for n in mef]).embed(list(clips), sr, batch_size=batch_size)
        out.update({n: np.asarray(res[n], dtype=np.float32).reshape(len(clips), -1) for n in mef})
    for n in names:
        if n not in out:
            out[n] = streams[n].embed(clips, sr, batch_size)
    return {n: l2_normalize(out[n]).astype(np.float32) for n in names}
