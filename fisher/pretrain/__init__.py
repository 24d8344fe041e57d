"""FISHER pretraining: EMA teacher–student self-distillation on STFT sub-bands (``docs/pretraining.md``).

Python API::

    from fisher.pretrain import PretrainConfig, pretrain, export_encoder
    trainer = pretrain("pretrain.yaml")                       # or a PretrainConfig / dict
    export_encoder("runs/x/checkpoints/step_0001000.pt", "my-fisher")
    model = fisher.Fisher.from_pretrained("my-fisher")

Recipes: ``configs/pretrain/paper-{tiny,mini,small}.yaml`` (the paper's, for 4 GPUs) and
``configs/pretrain/demo-cpu.yaml`` (the shipped ``Fisher.from_pretrained("demo")`` model).

Command line: ``fisher pretrain --config CFG`` (DDP: ``torchrun --nproc_per_node=N -m fisher.pretrain --config
CFG``) and ``fisher pretrain export CKPT DIR``.
"""

from __future__ import annotations

from fisher.pretrain.export import export_encoder
from fisher.pretrain.pretrain_config import PretrainConfig
from fisher.pretrain.trainer import Trainer, pretrain

__all__ = ["PretrainConfig", "Trainer", "export_encoder", "pretrain"]
