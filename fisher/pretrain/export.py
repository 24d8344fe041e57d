"""Export the encoder of a pretraining checkpoint as a ``Fisher.from_pretrained`` directory."""

from __future__ import annotations

from pathlib import Path

from fisher.model.config import FisherConfig
from fisher.model.network import Fisher
from fisher.pretrain.state import load_checkpoint

__all__ = ["export_encoder"]


def export_encoder(checkpoint: str | Path, directory: str | Path, *, which: str = "student") -> Path:
    """Write ``config.json`` + ``model.safetensors`` of the checkpoint's ``"student"`` (default) or ``"teacher"``
    encoder into ``directory`` (atomically, via :meth:`Fisher.save_pretrained`); returns the directory.

    The config's ``extra`` records the provenance (checkpoint path, step, which encoder).
    """
    if which not in ("student", "teacher"):
        raise ValueError(f"which must be 'student' or 'teacher', got {which!r}")
    ckpt = load_checkpoint(checkpoint)
    data = dict(ckpt["model_config"])
    data["extra"] = {**data.get("extra", {}), "pretrained_by": "fisher.pretrain", "encoder": which,
                     "step": int(ckpt["step"]), "checkpoint": Path(checkpoint).name}
    model = Fisher(FisherConfig.from_dict(data))
    model.load_state_dict(ckpt[which], strict=True)
    return model.save_pretrained(directory)
