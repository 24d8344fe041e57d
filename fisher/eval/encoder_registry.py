"""The one encoder registry: encoder name → factory + metadata, shared by the RMIS runners, ``fisher_asd`` and the CLIs.

>>> from fisher.eval.encoder_registry import create_encoder, list_encoders, register_encoder
>>> enc = create_encoder("logstft")
>>> [(e.name, e.sample_rate, e.needs_extra) for e in list_encoders()]
>>> register_encoder("mine", MyEncoder, description="my encoder")  # a class / factory called with create_encoder's kwargs
>>> register_encoder("mine-fixed", my_encoder)                      # or a ready instance (returned as is)

Who fills the table:

* ``fisher`` (on import of :mod:`fisher.eval`): ``fisher`` (:class:`fisher.eval.encoders.FisherEncoder`, options
  ``model="small"``, ``pool``, ``long`` …), ``logstft`` (:class:`fisher.eval.baseline.LogSTFT`) and ``random-tiny`` /
  ``random-mini`` / ``random-small`` (FISHER with random weights, ``torch.manual_seed(0)``, in the RMIS recipe);
* ``fisher_asd`` (on import of :mod:`fisher_asd.encoders`): ``beats``, ``clap``, ``wavlm``, ``ast``;
* users: :func:`register_encoder`.

``fisher`` never imports ``fisher_asd``: the ``fisher_asd`` encoders are in the table once ``fisher_asd.encoders``
(or anything importing it, e.g. ``fisher_asd.Detector``) has been imported.

Names are case-insensitive (stored lower-case). :func:`create_encoder` checks that the result has the members of the
encoder protocol (:class:`fisher.eval.encoders.Encoder`). :func:`fisher.eval.encoders.resolve_encoder` (RMIS, ``fisher
rmis --encoder``) looks names up here before treating a string as a FISHER checkpoint (name, hub id, path).

This module imports nothing of the library: the built-ins register themselves from the modules that define them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "PROTOCOL_MEMBERS",
    "EncoderEntry",
    "UnknownEncoderError",
    "available_encoders",
    "create_encoder",
    "encoder_entry",
    "find_encoder",
    "list_encoders",
    "register_encoder",
    "unregister_encoder",
]

#: The members every encoder has (:class:`fisher.eval.encoders.Encoder`).
PROTOCOL_MEMBERS = ("name", "sample_rate", "dim", "embedding_dim", "embed")


class UnknownEncoderError(KeyError, ValueError):
    """An encoder name that is not registered; the message lists the registered names.

    A ``ValueError`` (bad argument) and, for code written against the former ``fisher_asd`` registry, a ``KeyError``.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _is_instance(obj: Any) -> bool:
    """A ready encoder object (not a class): has every protocol member."""
    return not isinstance(obj, type) and all(hasattr(obj, m) for m in PROTOCOL_MEMBERS)


@dataclass(frozen=True)
class EncoderEntry:
    """One registered encoder.

    Attributes:
        name: registry name (lower-case).
        factory: a callable returning an encoder (called with :func:`create_encoder`'s keyword options), or a ready
            encoder instance (returned as is; takes no options).
        description: one line for listings.
        sample_rate: native rate in Hz, ``None`` when the encoder works at any rate (or did not say).
        needs_extra: the pip extra its dependencies come from (``"asd"`` = ``transformers``), or ``None``.
        source: who registered it: ``"fisher"``, ``"fisher_asd"`` or ``"user"``.
        precisions: inference precisions it offers (``fisher rmis --encoder NAME@bf16``), passed as ``precision=``
            when not ``"fp32"``.
        rmis_options: options :func:`~fisher.eval.encoders.resolve_encoder` adds for the RMIS recipe (``fisher``:
            one zero-padded window per clip).
        noun: what it is, for messages (``"encoder"``, ``"baseline"``).
    """

    name: str
    factory: Any
    description: str = ""
    sample_rate: int | None = None
    needs_extra: str | None = None
    source: str = "user"
    precisions: tuple[str, ...] = ("fp32",)
    rmis_options: Mapping[str, Any] = field(default_factory=dict)
    noun: str = "encoder"

    @property
    def is_instance(self) -> bool:
        """Registered as a ready encoder object (no options)."""
        return _is_instance(self.factory)

    def create(self, **kwargs: Any) -> Any:
        """Build the encoder (see :func:`create_encoder`)."""
        if self.is_instance:
            if kwargs:
                raise TypeError(
                    f"encoder {self.name!r} was registered as an instance and takes no options, got {sorted(kwargs)}"
                )
            enc = self.factory
        else:
            enc = self.factory(**kwargs)
        missing = [m for m in PROTOCOL_MEMBERS if not hasattr(enc, m)]
        if missing:
            raise TypeError(
                f"encoder {self.name!r} does not implement the encoder protocol: missing {', '.join(missing)}"
            )
        return enc

    def create_for_rmis(self, precision: str = "fp32") -> Any:
        """The encoder in the RMIS recipe (:attr:`rmis_options`) at ``precision``."""
        if precision not in self.precisions:
            raise ValueError(f"the {self.name} {self.noun} has no reduced-precision variant")
        extra = {} if precision == "fp32" else {"precision": precision}
        return self.create(**dict(self.rmis_options), **extra)


