"""Export the encoder of a pretraining checkpoint as a ``Fisher.from_pretrained`` directory."""

from __future__ import annotations

import json
from pathlib import Path

from fisher.files import atomic_write_text
from fisher.model.network import Fisher
from fisher.pretrain.state import load_checkpoint
from fisher.recipe.fisher_config import FisherConfig

__all__ = ["export_encoder"]


def export_encoder(checkpoint: str | Path, directory: str | Path, *, which: str = "student") -> Path:
    """Write ``config.json`` + ``model.safetensors`` of the checkpoint's ``"student"`` (default) or ``"teacher"``
    encoder into ``directory`` (atomically, via :meth:`Fisher.save_pretrained`); returns the directory.

    The config's ``extra`` records the provenance (checkpoint path, step, which encoder); the pretraining config
    of the run is written next to it as ``pretrain_config.json``.
    """
    if which not in ("student", "teacher"):
        raise ValueError(f"which must be 'student' or 'teacher', got {which!r}")
    ckpt = load_checkpoint(checkpoint)
    data = dict(ckpt["model_config"])
    data["extra"] = {
        **data.get("extra", {}),
        "pretrained_by": "fisher.pretrain",
        "encoder": which,
        "step": int(ckpt["step"]),
        "checkpoint": Path(checkpoint).name,
    }
    model = Fisher(FisherConfig.from_dict(data))
    model.load_state_dict(ckpt[which], strict=True)
    out = model.save_pretrained(directory)
    text = json.dumps(ckpt["config"], indent=2, sort_keys=True) + "\n"
    atomic_write_text(Path(out) / "pretrain_config.json", text)
    return out
