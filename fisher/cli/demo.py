"""``fisher demo``: the command is defined by :mod:`fisher.demo.command`, next to the rest of the demo."""

from fisher.demo.command import load_model, register, run

__all__ = ["load_model", "register", "run"]
