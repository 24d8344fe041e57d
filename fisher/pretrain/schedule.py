"""Step-indexed schedules (pure functions of the 0-based step, so a resumed run gets the same values).

* learning rate: linear warm-up ``lr · (s + 1) / warmup`` for ``s < warmup``, then cosine from ``lr`` to ``min_lr``
  over the remaining ``steps - warmup`` steps;
* EMA decay: linear from ``decay`` to ``end_decay`` over ``anneal_steps``, then ``end_decay``.
"""

from __future__ import annotations

import math

__all__ = ["ema_decay_at", "lr_at"]


def lr_at(step: int, *, lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def ema_decay_at(step: int, *, decay: float, end_decay: float, anneal_steps: int) -> float:
    if anneal_steps <= 0 or step >= anneal_steps:
        return end_decay
    return decay + (end_decay - decay) * step / anneal_steps
