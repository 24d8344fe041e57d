"""Stream configuration: :class:`StreamConfig` (JSON-safe), encoder-option coding and machine matching.

A stream is named by its ``StreamConfig``: which registered encoder (``encoder`` + ``options`` + ``location``),
whether a 256-d head sits on it (``head``) or it is one of the six MEF streams (``mef``), which machines train it
(``train_machines``) and which machines it scores (``route`` / ``route_exclude``). Encoder options that are config
objects (``FisherConfig``, ``BEATsConfig``, transformers configs — random-weight encoders) are stored as tagged dicts.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LOCATION_ARG",
    "StreamConfig",
    "StreamKind",
    "as_stream_config",
    "decode_options",
    "encode_options",
    "encoder_key",
    "in_machines",
    "scope_clips",
]

#: The keyword of ``create_encoder`` that takes a backbone location (path or hub id), per built-in encoder.
LOCATION_ARG = {
    "beats": "checkpoint",
    "clap": "name_or_path",
    "wavlm": "name_or_path",
    "ast": "name_or_path",
    "fisher": "model",
}


def _config_types() -> dict[str, Any]:
    from fisher.recipe.fisher_config import FisherConfig

    from ..encoders.beats.beats_config import BEATsConfig

    return {"FisherConfig": FisherConfig, "BEATsConfig": BEATsConfig}


def encode_options(options: dict[str, Any]) -> dict[str, Any]:
    """Encoder options → JSON-safe dict (FISHER / BEATs / transformers configs become tagged dicts)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, str)) for v in value):
            out[key] = list(value)
        elif type(value).__name__ in _config_types():
            out[key] = {"__config__": type(value).__name__, "data": value.to_dict()}
        elif type(value).__module__.startswith("transformers") and hasattr(value, "to_dict"):
            out[key] = {"__config__": "transformers." + type(value).__name__, "data": value.to_dict()}
        else:
            raise TypeError(
                f"encoder option {key}={type(value).__name__} cannot be saved as JSON; pass the built encoder to "
                "Detector.from_pretrained(..., backbones={name: encoder}) when loading instead"
            )
    return out


def decode_options(options: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`encode_options`."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict) and "__config__" in value:
            tag = value["__config__"]
            if tag.startswith("transformers."):
                from .._extra import require

                cls = getattr(require("transformers", "this stream"), tag.split(".", 1)[1])
            else:
                cls = _config_types()[tag]
            out[key] = cls.from_dict(value["data"])
        else:
            out[key] = value
    return out


class StreamKind(str, enum.Enum):
    """The three kinds of detector stream (:mod:`fisher_asd.detector.stream` builds one class per kind)."""

    FROZEN = "frozen"  #: a registered encoder's own pooled embedding, nothing trains
    HEAD = "head"  #: a projection head on a frozen encoder; the head trains
    MEF = "mef"  #: a stream of fisher_asd.streams.mef.STREAMS (head, plus LoRA for beats_r16 / beats_r32 / clap_lora)


@dataclass
class StreamConfig:
    """JSON description of a stream.

    Attributes:
        name: stream key (``"beats_r16"``, ``"logstft"``, ``"wavlm@7m"`` …; no ``/`` or ``.``).
        encoder: registry name (``fisher_asd.encoders.available_encoders()``).
        options: keyword options of ``create_encoder`` (JSON-safe after :func:`encode_options`).
        location: backbone weights (path or hub id), passed as the encoder's location keyword (:data:`LOCATION_ARG`).
        head: output size of a projection head on a frozen encoder, or ``None`` (ignored for MEF streams).
        mef: name of a :data:`fisher_asd.streams.mef.STREAMS` entry, or ``None``.
        train_machines: machines whose clips train this stream (``None`` = every machine passed to ``fit``).
        route: machines this stream scores (``None`` = all); with ``route_exclude`` it scores all *other* machines.
        route_exclude: invert ``route``.
    """

    name: str
    encoder: str
    options: dict[str, Any] = field(default_factory=dict)
    location: str | None = None
    head: int | None = None
    mef: str | None = None
    train_machines: list[str] | None = None
    route: list[str] | None = None
    route_exclude: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in "/."):
            raise ValueError(f"stream name must be a non-empty string without '/' or '.', got {self.name!r}")
        if not isinstance(self.encoder, str) or not self.encoder:
            raise ValueError(f"stream {self.name!r}: encoder must be a registry name, got {self.encoder!r}")
        if self.head is not None and (isinstance(self.head, bool) or not isinstance(self.head, int) or self.head < 1):
            raise ValueError(f"stream {self.name!r}: head must be a positive int or None, got {self.head!r}")
        if self.mef is not None:
            from fisher_asd.streams.mef import STREAMS

            known = {s.name: s.encoder for s in STREAMS}
            if self.mef not in known:
                raise ValueError(f"stream {self.name!r}: unknown MEF stream {self.mef!r}; known: {sorted(known)}")
            if known[self.mef] != self.encoder:
                raise ValueError(f"MEF stream {self.mef!r} uses encoder {known[self.mef]!r}, not {self.encoder!r}")
        if self.location is not None:
            self.location = os.fspath(self.location)

    @property
    def kind(self) -> StreamKind:
        """The stream kind these fields describe: ``mef`` set → MEF, else ``head`` set → head, else frozen."""
        if self.mef is not None:
            return StreamKind.MEF
        return StreamKind.FROZEN if self.head is None else StreamKind.HEAD

    @property
    def trainable(self) -> bool:
        return self.kind is not StreamKind.FROZEN

    def scores_machine(self, machine: str) -> bool:
        """Whether this stream takes part in the fused score of ``machine`` (see :func:`in_machines`)."""
        if self.route is None:
            return True
        return in_machines(machine, self.route) != self.route_exclude

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["options"] = encode_options(self.options)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown stream config keys {unknown}; allowed: {sorted(known)}")
        return cls(**{**data, "options": decode_options(data.get("options", {}))})


