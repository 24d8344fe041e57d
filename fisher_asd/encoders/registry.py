"""``fisher_asd``'s encoders in the one encoder registry (:mod:`fisher.eval.encoder_registry`).

>>> from fisher_asd.encoders import create_encoder, register_encoder, available_encoders
>>> enc = create_encoder("logstft")
>>> register_encoder("mine", MyEncoder)            # a class / factory called with create_encoder's kwargs
>>> register_encoder("mine-fixed", my_encoder)     # or a ready instance (returned as is)

The functions here *are* those of :mod:`fisher.eval.encoder_registry` (same objects, same table): an encoder
registered through either module is visible through both, and through :func:`fisher.eval.encoders.resolve_encoder`.
Importing this module adds ``beats`` (``checkpoint=path`` or ``config=`` for random weights) and ``clap`` / ``wavlm``
/ ``ast`` (``name_or_path=`` hub id or local directory, or ``config=`` a transformers config for random weights; plus
the encoder options; they need the ``[asd]`` extra) to ``fisher``'s own ``fisher`` (``model="small"``, ``pool``,
``long``), ``logstft`` (``bins_per_band``) and ``random-tiny|mini|small``. Every object returned by
:func:`create_encoder` satisfies :class:`fisher_asd.encoders.base.Encoder`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fisher.eval.encoder_registry import (
    EncoderEntry,
    available_encoders,
    create_encoder,
    find_encoder,
    list_encoders,
    register_encoder,
    unregister_encoder,
)
from fisher.types import PathLike

if TYPE_CHECKING:
    from transformers import PretrainedConfig

    from .beats.beats_config import BEATsConfig

__all__ = [
    "EncoderEntry",
    "available_encoders",
    "create_encoder",
    "list_encoders",
    "register_encoder",
    "unregister_encoder",
]


# ---------------------------------------------------------------------------------------------- built-ins
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


#: ``fisher_asd``'s entries: name → (factory, metadata of :class:`EncoderEntry`).
_BUILTIN: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "beats": (
        _beats,
        {"description": "BEATs iter3+ (checkpoint= official .pt, or config= random)", "sample_rate": 16000},
    ),
    "clap": (
        _hf("clap", "ClapEncoder"),
        {
            "description": "LAION CLAP audio tower (name_or_path= hub id / directory, or config=)",
            "sample_rate": 48000,
            "needs_extra": "asd",
        },
    ),
    "wavlm": (
        _hf("wavlm", "WavLMEncoder"),
        {
            "description": "WavLM-base (name_or_path= hub id / directory, or config=)",
            "sample_rate": 16000,
            "needs_extra": "asd",
        },
    ),
    "ast": (
        _hf("ast", "ASTEncoder"),
        {
            "description": "Audio Spectrogram Transformer (name_or_path= hub id / directory, or config=)",
            "sample_rate": 16000,
            "needs_extra": "asd",
        },
    ),
}
for _name, (_factory, _info) in _BUILTIN.items():
    if find_encoder(_name) is None:  # a name a user registered first is left alone
        register_encoder(_name, _factory, source="fisher_asd", **_info)
