"""Encoder registry: built-ins by name, plus user encoders.

>>> from fisher_asd.encoders import create_encoder, register_encoder, available_encoders
>>> enc = create_encoder("logstft")
>>> register_encoder("mine", MyEncoder)            # a class / factory called with create_encoder's kwargs
>>> register_encoder("mine-fixed", my_encoder)     # or a ready instance (returned as is)

Built-ins: ``fisher`` (``model="small"``, ``pool``, ``long``), ``logstft`` (``bins_per_band``), ``beats``
(``checkpoint=path`` or ``config=`` for random weights), ``clap`` / ``wavlm`` / ``ast`` (``name_or_path=`` hub id or
local directory, or ``config=`` a transformers config for random weights; plus the encoder options). Every object
returned by :func:`create_encoder` satisfies :class:`fisher_asd.encoders.base.Encoder`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fisher.types import PathLike

from .base import Encoder

if TYPE_CHECKING:
    from transformers import PretrainedConfig

    from .beats.config import BEATsConfig

__all__ = ["available_encoders", "create_encoder", "register_encoder", "unregister_encoder"]

_REGISTRY: dict[str, Any] = {}
_BUILTIN = ("ast", "beats", "clap", "fisher", "logstft", "wavlm")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"encoder name must be a non-empty string, got {name!r}")
    return name.strip().lower()


def register_encoder(name: str, factory: Callable[..., Encoder] | Encoder | None = None, *, overwrite: bool = False):
    """Register ``factory`` (callable returning an encoder, or a ready encoder instance) under ``name``.

    Without ``factory`` it returns a decorator. Re-using a name raises ``ValueError`` unless ``overwrite=True``
    (built-in names can be shadowed that way too).
    """
    key = _check_name(name)

    def add(obj: Callable[..., Encoder] | Encoder) -> Callable[..., Encoder] | Encoder:
        if not (isinstance(obj, Encoder) or callable(obj)):
            raise TypeError(f"register_encoder({key!r}, ...) needs a factory or an encoder instance, got {obj!r}")
        if key in _REGISTRY and not overwrite:
            raise ValueError(f"encoder {key!r} is already registered; pass overwrite=True to replace it")
        _REGISTRY[key] = obj
        return obj

    return add if factory is None else add(factory)


def unregister_encoder(name: str) -> None:
    """Remove a registered encoder (``KeyError`` if unknown)."""
    key = _check_name(name)
    if key not in _REGISTRY:
        raise KeyError(f"encoder {key!r} is not registered")
    del _REGISTRY[key]


def available_encoders() -> list[str]:
    """Sorted names of all registered encoders."""
    return sorted(_REGISTRY)


def create_encoder(name: str, /, **kwargs: Any) -> Encoder:
    """Build the encoder registered as ``name`` with ``kwargs``; checks the result against the protocol."""
    key = _check_name(name)
    if key not in _REGISTRY:
        raise KeyError(f"unknown encoder {name!r}; available: {', '.join(available_encoders())}")
    obj = _REGISTRY[key]
    if isinstance(obj, Encoder) and not isinstance(obj, type):
        if kwargs:
            raise TypeError(f"encoder {key!r} was registered as an instance and takes no options, got {sorted(kwargs)}")
        enc = obj
    else:
        enc = obj(**kwargs)
    missing = [m for m in ("name", "sample_rate", "dim", "embedding_dim", "embed") if not hasattr(enc, m)]
    if missing:
        raise TypeError(f"encoder {key!r} does not implement the encoder protocol: missing {', '.join(missing)}")
    return enc


# ---------------------------------------------------------------------------------------------- built-ins
def _fisher(**kwargs: Any):
    from fisher.eval.encoders import FisherEncoder

    return FisherEncoder(**kwargs)


def _logstft(**kwargs: Any):
    from fisher.eval.baseline import LogSTFT

    return LogSTFT(**kwargs)


def _beats(checkpoint: PathLike | None = None, config: BEATsConfig | None = None, **kwargs: Any):
    from .beats.encoder import BEATsEncoder

    if checkpoint is not None and config is not None:
        raise ValueError("pass either checkpoint= (real weights) or config= (random weights) for beats, not both")
    if checkpoint is not None:
        return BEATsEncoder.from_pretrained(checkpoint, **kwargs)
    if config is not None:
        return BEATsEncoder.from_config(config)
    raise ValueError(
        "beats needs checkpoint='path/to/BEATs_iter3_plus_AS2M.pt' (official weights, not on the Hugging Face hub) "
        "or config=BEATsConfig.iter3_plus() for random weights"
    )


def _hf(module: str, cls_name: str) -> Callable[..., Any]:
    def factory(name_or_path: PathLike | None = None, config: PretrainedConfig | None = None, **kwargs: Any):
        from .._extra import require

        require("transformers", f"the {module} encoder")
        import importlib

        cls = getattr(importlib.import_module(f"{__package__}.{module}"), cls_name)
        if name_or_path is not None and config is not None:
            raise ValueError(f"pass either name_or_path= or config= for {module}, not both")
        if config is not None:
            return cls.from_config(config, **kwargs)
        return cls.from_pretrained(**kwargs) if name_or_path is None else cls.from_pretrained(name_or_path, **kwargs)

    factory.__name__ = f"create_{module}"
    return factory


for _name, _factory in (
    ("fisher", _fisher),
    ("logstft", _logstft),
    ("beats", _beats),
    ("clap", _hf("clap", "ClapEncoder")),
    ("wavlm", _hf("wavlm", "WavLMEncoder")),
    ("ast", _hf("ast", "ASTEncoder")),
):
    register_encoder(_name, _factory)
