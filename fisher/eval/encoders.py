"""The one encoder protocol (:class:`Encoder`), the FISHER adapter and encoder names for the evaluation runners.

Every encoder of the library — the RMIS runners (:mod:`fisher.eval.rmis`), the detector's streams
(:mod:`fisher_asd`), user encoders — provides:

``name: str``
    Short name (registry name in ``fisher_asd``: ``"fisher"``, ``"beats"``, ``"logstft"`` …).
``sample_rate: int | None``
    Native rate in Hz (input at another rate is resampled explicitly); ``None``: works at any rate, never resamples.
``dim: int | None``
    Size of one embedding; ``None`` when it depends on the input rate (then ``embedding_dim(sr)``).
``embedding_dim(sr) -> int``
    Size of one embedding for input at ``sr`` Hz.
``embed(clips, sr, *, batch_size=8) -> [B, dim]``
    ``clips``: one clip ``[N]``, a batch ``[B, N]`` or a list of 1-D clips, float in [-1, 1) or integer PCM
    (:func:`fisher.signals.validate.as_clips`); ``sr`` in Hz (required). float32 ``[B, dim]`` (``[dim]`` for one
    1-D clip), numpy unless the input was torch. Deterministic, evaluation mode, no gradient.

Optional: ``cache_key: str`` (identity of weights + recipe; the RMIS embedding cache keys on it) and
``pad_windows: bool`` (RMIS windows shorter than a full analysis window are zero-padded).

Written once here: :class:`FisherEncoder` (FISHER with an embedding recipe) — the weight-free baseline
:class:`fisher.eval.baseline.LogSTFT` implements the protocol itself.

:func:`resolve_encoder` (RMIS runners, CLI ``fisher rmis --encoder``) accepts

* a name of the encoder registry (:mod:`fisher.eval.encoder_registry`, case-insensitive), built in the RMIS recipe of
  its entry. ``fisher`` registers (on import of :mod:`fisher.eval`, i.e. always here):

  * ``"logstft"`` - the weight-free :class:`fisher.eval.baseline.LogSTFT` baseline;
  * ``"random-tiny"`` / ``"random-mini"`` / ``"random-small"`` - FISHER with random weights (``torch.manual_seed(0)``),
    for smoke tests and as a no-pretraining reference;
  * ``"fisher"`` - the official ``small`` FISHER (:class:`FisherEncoder` with ``model="small"``);

  ``fisher_asd`` adds ``beats`` / ``clap`` / ``wavlm`` / ``ast`` once :mod:`fisher_asd.encoders` is imported (they need
  options such as ``checkpoint=``, so through this string path they only report what they need), and
  :func:`~fisher.eval.encoder_registry.register_encoder` adds user encoders;
* any other ``random-<scale>`` - an error naming the FISHER scales;
* a FISHER name / hub id / directory / ``.pt`` file (:meth:`fisher.Fisher.from_pretrained`); a directory whose name
  is also a registry name needs a path prefix (``./beats``);
* any FISHER spec above with ``@bf16`` / ``@int8`` appended: the same model at reduced inference precision
  (:mod:`fisher.compute.precision`), e.g. ``"random-tiny@bf16"``;
* a :class:`fisher.Fisher` instance or any object with ``embed(wave, sr)`` (give it a ``cache_key`` attribute to
  enable embedding caches).

FISHER runs there with the RMIS recipe (:meth:`FisherEncoder.rmis`): one embedding per window (``long="truncate"``,
``pad_frames=True`` - the normalised spectrogram is zero-padded to 1024 frames), bands concatenated. The baseline
does not zero-pad short clips (a padded window would add log(1e-10) frames to its averages).
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from fisher.eval.encoder_registry import (
    available_encoders,
    create_encoder,
    find_encoder,
    list_encoders,
    register_encoder,
    unregister_encoder,
)
from fisher.signals.checks import check_sr  # torch-free (fisher.signals.validate re-exports it)
from fisher.types import ArrayLike, PathLike, SampleRate, WaveLike

if TYPE_CHECKING:
    import torch

    from fisher.model.network import Fisher

__all__ = [
    "Encoder",
    "FisherEncoder",
    "available_encoders",
    "create_encoder",
    "list_encoders",
    "register_encoder",
    "resolve_encoder",
    "unregister_encoder",
    "weights_fingerprint",
]


def weights_fingerprint(module: torch.nn.Module) -> str:
    """16 hex digits of a SHA-256 over a torch module's state dict (names, shapes, dtypes and values)."""
    import torch

    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


