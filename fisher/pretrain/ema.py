"""The EMA teacher: a frozen copy of the student updated after every optimiser step.

``θ_teacher ← d · θ_teacher + (1 - d) · θ_student`` for every parameter (buffers such as the fixed positional
table are copied). The teacher never receives gradients (``requires_grad=False``, run under ``no_grad``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["ema_update", "make_teacher"]


def make_teacher(student: nn.Module) -> nn.Module:
    """A deep copy of ``student`` with gradients disabled, in eval mode."""
    teacher = copy.deepcopy(student)
    teacher.requires_grad_(False)
    return teacher.eval()


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, decay: float) -> None:
    """In place: ``teacher = decay · teacher + (1 - decay) · student`` (parameters), buffers copied."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"EMA decay must be in [0, 1], got {decay}")
    t_params, s_params = dict(teacher.named_parameters()), dict(student.named_parameters())
    if t_params.keys() != s_params.keys():
        raise ValueError("teacher and student have different parameters")
    for name, t in t_params.items():
        t.mul_(decay).add_(s_params[name].detach().to(t.dtype), alpha=1.0 - decay)
    s_buffers = dict(student.named_buffers())
    for name, b in teacher.named_buffers():
        b.copy_(s_buffers[name])
