"""Which configuration changes a resumed run accepts.

A checkpoint stores the full pretraining config. Resuming refuses a config that differs from it in anything that
changes what the model learns or which batches it sees; only the schedule length and bookkeeping may change:
``train.steps`` (and the schedules derived from it), ``train.out_dir``, ``train.resume``, ``train.log_every``,
``train.ckpt_every``, ``train.keep_last``, ``train.threads``, ``train.device``, ``data.num_workers`` and
``data.prefetch``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["RESUME_MAY_CHANGE", "check_resumable", "config_differences"]

RESUME_MAY_CHANGE = frozenset(
    {
        "train.steps",
        "train.out_dir",
        "train.resume",
        "train.log_every",
        "train.ckpt_every",
        "train.keep_last",
        "train.threads",
        "train.device",
        "data.num_workers",
        "data.prefetch",
        "train.diag_every",
        "train.validation",
        "train.validation_datasets",
    }
)

# Keys added after 0.2, with the value that reproduces a checkpoint's older behaviour when it lacks them.
LEGACY_VALUES: dict[str, Any] = {
    "targets.band_target": "patch_mean",
    "targets.band_norm": "none",
    "targets.band_norm_momentum": 0.99,
    "loss.cls_head": "none",
    "data.gain_db": 0.0,
    "optim.cls_weight_decay": False,
    "model.cls_init_std": 1.0,  # before 0.3 the CLS kept the module's own N(0, 1) init
}


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key != "model.overrides":
            out.update(_flatten(v, key + "."))
        else:
            out[key] = list(v) if isinstance(v, tuple) else v
    return out


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two ``PretrainConfig.to_dict()`` records (resume-relevant only).

    A key missing from ``saved`` (a checkpoint from an older version) takes its old behaviour from
    :data:`LEGACY_VALUES` when listed there; any other missing key counts as different.
    """
    a, b = _flatten(saved), _flatten(current)
    for key, value in LEGACY_VALUES.items():
        if key not in a and b:
            a[key] = value
    keys = sorted((set(a) | set(b)) - RESUME_MAY_CHANGE)
    return [k for k in keys if a.get(k, "<missing>") != b.get(k, "<missing>")]


def check_resumable(saved: dict[str, Any], current: dict[str, Any], path: str | Path) -> None:
    """Raise ``ValueError`` naming every differing key if ``current`` may not resume from checkpoint ``path``."""
    diff = config_differences(saved, current)
    if diff:
        a, b = _flatten(saved), _flatten(current)
        lines = ", ".join(f"{k}: {a.get(k, '<missing>')!r} -> {b.get(k, '<missing>')!r}" for k in diff)
        raise ValueError(
            f"cannot resume from {path}: the config differs in {lines}; only "
            f"{', '.join(sorted(RESUME_MAY_CHANGE))} may change (start a new out_dir instead)"
        )
