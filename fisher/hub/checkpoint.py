"""Reading and writing FISHER checkpoints.

Formats:

* **ours** — a directory with ``config.json`` (a :class:`~fisher.recipe.fisher_config.FisherConfig`, ``"model_type": "fisher"``)
  and ``model.safetensors`` (our parameter names). Written by :func:`save_model`, atomically.
* **official GitHub** — a ``torch.save`` dict ``{"cfg": {"model": {...}}, "model": state_dict}`` (optionally xz
  compressed). Loaded with ``torch.load(weights_only=True)``; pickled configs need ``allow_pickle=True``.
* **Hugging Face packaging** of the official repos (``config.json`` + remote code) — *unverified*: see
  :func:`_load_foreign_directory` and ``docs/checkpoints.md``.
"""

from __future__ import annotations

import io
import json
import lzma
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from fisher.files import atomic_write_path
from fisher.hub.keymap import convert_state_dict
from fisher.hub.official_config import config_from_official
from fisher.recipe.fisher_config import FisherConfig

__all__ = ["load_model", "load_state_strict", "read_official_checkpoint", "save_model"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_TORCH_MAGICS = (b"PK\x03\x04", b"\x80")  # torch.save zip archive; legacy torch.save = pickle protocol >= 2


def save_model(model: torch.nn.Module, directory: str | Path) -> Path:
    """Write ``config.json`` + ``model.safetensors`` (float32 CPU tensors) into ``directory``."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    atomic_write_path(directory / WEIGHTS_NAME, lambda tmp: save_file(state, tmp, metadata={"format": "pt"}))
    atomic_write_path(directory / CONFIG_NAME, lambda tmp: Path(tmp).write_text(model.config.to_json() + "\n"))
    return directory


def read_official_checkpoint(path: str | Path, *, allow_pickle: bool = False) -> tuple[FisherConfig, dict]:
    """Read an official ``.pt`` (or ``.pt.xz``) file → (config, state dict with our names)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw.startswith(_XZ_MAGIC):
        try:
            raw = lzma.decompress(raw)
        except lzma.LZMAError as err:
            raise ValueError(f"{path} is not a PyTorch checkpoint (or corrupt): broken xz stream ({err})") from err
    if not raw.startswith(_TORCH_MAGICS):
        raise ValueError(
            f"{path} is not a PyTorch checkpoint (or corrupt): it starts with {raw[:8]!r}, neither a torch.save zip "
            "archive nor a pickle (expected an official FISHER .pt / .pt.xz file or a model directory)"
        )
    try:
        ckpt = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" not in str(err):  # not a refused class: the pickle stream itself is broken
            raise _corrupt(path, err) from err
        if not allow_pickle:
            raise ValueError(
                f"{path} cannot be loaded safely with torch.load(weights_only=True): it pickles Python objects "
                f"({str(err).splitlines()[0][:200]}). If you trust this file, pass allow_pickle=True "
                "(it may execute code), or convert it once with `fisher convert SRC.pt DST_DIR --allow-pickle`."
            ) from err
        ckpt = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, KeyError, IndexError, ValueError, OSError, AttributeError) as err:
        raise _corrupt(path, err) from err
    if not isinstance(ckpt, Mapping) or "model" not in ckpt:
        keys = list(ckpt)[:10] if isinstance(ckpt, Mapping) else type(ckpt).__name__
        raise ValueError(f"{path} is not an official FISHER checkpoint: expected keys 'cfg' and 'model', got {keys}")
    if "cfg" in ckpt:
        cfg = ckpt["cfg"]
        model_cfg = cfg.get("model", cfg) if isinstance(cfg, Mapping) else getattr(cfg, "model", cfg)
    else:
        model_cfg = {}
    state = convert_state_dict(dict(ckpt["model"]))
    return config_from_official(model_cfg, state, source=str(path)), state


def _corrupt(path: Path, err: BaseException) -> ValueError:
    detail = (str(err).splitlines() or [""])[0][:200]
    return ValueError(
        f"{path} is not a PyTorch checkpoint (or corrupt): torch.load failed with {type(err).__name__}: {detail}"
    )


