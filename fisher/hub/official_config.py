"""Translate the official checkpoint configuration (``cfg['model']``) into a :class:`FisherConfig`.

The official loader starts from its dataclass defaults and overwrites every known key; unknown keys are ignored and
missing ones keep their defaults. We do the same for the fields that matter at inference, then check them against
the tensors (which always win for sizes: embedding width, depth and positional-table rows are read from the weights
when the config is silent). Configurations that the released models never use and that we do not implement
(pre-norm blocks, ALiBi, a prenet, a patch projection, several extra tokens) are refused with a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

from fisher.recipe.fisher_config import FisherConfig

__all__ = ["config_from_official", "infer_max_freq"]

# Official dataclass defaults of the fields we read (Data2VecMultiConfig / D2vImageConfig).
_TOP_DEFAULTS = {
    "depth": 12,
    "embed_dim": 768,
    "num_heads": 12,
    "band_width": 100,
    "mlp_ratio": 4.0,
    "norm_eps": 1e-6,
    "layer_norm_first": False,
}
_IMAGE_DEFAULTS = {
    "patch_size": 16,
    "in_chans": 1,
    "max_length": 128,
    "max_freq": 50,
    "num_extra_tokens": 1,
    "prenet_depth": 0,
    "use_alibi_encoder": False,
    "fixed_positions": True,
    "flatten": "freq",
}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a dict, an OmegaConf node or a dataclass-like object."""
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _int_or(value: Any, fallback: Any) -> Any:
    """Official configs may hold unresolved ``"${model.embed_dim}"`` strings; treat those as absent."""
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback


def infer_max_freq(positions: torch.Tensor) -> int:
    """Columns of the sin-cos grid: the first row whose row-code half differs from row 0 is row ``max_freq``."""
    half = positions.shape[-1] // 2
    rows = positions.reshape(-1, positions.shape[-1])[:, half:]
    differs = (rows != rows[0]).any(dim=1).nonzero()
    return int(differs[0]) if len(differs) else int(rows.shape[0])


def config_from_official(cfg: Any, state: dict[str, torch.Tensor], source: str = "checkpoint") -> FisherConfig:
    """Build a :class:`FisherConfig` from an official ``cfg['model']`` and a converted state dict (our names)."""
    image = _get(_get(cfg, "modalities"), "image")
    top = {k: _get(cfg, k, v) for k, v in _TOP_DEFAULTS.items()}
    img = {k: _get(image, k, v) for k, v in _IMAGE_DEFAULTS.items()}

    refusals = {
        "layer_norm_first": (top["layer_norm_first"], False),
        "modalities.image.num_extra_tokens": (img["num_extra_tokens"], 1),
        "modalities.image.prenet_depth": (img["prenet_depth"], 0),
        "modalities.image.use_alibi_encoder": (img["use_alibi_encoder"], False),
        "modalities.image.fixed_positions": (img["fixed_positions"], True),
        "modalities.image.in_chans": (img["in_chans"], 1),
        "modalities.image.flatten": (img["flatten"], "freq"),
    }
    for name, (value, supported) in refusals.items():
        if value != supported:
            raise ValueError(
                f"{source}: unsupported FISHER configuration {name}={value!r} (only {supported!r} is "
                "implemented; no released FISHER model uses another value)"
            )

    # Sizes: the tensors decide when present; the config must agree with them.
    weight = state.get("patch_embed.weight")
    embed_dim = int(weight.shape[0]) if weight is not None else top["embed_dim"]
    img_dim = _int_or(_get(image, "embed_dim"), embed_dim)
    cfg_dim = _int_or(top["embed_dim"], embed_dim)
    if img_dim != embed_dim or cfg_dim != embed_dim:
        raise ValueError(
            f"{source}: config embed_dim (top {cfg_dim}, modalities.image {img_dim}) does not match "
            f"the patch-embedding weight width {embed_dim} (a patch projection is not supported)"
        )
    if weight is not None and tuple(weight.shape[-2:]) != (img["patch_size"],) * 2:
        raise ValueError(f"{source}: patch_size {img['patch_size']} does not match patch weight {tuple(weight.shape)}")
    block_ids = {int(m.group(1)) for k in state if (m := re.match(r"blocks\.(\d+)\.", k))}
    depth = max(block_ids) + 1 if block_ids else _int_or(top["depth"], 12)
    if _int_or(top["depth"], depth) != depth:
        raise ValueError(f"{source}: config depth {top['depth']} but the weights hold {depth} blocks")
    band_width = _int_or(_get(image, "band_width"), _int_or(top["band_width"], 100))

    max_freq, max_length = img["max_freq"], img["max_length"]
    positions = state.get("positions")
    if positions is not None:
        rows = positions.reshape(-1, positions.shape[-1]).shape[0]
        if _get(image, "max_freq") is None:
            max_freq = infer_max_freq(positions)
        if rows % max_freq:
            raise ValueError(f"{source}: positional table has {rows} rows, not a multiple of max_freq={max_freq}")
        max_length = rows // max_freq
    return FisherConfig(
        embed_dim=embed_dim,
        depth=depth,
        num_heads=int(top["num_heads"]),
        band_width=int(band_width),
        mlp_ratio=float(top["mlp_ratio"]),
        patch_size=int(img["patch_size"]),
        norm_eps=float(top["norm_eps"]),
        max_length=int(max_length),
        max_freq=int(max_freq),
        extra={"source_format": "official", "source": source.replace("\\", "/").rsplit("/", 1)[-1]},
    )