@runtime_checkable
class Encoder(Protocol):
    """The encoder protocol (module doc): name, native rate, dimension and ``embed``."""

    name: str
    sample_rate: int | None
    dim: int | None

    def embedding_dim(self, sr: float) -> int: ...

    def embed(self, waves: WaveLike, sr: SampleRate, *, batch_size: int = 8) -> ArrayLike: ...


class FisherEncoder:
    """:class:`fisher.Fisher` as an :class:`Encoder`: works at the input's own rate (never resamples).

    Args:
        model: a :class:`fisher.Fisher`, a :class:`fisher.FisherConfig` (random weights) or a name / path for
            :meth:`fisher.Fisher.from_pretrained`.
        name: encoder name (reports, registry).
        pool: ``"concat"`` (per-band CLS vectors concatenated: ``num_bands(sr) · D``, so ``dim`` is ``None``) or
            ``"mean"`` (``D``: 192 / 256 / 384 for tiny / mini / small).
        long: clips longer than one 1024-frame window: ``"chunk"`` (windows averaged) or ``"truncate"``.
        pad_frames: zero-pad the normalised spectrogram of a short clip to 1024 frames (the RMIS recipe).
        summary: per-band summary (``"cls"``, ``"mean"``, ``"freq"``, ``"cls+mean"`` …; default the model's
            ``config.summary``), see :meth:`fisher.Fisher.embed`.
        batch_size: windows per forward pass (default of :meth:`embed`). precision: ``"fp32"`` / ``"bf16"`` /
            ``"int8"`` (:mod:`fisher.compute.precision`). device: torch device. local_files_only: for names.
    """

    sample_rate = None

    def __init__(
        self,
        model: Fisher | PathLike = "small",
        *,
        name: str = "fisher",
        pool: str = "concat",
        long: str = "chunk",
        pad_frames: bool = False,
        batch_size: int = 8,
        precision: str = "fp32",
        device: str | torch.device | None = None,
        local_files_only: bool | None = None,
        summary: str | None = None,
    ) -> None:
        from fisher.compute.precision import PRECISIONS
        from fisher.model.network import Fisher
        from fisher.recipe.fisher_config import FisherConfig
        from fisher.recipe.framing import parse_summary

        if pool not in ("concat", "mean"):
            raise ValueError(f"pool must be 'concat' or 'mean' (one vector per clip), got {pool!r}")
        if long not in ("chunk", "truncate"):
            raise ValueError(f"long must be 'chunk' or 'truncate', got {long!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if isinstance(model, FisherConfig):
            model = Fisher(model)
        elif isinstance(model, (str, os.PathLike)):
            model = Fisher.from_pretrained(model, local_files_only=local_files_only)
        elif not isinstance(model, Fisher):
            raise TypeError(f"model must be a Fisher, a FisherConfig, a name or a path, got {type(model).__name__}")
        self.model = model.eval()
        self.name, self.pool, self.long, self.pad_frames = name, pool, long, bool(pad_frames)
        self.batch_size, self.precision, self.device = batch_size, precision, device
        self.summary = model.config.summary if summary is None else "+".join(parse_summary(summary))
        self.dim = model.embedding_dim(16000, "mean", self.summary) if pool == "mean" else None

    @classmethod
    def rmis(
        cls, model: Fisher | PathLike, name: str = "fisher", *, precision: str = "fp32", **kwargs: Any
    ) -> FisherEncoder:
        """The RMIS recipe: one embedding per window (``long="truncate"``, ``pad_frames=True``), bands concatenated."""
        return cls(model, name=name, long="truncate", pad_frames=True, precision=precision, **kwargs)

    @property
    def pad_windows(self) -> bool:
        return self.pad_frames

    @functools.cached_property
    def cache_key(self) -> str:
        """Weights fingerprint + recipe (``fisher-<16 hex>-concat-rmis`` for the RMIS recipe)."""
        recipe = (
            "rmis" if (self.long, self.pad_frames) == ("truncate", True) else f"{self.long}-pad{int(self.pad_frames)}"
        )
        suffix = "" if self.precision == "fp32" else f"-{self.precision}"
        suffix += "" if self.summary == "cls" else f"-{self.summary}"
        return f"fisher-{weights_fingerprint(self.model)}-{self.pool}-{recipe}{suffix}"

    def embedding_dim(self, sr: float) -> int:
        """``num_bands(sr) · D`` for ``pool="concat"``, ``D`` for ``"mean"``."""
        return self.model.embedding_dim(check_sr(sr), self.pool, self.summary)

    def embed(self, waves: WaveLike, sr: SampleRate, *, batch_size: int | None = None) -> ArrayLike:
        """``[B, embedding_dim(sr)]`` float32 (``[dim]`` for one clip); numpy unless the input was torch."""
        return self.model.embed(
            waves,
            sr,
            pool=self.pool,
            long=self.long,
            pad_frames=self.pad_frames,
            batch_size=batch_size or self.batch_size,
            precision=self.precision,
            device=self.device,
            summary=self.summary,
        )

    def frames(self, waves: WaveLike, sr: SampleRate) -> Any:
        raise NotImplementedError(
            "FisherEncoder has no frame-level (trainable) variant; fisher_asd uses FISHER frozen via embed()"
        )

    def __repr__(self) -> str:
        return f"FisherEncoder({self.name!r}, pool={self.pool!r}, long={self.long!r}, model={self.model.extra_repr()})"


def resolve_encoder(spec: str | Encoder | Fisher, *, allow_pickle: bool = False) -> Encoder:
    """Turn an encoder name / path / object into an encoder (see the module doc)."""
    if not isinstance(spec, str):
        from fisher.model.network import Fisher

        if isinstance(spec, Fisher):
            return FisherEncoder.rmis(spec)
        if not callable(getattr(spec, "embed", None)):
            raise TypeError(f"an encoder needs an embed(wave, sr) method; got {type(spec).__name__}")
        return spec
    head, _, tail = spec.rpartition("@")
    spec, precision = (head, tail) if head and tail in _PRECISIONS else (spec, "fp32")  # "@rev" of hub ids stays
    entry = find_encoder(spec)
    if entry is not None:
        return entry.create_for_rmis(precision)
    if spec.startswith("random-"):
        return _random_fisher(spec[len("random-") :], precision)  # raises for unknown scales
    from fisher.model.network import Fisher

    return FisherEncoder.rmis(
        Fisher.from_pretrained(spec, allow_pickle=allow_pickle), name=f"fisher:{spec}", precision=precision
    )


# ---------------------------------------------------------------------------------------------- built-ins
#: ``fisher.compute.precision.PRECISIONS`` (a copy: that module imports torch; a test keeps them equal).
_PRECISIONS = ("fp32", "bf16", "int8")


def _random_fisher(scale: str, precision: str = "fp32", **kwargs: Any) -> FisherEncoder:
    """FISHER of preset ``scale`` with random weights (``torch.manual_seed(0)``) in the RMIS recipe."""
    import torch

    from fisher.model.network import Fisher
    from fisher.recipe.fisher_config import FisherConfig

    cfg = FisherConfig.preset(scale)  # raises for unknown scales
    torch.manual_seed(0)
    return FisherEncoder.rmis(Fisher(cfg), name=f"fisher-{scale}-random", precision=precision, **kwargs)


def _logstft(**kwargs: Any) -> Encoder:
    from fisher.eval.baseline import LogSTFT

    return LogSTFT(**kwargs)


def _register_builtins() -> None:
    """``fisher``'s entries of the encoder registry (a name already taken, e.g. by a user, is left alone)."""
    builtins: list[tuple[str, Any, dict[str, Any]]] = [
        (
            "fisher",
            FisherEncoder,
            {
                "description": "FISHER (model='small' | tiny | mini | a hub id / directory / .pt | a Fisher), frozen",
                "precisions": _PRECISIONS,
                "rmis_options": {"long": "truncate", "pad_frames": True},
            },
        ),
        ("logstft", _logstft, {"description": "weight-free log-STFT band statistics baseline", "noun": "baseline"}),
    ]
    for scale in ("tiny", "mini", "small"):
        factory = functools.partial(_random_fisher, scale)
        info = {"description": f"FISHER-{scale} with random weights (seed 0), RMIS recipe", "precisions": _PRECISIONS}
        builtins.append((f"random-{scale}", factory, info))
    for name, factory, info in builtins:
        if find_encoder(name) is None:
            register_encoder(name, factory, source="fisher", **info)


_register_builtins()