def in_machines(machine: str, machines: Collection[str] | None) -> bool:
    """``machine`` is listed in ``machines`` — directly or, for a key ``<type>_<section digits>`` such as
    ``"fan_02"`` (the CLI's key for multi-section machines), through its machine type ``"fan"``."""
    if machines is None:
        return True
    if machine in machines:
        return True
    base, _, section = machine.rpartition("_")
    return bool(base) and section.isdigit() and base in machines


def scope_clips(
    config: StreamConfig, machines: list[str], default: list[str] | None, *, allow_missing: bool = False
) -> list[int]:
    """Indices of the clips (labelled ``machines``) that train the stream ``config``: those of its training scope
    (``config.train_machines``, else ``default``; ``None`` = every machine).

    Raises ``ValueError`` for fewer than 2 such clips, and when a scope machine has no clip at all — the stream would
    be trained on fewer machines than its scope (a ``"12m"`` preset stream would equal the ``"7m"`` one) — unless
    ``allow_missing`` (then a ``UserWarning``).
    """
    scope = config.train_machines or default
    idx = [i for i, m in enumerate(machines) if in_machines(m, scope)]
    if len(idx) < 2:
        raise ValueError(
            f"stream {config.name!r}: fewer than 2 training clips in its scope {scope}; pass clips of those machines"
        )
    given = list(dict.fromkeys(machines))
    missing = [x for x in scope or () if not any(in_machines(m, [x]) for m in given)]
    if missing:
        problem = (
            f"stream {config.name!r} is trained on the machines {list(scope or ())}, but the training clips of "
            f"{missing} are missing from this fit() call, so it would be trained on fewer machines than its scope "
            "(a '12m' stream would equal the '7m' one)"
        )
        if not allow_missing:
            raise ValueError(
                f"{problem}. Pass the clips of every machine in the scope, or fit(..., allow_missing_scope=True) to "
                "train on the machines given"
            )
        warnings.warn(
            f"{problem}; training on the machines given (allow_missing_scope=True)", UserWarning, stacklevel=3
        )
    return idx


def encoder_key(config: StreamConfig) -> str:
    """Identity of the encoder a stream needs: streams with equal keys share one encoder object."""
    return json.dumps([config.encoder, encode_options(config.options), config.location], sort_keys=True)


def as_stream_config(item: Any, train_heads: bool) -> tuple[StreamConfig, Any]:
    """One entry of ``encoders=`` → ``(config, encoder instance or None)``."""
    from fisher_asd.streams.mef import STREAMS

    from ..encoders import available_encoders

    head = 256 if train_heads else None
    if isinstance(item, StreamConfig):
        return item, None
    if isinstance(item, dict):
        return StreamConfig(**item), None
    if isinstance(item, str):
        mef = {s.name: s.encoder for s in STREAMS}
        if item.lower() not in available_encoders() and item in mef:
            return StreamConfig(name=item, encoder=mef[item], mef=item), None
        return StreamConfig(name=item.lower(), encoder=item.lower(), head=head), None
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], dict):
        return StreamConfig(name=item[0].lower(), encoder=item[0].lower(), options=dict(item[1]), head=head), None
    if hasattr(item, "embed") and hasattr(item, "name"):
        return StreamConfig(name=str(item.name), encoder=str(item.name), head=head), item
    raise TypeError(
        f"encoders entries must be registry names, (name, options) tuples, StreamConfig / dict or encoder objects; "
        f"got {type(item).__name__}"
    )
