"""Training checkpoints: one ``torch.save`` dict per saved step, written atomically, loadable with
``torch.load(weights_only=True)`` (tensors, numbers, strings, lists and dicts only).

Layout of ``<out_dir>/checkpoints/step_0000100.pt``::

    format "fisher-pretrain-v1", step (completed steps), world_size, config (PretrainConfig dict),
    model_config (FisherConfig dict), student / teacher / decoder (state dicts), optimizer, scaler (or None),
    rng {torch, cuda, numpy, python}, data {seed, step, world_size} (the stream position is the step counter)
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.files import atomic_write_path

__all__ = ["FORMAT", "latest_checkpoint", "load_checkpoint", "rng_state", "save_checkpoint", "set_rng_state"]

FORMAT = "fisher-pretrain-v1"
_NAME = re.compile(r"^step_(\d+)\.pt$")


def rng_state() -> dict[str, Any]:
    """All global RNG states as weights-only-safe values."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "gauss": float(np_state[4]),
        },
        "python": {"version": py_state[0], "state": list(py_state[1]), "gauss": py_state[2]},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def checkpoint_dir(out_dir: str | Path) -> Path:
    return Path(out_dir) / "checkpoints"


def save_checkpoint(out_dir: str | Path, payload: dict[str, Any], keep_last: int = 2) -> Path:
    """Write ``step_XXXXXXX.pt`` atomically and delete all but the newest ``keep_last`` (≥ 1) checkpoints."""
    folder = checkpoint_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step_{int(payload['step']):07d}.pt"
    atomic_write_path(path, lambda tmp: torch.save({"format": FORMAT, **payload}, tmp))
    existing = sorted(p for p in folder.iterdir() if _NAME.match(p.name))
    for old in existing[: max(0, len(existing) - max(1, keep_last))]:
        old.unlink(missing_ok=True)
    return path


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    folder = checkpoint_dir(out_dir)
    if not folder.is_dir():
        return None
    found = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name)))
    return found[-1][1] if found else None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a pretraining checkpoint (weights-only unpickling) and check its format tag."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no pretraining checkpoint at {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a fisher pretraining checkpoint (expected format {FORMAT!r})")
    return ckpt
