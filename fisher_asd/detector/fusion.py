"""Weighted score fusion across streams.

The fused score of a clip is ``Σ_s w_s · x_s / Σ_s w_s`` over the streams ``s`` that score its machine, where
``x_s`` is the stream's (normalised) score. Weights are validated (finite, ``>= 0``, positive sum) and renormalised
over the active streams, so routed presets (a stream scoring only some machines) still sum to 1 per machine.

The six-stream weights of the report (``asd.md`` §1 / §3.10, in the order of the stream table: CLAP frozen,
WavLM, BEATs r16, BEATs r32, CLAP LoRA, AST) are :data:`MEF6_WEIGHTS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["MEF6_WEIGHTS", "check_weights", "fuse"]

MEF6_WEIGHTS: dict[str, float] = {
    "clap": 0.19,
    "wavlm": 0.23,
    "beats_r16": 0.23,
    "beats_r32": 0.10,
    "clap_lora": 0.15,
    "ast": 0.10,
}


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
