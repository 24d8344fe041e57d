"""``fisher pretrain``: the command is defined by :mod:`fisher.pretrain.command` (also ``python -m fisher.pretrain``)."""

from fisher.pretrain.command import register

__all__ = ["register"]
