"""Assemble a report system from trained checkpoints of other fitted detectors (no retraining).

The four systems share checkpoints (``asd.md`` §1): System 3 = the BEATs streams of System 1 + the CLAP-LoRA and AST
streams of System 2, System 4 = the System-1 checkpoints with other weights, and the CLAP / WavLM heads are the same
in all four. :func:`load_checkpoints` copies, for every stream of a new detector, the trained head / LoRA tensors of
the first source detector that holds **the same checkpoint**: a trained stream (it has a training history) with the
same name, MEF kind, encoder and training scope (``train_machines``). The backbones must be the same weights as in
the sources (not checked: pass the same ``backbones``). Then ``fit(..., train=False)`` builds the memory banks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stream_config import StreamConfig

__all__ = ["checkpoint_key", "load_checkpoints"]


def checkpoint_key(config: StreamConfig) -> tuple:
    """Identity of a stream's trained checkpoint: ``(name, mef, encoder, sorted train_machines)``."""
    machines = None if config.train_machines is None else tuple(sorted(config.train_machines))
    return (config.name, config.mef, config.encoder, machines)


def load_checkpoints(det: Any, sources: Sequence[Any], *, backbones: dict[str, Any] | None = None) -> dict[str, int]:
    """Load the trained tensors of every trainable stream of ``det`` from ``sources`` (fitted detectors or their
    directories, loaded with ``backbones``); returns ``{stream: index of the source used}``.

    Raises ``ValueError`` when a trainable stream's checkpoint is in none of the sources.
    """
    if isinstance(sources, (str, os.PathLike)) or not isinstance(sources, Sequence) or not sources:
        raise TypeError("checkpoints must be a non-empty list of fitted detectors or detector directories")
    loaded = []
    for src in sources:
        if isinstance(src, (str, os.PathLike)):
            src = type(det).from_pretrained(src, backbones=backbones)
        if not hasattr(src, "streams") or not hasattr(src, "history_"):
            raise TypeError(f"checkpoints entries must be fitted detectors or directories, got {type(src).__name__}")
        loaded.append(src)
    used: dict[str, int] = {}
    missing = []
    for name, stream in det.streams.items():
        if not stream.trainable_parameters():
            continue
        key = checkpoint_key(stream.config)
        for i, src in enumerate(loaded):
            other = src.streams.get(name)
            if other is not None and name in src.history_ and checkpoint_key(other.config) == key:
                stream.load_trainable_state(other.trainable_state())
                det.history_[name] = src.history_[name]
                used[name] = i
                break
        else:
            missing.append(f"{name} (trained on {list(key[3]) if key[3] else 'all machines'})")
    if missing:
        raise ValueError(
            f"no trained checkpoint for stream(s) {missing} in the given detectors; train them with "
            "fit() or pass a detector fitted with that stream and scope"
        )
    return used
