"""Shared helpers for the ``transformers``-based encoders (CLAP, WavLM, AST): loading and long-clip cropping."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import torch

from .._extra import require

__all__ = ["CROP_POLICIES", "crop_windows", "load_model", "preprocessor_config", "transformers"]

log = logging.getLogger(__name__)
CROP_POLICIES = ("start", "center", "windows")


def transformers(feature: str):
    """The ``transformers`` module, or an ``ImportError`` telling the user to install ``[asd]``."""
    return require("transformers", feature)


def load_model(cls_name: str, name_or_path: str | os.PathLike, *, local_files_only: bool | None, feature: str):
    """``transformers.<cls_name>.from_pretrained`` with a clear error when offline / not cached; returns ``eval()``."""
    cls = getattr(transformers(feature), cls_name)
    kwargs: dict[str, Any] = {} if local_files_only is None else {"local_files_only": local_files_only}
    try:
        model = cls.from_pretrained(os.fspath(name_or_path), **kwargs)
    except OSError as err:
        raise OSError(
            f"{feature}: could not load {cls_name} weights from {os.fspath(name_or_path)!r} ({err}). "
            "Offline (HF_HUB_OFFLINE=1) or not cached? Download the model once or pass a local directory."
        ) from err
    log.info("%s: loaded %s from %s", feature, cls_name, os.fspath(name_or_path))
    return model.eval()


def preprocessor_config(name_or_path: str | os.PathLike | None) -> dict[str, Any]:
    """``preprocessor_config.json`` of a local directory (``{}`` when absent or for hub ids)."""
    if name_or_path is None:
        return {}
    path = Path(os.fspath(name_or_path)) / "preprocessor_config.json"
    if path.is_file():
        return json.loads(path.read_text())
    return {}


def crop_windows(x: torch.Tensor, length: int, policy: str) -> tuple[torch.Tensor, int]:
    """Deterministic crop of ``x`` ``[B, N]`` to windows of ``length`` samples → ``([B · W, length'], W)``.

    Clips not longer than ``length`` are returned unchanged (``W = 1``). ``"start"`` keeps the first ``length``
    samples, ``"center"`` the middle ones (offset ``(N − length) // 2``), ``"windows"`` takes
    ``W = ceil(N / length)`` evenly spaced windows covering the whole clip (first at 0, last ending at N), laid out
    window-major per clip: rows ``b · W … b · W + W − 1`` belong to clip ``b``.
    """
    if policy not in CROP_POLICIES:
        raise ValueError(f"crop must be one of {CROP_POLICIES}, got {policy!r}")
    n = x.shape[1]
    if n <= length:
        return x, 1
    if policy == "start":
        return x[:, :length], 1
    if policy == "center":
        off = (n - length) // 2
        return x[:, off : off + length], 1
    count = -(-n // length)
    starts = torch.linspace(0, n - length, count).round().long().tolist()
    windows = torch.stack([x[:, s : s + length] for s in starts], dim=1)  # [B, W, L]
    return windows.reshape(-1, length), count
