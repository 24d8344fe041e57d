"""Weighted score fusion across streams.

The fused score of a clip is ``Σ_s w_s · x_s / Σ_s w_s`` over the streams ``s`` that score its machine, where
``x_s`` is the stream's (normalised) score. Weights are validated (finite, ``>= 0``, positive sum) and renormalised
over the active streams, so routed presets (a stream scoring only some machines) still sum to 1 per machine.

The report gives its fusion weights **by stream name** (``asd.md`` §1), in an order that is not its stream table; they
are keyed by the MEF stream names here, never assigned by position:

========== ===================================== ===================================
stream     :data:`MEF6_WEIGHTS` (Systems 1, 2, 3) :data:`MEF5_WEIGHTS` (System 4)
========== ===================================== ===================================
clap       0.19                                  0.22
beats_r16  0.23                                  0.26
clap_lora  0.23                                  0.26
wavlm      0.10                                  0.10
beats_r32  0.15                                  0.15
ast        0.10                                  0.01
========== ===================================== ===================================

Both sets are checked at import (:func:`named_weights`): exactly the six stream names, each finite and ``>= 0``,
summing to 1 (to 1e-9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["MEF5_WEIGHTS", "MEF6_WEIGHTS", "MEF_STREAMS", "check_weights", "fuse", "named_weights"]

#: The six MEF stream names (:data:`fisher_asd.streams.mef.STREAMS`), the keys of every MEF weight set.
MEF_STREAMS = ("clap", "wavlm", "beats_r16", "beats_r32", "clap_lora", "ast")


def named_weights(weights: Mapping[str, float], *, streams: Sequence[str] = MEF_STREAMS) -> MappingProxyType:
    """A read-only ``{stream name: weight}`` after checking: exactly ``streams`` as keys, finite ``>= 0`` values,
    sum 1 (to 1e-9). Raises ``ValueError`` naming the problem."""
    if set(weights) != set(streams):
        raise ValueError(f"weights must name exactly the streams {sorted(streams)}; got {sorted(weights)}")
    for name, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"weight of stream {name!r} must be a finite number >= 0, got {w!r}")
    total = math.fsum(weights.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"weights must sum to 1, got {total!r}")
    return MappingProxyType({s: float(weights[s]) for s in streams})


#: Fusion weights of Systems 1, 2 and 3 (MEF6-7m, MEF6-12m, MEF6-hyb), by stream name as the report gives them.
MEF6_WEIGHTS = named_weights(
    {"clap": 0.19, "beats_r16": 0.23, "clap_lora": 0.23, "wavlm": 0.10, "beats_r32": 0.15, "ast": 0.10}
)
#: Fusion weights of System 4 (MEF5-7m, "six-stream, reduced AST contribution"), by stream name.
MEF5_WEIGHTS = named_weights(
    {"clap": 0.22, "beats_r16": 0.26, "clap_lora": 0.26, "wavlm": 0.10, "beats_r32": 0.15, "ast": 0.01}
)


def check_weights(weights: Mapping[str, Any] | None, streams: Sequence[str]) -> dict[str, float]:
    """Validated weights for ``streams`` (``None`` = equal weights); unknown names raise, missing names get 0."""
    if weights is None:
        return {s: 1.0 / len(streams) for s in streams}
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a mapping stream -> weight, got {type(weights).__name__}")
    unknown = sorted(set(weights) - set(streams))
    if unknown:
        raise ValueError(f"weights name unknown stream(s) {unknown}; streams: {list(streams)}")
    out: dict[str, float] = {}
    for s in streams:
        w = weights.get(s, 0.0)
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)):
            raise TypeError(f"weight of stream {s!r} must be a number, got {type(w).__name__}")
        if not math.isfinite(float(w)) or w < 0:
            raise ValueError(f"weight of stream {s!r} must be finite and >= 0, got {w!r}")
        out[s] = float(w)
    if sum(out.values()) <= 0:
        raise ValueError("fusion weights sum to 0; give at least one stream a positive weight")
    return out


def fuse(scores: Mapping[str, Any], weights: Mapping[str, float]) -> np.ndarray:
    """Weighted mean of the per-stream score vectors in ``scores`` (each ``[B]``) → float64 ``[B]``.

    Only the streams present in ``scores`` count; their weights are renormalised to sum to 1.
    """
    if not scores:
        raise ValueError("no stream scores to fuse")
    total = sum(float(weights[s]) for s in scores)
    if total <= 0:
        raise ValueError(f"the active streams {sorted(scores)} all have weight 0")
    out = None
    for s, x in scores.items():
        part = (float(weights[s]) / total) * np.asarray(x, dtype=np.float64)
        out = part if out is None else out + part
    return out
