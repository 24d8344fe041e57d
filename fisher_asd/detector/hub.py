"""Where a fitted detector comes from: a local directory or a Hugging Face hub repository.

:func:`resolve_detector` maps the argument of ``Detector.from_pretrained`` to a local directory holding
``detector.json``. Hub ids (``"org/repo"``, ``"hf-hub:org/repo@revision"``) go through
``huggingface_hub.snapshot_download`` (only the detector's JSON and safetensors files), which respects ``HF_HOME``,
``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``; ``local_files_only=True`` never touches the network. A preset name raises a
``ValueError`` pointing to ``Detector.from_preset``: a preset is an untrained recipe, not a fitted detector.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["resolve_detector"]

_ALLOW = ["detector.json", "*.safetensors", "indexes/**", "*.md"]


def resolve_detector(
    path_or_hub_id: Any, *, revision: str | None = None, cache_dir: Any = None, local_files_only: bool | None = None
) -> Path:
    """A local directory with ``detector.json`` for ``path_or_hub_id`` (see the module docstring)."""
    from .presets import is_preset_name

    if not isinstance(path_or_hub_id, (str, os.PathLike)):
        raise TypeError(f"from_pretrained expects a directory or a hub id, got {type(path_or_hub_id).__name__}")
    path = Path(path_or_hub_id)
    if path.is_dir():
        return path
    text = os.fspath(path_or_hub_id)
    if is_preset_name(text):
        raise ValueError(
            f"{text!r} is a preset (an untrained recipe), not a fitted detector: use "
            f"Detector.from_preset({text!r}, backbones={{...}}) and fit it; from_pretrained loads a directory written "
            "by save_pretrained or a hub repository holding one"
        )
    from fisher.hub.resolve import download_snapshot, parse_hub_id

    parsed = parse_hub_id(text) if isinstance(path_or_hub_id, str) else None
    if parsed is None:
        raise FileNotFoundError(f"{text!r} is neither a detector directory nor a hub id (org/repo)")
    repo, rev = parsed
    local = download_snapshot(
        repo,
        revision=revision or rev,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        allow_patterns=_ALLOW,
        what="detector",
        advice="; download it once on a connected machine or pass a local directory.",
    )
    if not (local / "detector.json").is_file():
        raise FileNotFoundError(f"hub repository {repo!r} holds no detector.json (not a saved fisher_asd detector)")
    return local
