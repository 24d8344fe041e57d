"""Audio encoders of ``fisher_asd``: protocol, registry and the built-ins.

Protocol: :class:`fisher.eval.encoders.Encoder` (shared with the RMIS runners; read :mod:`fisher.eval.encoders`),
extended for trainable torch encoders in :mod:`fisher_asd.encoders.base`; registry: the library's one table
(:mod:`fisher.eval.encoder_registry`), to which :mod:`fisher_asd.encoders.registry` adds ``beats`` / ``clap`` / ``wavlm`` /
``ast`` on import.
``fisher`` and ``logstft`` are the library's own :class:`fisher.eval.encoders.FisherEncoder` and
:class:`fisher.eval.baseline.LogSTFT` (``LogSTFTEncoder`` is the same class).
``BEATs`` needs only torch; ``ClapEncoder`` / ``WavLMEncoder`` / ``ASTEncoder`` need the ``[asd]`` extra
(``transformers``) and are imported lazily on attribute access (not listed in ``__all__``, so that
``from fisher_asd.encoders import *`` also works without the extra).
"""

from __future__ import annotations

import importlib
from typing import Any

from fisher.eval.baseline import LogSTFT as LogSTFTEncoder
from fisher.eval.encoders import FisherEncoder

from .base import AudioEncoder, Encoder, FrameEncoder
from .beats import BEATs, BEATsConfig
from .beats.encoder import BEATsEncoder
from .fbank import kaldi_fbank
from .registry import (
    EncoderEntry,
    available_encoders,
    create_encoder,
    list_encoders,
    register_encoder,
    unregister_encoder,
)

__all__ = [
    "AudioEncoder",
    "BEATs",
    "BEATsConfig",
    "BEATsEncoder",
    "Encoder",
    "EncoderEntry",
    "FisherEncoder",
    "FrameEncoder",
    "LogSTFTEncoder",
    "available_encoders",
    "create_encoder",
    "kaldi_fbank",
    "list_encoders",
    "register_encoder",
    "unregister_encoder",
]

_LAZY = {"ClapEncoder": "clap", "WavLMEncoder": "wavlm", "ASTEncoder": "ast"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from .._extra import require

        require("transformers", name)
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