def load_state_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` with strict key and shape matching; raise ``ValueError`` listing every mismatch."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(state) & set(expected))
        if state[k].shape != expected[k].shape
    ]
    if missing or unexpected or shapes:
        parts = [f"checkpoint {source} does not match the FISHER architecture"]
        if missing:
            parts.append(f"missing keys ({len(missing)}): {missing}")
        if unexpected:
            parts.append(f"unexpected keys ({len(unexpected)}): {unexpected}")
        if shapes:
            parts.append(f"shape mismatches ({len(shapes)}): {shapes}")
        raise ValueError("; ".join(parts))
    model.load_state_dict(state, strict=True)


def _read_config(path: Path) -> dict[str, Any]:
    """``config.json`` as a dict; ``ValueError`` naming the file and the fault when it is damaged."""
    advice = "the file may be truncated or damaged; re-save (save_pretrained) or re-download the model"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}: config.json is not valid JSON (line {err.lineno} col {err.colno}: {err.msg}): {advice}"
        ) from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: config.json is not UTF-8 text ({err.reason} at byte {err.start}): {advice}"
        ) from None
    if isinstance(data, dict):
        return data
    raise ValueError(f"{path}: config.json must hold a JSON object, got a {type(data).__name__}: {advice}")


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file; ``ValueError`` naming the file when it is truncated or not safetensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        size = path.stat().st_size if path.is_file() else 0
        raise ValueError(
            f"{path} ({size} bytes) is not a readable safetensors file ({err}): the file may be truncated; re-save "
            "(save_pretrained) or re-download the model"
        ) from None


def _load_our_directory(directory: Path) -> tuple[FisherConfig, dict]:
    data = _read_config(directory / CONFIG_NAME)
    try:
        config = FisherConfig.from_dict(data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{directory / CONFIG_NAME} does not describe a FISHER model: {err}") from None
    return config, convert_state_dict(_read_safetensors(directory / WEIGHTS_NAME))


def _load_foreign_directory(directory: Path, allow_pickle: bool) -> tuple[FisherConfig, dict]:
    """Best-effort loader for other packagings (e.g. the official Hugging Face repos; unverified layout).

    Weights: ``model.safetensors`` / ``pytorch_model.bin`` / a single ``*.pt``; keys are mapped by
    :func:`fisher.hub.keymap.convert_state_dict` (wrapper prefixes stripped). Config: ``config.json`` read as an official
    model cfg (its keys may sit at top level or under ``"model"`` / ``"cfg"``); sizes are checked against the
    tensors, and strict loading reports anything that does not fit.
    """
    pts = sorted(directory.glob("*.pt")) + sorted(directory.glob("*.pt.xz"))
    if (directory / WEIGHTS_NAME).is_file():
        state = convert_state_dict(_read_safetensors(directory / WEIGHTS_NAME))
    elif (directory / "pytorch_model.bin").is_file():
        raw = torch.load(directory / "pytorch_model.bin", map_location="cpu", weights_only=True)
        state = convert_state_dict(dict(raw.get("model", raw)))
    elif len(pts) == 1:
        return read_official_checkpoint(pts[0], allow_pickle=allow_pickle)
    else:
        found = sorted(p.name for p in directory.iterdir())
        raise FileNotFoundError(
            f"{directory} holds no FISHER weights: expected {WEIGHTS_NAME} (+ {CONFIG_NAME}), pytorch_model.bin or "
            f"exactly one official .pt file; found {found}"
        )
    cfg: dict[str, Any] = {}
    if (directory / CONFIG_NAME).is_file():
        cfg = _read_config(directory / CONFIG_NAME)
        for key in ("cfg", "model"):
            if isinstance(cfg.get(key), Mapping):
                cfg = cfg[key]
    return config_from_official(cfg, state, source=str(directory)), state


def _read_any(path: Path, allow_pickle: bool) -> tuple[FisherConfig, dict]:
    if path.is_file():
        return read_official_checkpoint(path, allow_pickle=allow_pickle)
    config_file = path / CONFIG_NAME
    if config_file.is_file() and (path / WEIGHTS_NAME).is_file():
        data = _read_config(config_file)
        if data.get("model_type") == "fisher" and "embed_dim" in data and "depth" in data:
            return _load_our_directory(path)
    return _load_foreign_directory(path, allow_pickle)


def load_model(
    cls: type,
    name_or_path: str | Path,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
    allow_pickle: bool = False,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> Any:
    """Resolve ``name_or_path`` (local path, registry name or hub id) and build a strictly loaded model."""
    from fisher.hub.resolve import resolve

    path = resolve(name_or_path, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only)
    config, state = _read_any(path, allow_pickle)
    model = cls(config)
    load_state_strict(model, state, str(path))
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")
    if device is not None:
        from fisher.compute.capabilities import check_device

        device = check_device(device)
    model.to(device=device, dtype=dtype)
    return model.eval()
