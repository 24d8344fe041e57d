"""Loading official BEATs checkpoints: ``torch.load(..., weights_only=True)`` of ``{'cfg', 'model'[, 'label_dict']}``.

Checks before touching the model (errors name the offending key and the cfg fields behind its shape): missing keys,
unexpected keys, shape mismatches. Every tensor is cast to float32 (fixture / half checkpoints store float16).
The relative-position table is one module shared by all layers; its key appears once per layer, and the copies must
agree (layer 0's copy is used, a warning is logged otherwise).
"""

from __future__ import annotations

import io
import logging
import lzma
import os
import re
from pathlib import Path
from typing import Any

import torch

from .beats_config import BEATsConfig

__all__ = ["load_beats", "read_checkpoint", "resolve_checkpoint"]

log = logging.getLogger(__name__)

_HUB_PREFIX = "hf-hub:"
_REL_BIAS = re.compile(r"encoder\.layers\.(\d+)\.self_attn\.relative_attention_bias\.weight")

# which cfg fields determine the shapes of which keys (for error messages)
_KEY_FIELDS = [
    (r"patch_embedding", "input_patch_size, embed_dim, conv_bias"),
    (r"^layer_norm", "embed_dim"),
    (r"post_extract_proj", "embed_dim, encoder_embed_dim"),
    (r"pos_conv", "encoder_embed_dim, conv_pos, conv_pos_groups"),
    (r"relative_attention_bias", "relative_position_embedding, num_buckets, encoder_attention_heads"),
    (r"grep_", "gru_rel_pos, encoder_attention_heads, encoder_embed_dim"),
    (r"fc1|fc2", "encoder_embed_dim, encoder_ffn_embed_dim"),
    (r"predictor", "finetuned_model, predictor_class"),
    (r"encoder\.layers\.\d+", "encoder_layers, encoder_embed_dim"),
    (r".", "encoder_embed_dim"),
]


def _fields_for(key: str) -> str:
    return next(fields for pattern, fields in _KEY_FIELDS if re.search(pattern, key))


def resolve_checkpoint(path_or_hub_file: str | os.PathLike, *, local_files_only: bool | None = None) -> Path:
    """Local path as is; ``"hf-hub:org/repo/path/file.pt"`` through ``huggingface_hub`` (respects HF_HUB_OFFLINE)."""
    text = os.fspath(path_or_hub_file)
    if text.startswith(_HUB_PREFIX):
        parts = text[len(_HUB_PREFIX) :].split("/")
        if len(parts) < 3:
            raise ValueError(f"hub file must look like 'hf-hub:org/repo/file.pt', got {text!r}")
        from huggingface_hub import hf_hub_download

        repo, filename = "/".join(parts[:2]), "/".join(parts[2:])
        kwargs = {} if local_files_only is None else {"local_files_only": local_files_only}
        try:
            return Path(hf_hub_download(repo, filename, library_name="fisher", **kwargs))
        except Exception as err:  # huggingface_hub raises several types (offline, missing file, network)
            raise FileNotFoundError(
                f"could not get {text!r} from the Hugging Face hub ({type(err).__name__}); offline "
                "(HF_HUB_OFFLINE=1) or not cached? Download it once or pass a local path"
            ) from err
    path = Path(text).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"BEATs checkpoint not found: {path} (download e.g. BEATs_iter3_plus_AS2M.pt from the official BEATs "
            "page and pass its local path, or use 'hf-hub:org/repo/file.pt')"
        )
    return path


def read_checkpoint(path: Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a ``.pt`` (or xz-compressed ``.pt.xz``) BEATs checkpoint."""
    with path.open("rb") as fh:
        compressed = fh.read(6) == b"\xfd7zXZ\x00"
    source: io.BytesIO | Path = io.BytesIO(lzma.decompress(path.read_bytes())) if compressed else path
    ckpt = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "cfg" not in ckpt or "model" not in ckpt:
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"{path}: not an official BEATs checkpoint (expected keys 'cfg' and 'model', got {found})")
    return ckpt


def _check_state(model: torch.nn.Module, state: dict[str, torch.Tensor], cfg: BEATsConfig) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        key = (missing or unexpected)[0]
        what = "missing from the checkpoint" if missing else "unexpected in the checkpoint"
        raise ValueError(
            f"BEATs checkpoint does not match its cfg: key {key!r} is {what} "
            f"({len(missing)} missing, {len(unexpected)} unexpected; check cfg fields {_fields_for(key)}: "
            f"encoder_layers={cfg.encoder_layers}, finetuned_model={cfg.finetuned_model})"
        )
    for key, ref in expected.items():
        if tuple(state[key].shape) != tuple(ref.shape):
            raise ValueError(
                f"BEATs checkpoint does not match its cfg: key {key!r} has shape {tuple(state[key].shape)} but the "
                f"cfg implies {tuple(ref.shape)} (check cfg fields {_fields_for(key)})"
            )


def load_state(model: torch.nn.Module, state: dict[str, Any]) -> None:
    """Strictly load ``state`` (any float dtype) into a BEATs model, cast to float32, after checking it."""
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"BEATs checkpoint entry {bad[0]!r} is not a tensor")
    state = {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in state.items()}
    _check_state(model, state, model.cfg)
    rel = sorted((int(m.group(1)), k) for k in state if (m := _REL_BIAS.fullmatch(k)))
    if rel:
        first = state[rel[0][1]]
        if any(not torch.equal(state[k], first) for _, k in rel[1:]):
            log.warning(
                "BEATs checkpoint: per-layer copies of the shared relative_attention_bias differ; using layer 0"
            )
        for _, k in rel:
            state[k] = first
    model.load_state_dict(state, strict=True)


def load_beats(cls: type, path_or_hub_file: str | os.PathLike, *, local_files_only: bool | None = None):
    """Build ``cls(BEATsConfig.from_dict(ckpt['cfg']))``, load the weights strictly and return it in ``eval()``."""
    path = resolve_checkpoint(path_or_hub_file, local_files_only=local_files_only)
    ckpt = read_checkpoint(path)
    cfg = BEATsConfig.from_dict(dict(ckpt["cfg"]))
    model = cls(cfg)
    load_state(model, dict(ckpt["model"]))
    model.label_dict = ckpt.get("label_dict")
    log.info("loaded BEATs checkpoint %s (%d layers, %d-d)", path, cfg.encoder_layers, cfg.encoder_embed_dim)
    return model.eval()
