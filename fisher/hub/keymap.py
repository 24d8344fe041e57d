"""The one place where legacy checkpoint layouts are mapped to fisher-signal's parameter names.

Official GitHub ``.pt`` (fairseq / data2vec heritage)            → ours
``modality_encoders.IMAGE.extra_tokens``           [1, 1, D]     → ``cls_token``            [D]
``modality_encoders.IMAGE.local_encoder.proj.*``                 → ``patch_embed.*``
``modality_encoders.IMAGE.fixed_positional_encoder.positions``   → ``positions``            [rows, D] (batch axis dropped)
``modality_encoders.IMAGE.context_encoder.norm.*``               → ``context_norm.*``
``blocks.<i>.*``                                                 → ``blocks.<i>.*`` (same names)

Wrapper prefixes seen in other packagings (``module.`` from DDP, ``model.`` / ``fisher.`` / ``encoder.`` from
Hugging Face style wrappers) are stripped first. Keys that are known training leftovers (EMA teacher, decoder) are
listed in :data:`IGNORED_PREFIXES` and dropped; anything else unknown is reported by strict loading.
"""

from __future__ import annotations

import re

import torch

__all__ = ["IGNORED_PREFIXES", "LEGACY_TO_OURS", "WRAPPER_PREFIXES", "convert_state_dict", "to_official"]

_IMG = "modality_encoders.IMAGE."
LEGACY_TO_OURS: dict[str, str] = {
    _IMG + "extra_tokens": "cls_token",
    _IMG + "local_encoder.proj.weight": "patch_embed.weight",
    _IMG + "local_encoder.proj.bias": "patch_embed.bias",
    _IMG + "fixed_positional_encoder.positions": "positions",
    _IMG + "context_encoder.norm.weight": "context_norm.weight",
    _IMG + "context_encoder.norm.bias": "context_norm.bias",
}
OURS_TO_LEGACY = {v: k for k, v in LEGACY_TO_OURS.items()}
_BLOCK = re.compile(r"^blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)$")

WRAPPER_PREFIXES = ("module.", "model.", "fisher.", "encoder.", "backbone.")
IGNORED_PREFIXES = ("_ema", "ema.", "decoder.", "teacher.")


def _known(key: str) -> bool:
    return key in LEGACY_TO_OURS or key in OURS_TO_LEGACY or bool(_BLOCK.match(key))


def _strip_wrappers(keys: list[str]) -> dict[str, str]:
    """Map each key to its name without a common wrapper prefix, if stripping makes the keys recognisable."""
    mapping = {k: k for k in keys}
    for _ in range(3):  # nested wrappers such as "module.model."
        if any(_known(v) for v in mapping.values()):
            break
        for prefix in WRAPPER_PREFIXES:
            if any(v.startswith(prefix) for v in mapping.values()):
                mapping = {k: v.removeprefix(prefix) for k, v in mapping.items()}
                break
        else:
            break
    return mapping


def convert_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Convert an official (or already converted) FISHER state dict to our names, shapes and float32.

    Tensors are upcast from fp16/bf16 to float32. Unknown keys are kept under their (prefix-stripped) name so that
    strict loading reports them; known training leftovers are dropped.
    """
    out: dict[str, torch.Tensor] = {}
    for key, name in _strip_wrappers(list(state)).items():
        if name.startswith(IGNORED_PREFIXES):
            continue
        tensor = state[key]
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"checkpoint entry {key!r} is a {type(tensor).__name__}, not a tensor")
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            tensor = tensor.float()
        name = LEGACY_TO_OURS.get(name, name)
        if name == "cls_token" and tensor.ndim == 3:
            tensor = tensor.reshape(-1)
        elif name == "positions" and tensor.ndim == 3:
            tensor = tensor[0]
        out[name] = tensor
    return out


def to_official(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`convert_state_dict` for our keys: names and shapes of the official ``.pt`` layout."""
    out = {}
    for name, tensor in state.items():
        if name == "cls_token":
            tensor = tensor.reshape(1, 1, -1)
        elif name == "positions":
            tensor = tensor.unsqueeze(0)
        out[OURS_TO_LEGACY.get(name, name)] = tensor
    return out