_TABLE: dict[str, EncoderEntry] = {}


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"encoder name must be a non-empty string, got {name!r}")
    return name.strip().lower()


def register_encoder(
    name: str,
    factory: Callable[..., Any] | Any = None,
    *,
    overwrite: bool = False,
    description: str = "",
    sample_rate: int | None = None,
    needs_extra: str | None = None,
    source: str = "user",
    precisions: tuple[str, ...] = ("fp32",),
    rmis_options: Mapping[str, Any] | None = None,
    noun: str = "encoder",
) -> Any:
    """Register ``factory`` (callable returning an encoder, or a ready encoder instance) under ``name``.

    Without ``factory`` it returns a decorator. Re-using a name raises ``ValueError`` unless ``overwrite=True``
    (built-in names can be shadowed that way too). ``sample_rate`` defaults to the factory's / instance's
    ``sample_rate`` attribute when it has one; the other keywords are the metadata of :class:`EncoderEntry`.
    Returns ``factory``.
    """
    key = _check_name(name)

    def add(obj: Any) -> Any:
        if not (_is_instance(obj) or callable(obj)):
            raise TypeError(f"register_encoder({key!r}, ...) needs a factory or an encoder instance, got {obj!r}")
        if key in _TABLE and not overwrite:
            raise ValueError(f"encoder {key!r} is already registered; pass overwrite=True to replace it")
        rate = sample_rate if sample_rate is not None else getattr(obj, "sample_rate", None)
        _TABLE[key] = EncoderEntry(
            name=key,
            factory=obj,
            description=description,
            sample_rate=rate if isinstance(rate, int) and not isinstance(rate, bool) else None,
            needs_extra=needs_extra,
            source=source,
            precisions=tuple(precisions),
            rmis_options=MappingProxyType(dict(rmis_options or {})),
            noun=noun,
        )
        return obj

    return add if factory is None else add(factory)


def unregister_encoder(name: str) -> None:
    """Remove a registered encoder (``KeyError`` if unknown)."""
    key = _check_name(name)
    if key not in _TABLE:
        raise KeyError(f"encoder {key!r} is not registered")
    del _TABLE[key]


def available_encoders() -> list[str]:
    """Sorted names of all registered encoders."""
    return sorted(_TABLE)


def list_encoders(source: str | None = None) -> list[EncoderEntry]:
    """The registered entries (metadata) sorted by name; ``source="fisher"`` / ``"fisher_asd"`` / ``"user"`` filters."""
    return [_TABLE[k] for k in sorted(_TABLE) if source is None or _TABLE[k].source == source]


def encoder_entry(name: str) -> EncoderEntry:
    """The entry registered as ``name`` (case-insensitive); :class:`UnknownEncoderError` lists the known names."""
    key = _check_name(name)
    if key not in _TABLE:
        raise UnknownEncoderError(f"unknown encoder {name!r}; available: {', '.join(available_encoders())}")
    return _TABLE[key]


def find_encoder(name: str) -> EncoderEntry | None:
    """The entry registered as ``name`` (case-insensitive), or ``None``."""
    return _TABLE.get(name.strip().lower()) if isinstance(name, str) else None


def create_encoder(name: str, /, **kwargs: Any) -> Any:
    """Build the encoder registered as ``name`` with ``kwargs``; checks the result against the protocol.

    Unknown names raise :class:`UnknownEncoderError` (a ``ValueError`` and a ``KeyError``) listing the known names.
    """
    return encoder_entry(name).create(**kwargs)
