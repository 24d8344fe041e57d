"""Saving and loading a :class:`~fisher_asd.detector.Detector` directory (safetensors + JSON, no pickle).

Layout (every file written atomically):

* ``detector.json`` — format tag, library version, constructor settings (:meth:`DetectorSettings.saved`: the fields
  with ``saved`` metadata; read back by :meth:`DetectorSettings.from_dict`, which rejects unknown keys and values of
  the wrong JSON type, missing keys taking their defaults), stream configurations, fusion weights,
  training configuration and history, fitted machines (rate, domains) and thresholds, head input rates, and the
  tensor-name maps of the files below.
* ``streams.safetensors`` — trainable tensors only (heads, LoRA), named ``<stream>/<parameter>``.
* ``banks.safetensors`` — per (stream, machine) ``b<i>/<field>`` (embeddings, row_domain, owners, lam,
  clip_domain, loo): the bank and its leave-one-out training scores.
* ``backbones.safetensors`` (optional) — frozen weights of randomly initialised encoders, named ``e<j>/<param>``.
* ``indexes/b<i>/`` (only with a non-exact ``index=``) — each bank's search index (:meth:`fisher.search.index.load_index`),
  so an approximate index is reloaded as built rather than rebuilt.

Loading checks the folder: a missing file raises ``FileNotFoundError`` naming the file and the folder; a truncated or
otherwise damaged file (JSON that does not parse, a manifest field missing, a safetensors file that does not load, a
tensor missing) raises ``ValueError`` naming the file and what is wrong, with the fix: re-save the detector.

Reloading rebuilds the encoders (from their locations / options, or the ``backbones`` argument), loads the tensors
and reproduces scores bit-exactly (same float32 banks, float64 leave-one-out scores, same weights, same clip-length
policy). Detectors saved before the clip-length policy (no ``clip_samples`` setting) reload with
``whole_clips=True``, as they scored; their legacy ``segment_seconds`` training field is dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.files import atomic_write_path as atomic_write
from fisher.files import read_json_manifest
from fisher.search.index import is_exact_default
from fisher.types import PathLike

from .bank import MemoryBank
from .settings import DetectorSettings
from .stream import torch_module
from .stream_config import StreamConfig, encoder_key
from .train import TrainConfig

__all__ = ["FORMAT", "load_detector", "save_detector"]

FORMAT = "fisher_asd.detector/1"


def _random_init(config: StreamConfig) -> bool:
    return any(isinstance(v, dict) and "__config__" in v for v in config.to_dict()["options"].values())


def save_detector(det: Any, directory: PathLike, *, save_backbones: str = "auto") -> Path:
    """Write ``det`` into ``directory`` (see the module docstring)."""
    from safetensors.numpy import save_file as save_np
    from safetensors.torch import save_file as save_pt

    from fisher.version import __version__

    if save_backbones not in ("auto", "all", "none"):
        raise ValueError(f"save_backbones must be 'auto', 'all' or 'none', got {save_backbones!r}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    trainable = {
        f"{n}/{k}": v.to(torch.float32) for n, s in det.streams.items() for k, v in s.trainable_state().items()
    }
    banks: dict[str, np.ndarray] = {}
    bank_map = []
    for n, per_machine in det.banks_.items():
        for m, bank in per_machine.items():
            key = f"b{len(bank_map)}"
            bank_map.append({"stream": n, "machine": m, "key": key, "domains": list(bank.domains)})
            banks.update({f"{key}/{f}": a for f, a in bank.tensors().items()})
            banks[f"{key}/loo"] = np.ascontiguousarray(det.train_scores_[n][m], dtype=np.float64)
            if bank.index is not None:
                bank.index.save(out / "indexes" / key)
    backbones: dict[str, torch.Tensor] = {}
    backbone_map: dict[str, str] = {}
    if save_backbones != "none":
        for n, s in det.streams.items():
            cfg = s.config
            if n in det.instance_streams or (save_backbones == "auto" and not _random_init(cfg)):
                continue
            key = encoder_key(cfg)
            module = torch_module(det.encoders.get(key))
            if module is None or key in backbone_map.values():
                continue
            tag = f"e{len(backbone_map)}"
            backbone_map[tag] = key
            backbones.update({f"{tag}/{k}": v.detach().cpu().contiguous() for k, v in module.state_dict().items()})
    manifest = {
        "format": FORMAT,
        "version": __version__,
        "settings": det.settings.saved(),
        "streams": [s.config.to_dict() for s in det.streams.values()],
        "instance_streams": det.instance_streams,
        "weights": det.weights,
        "training": det.training.to_dict(),
        "history": det.history_,
        "head_sr": det.head_sr_,
        "machines": {m: {"sr": sr, "threshold": det.thresholds_.get(m)} for m, sr in det.sr_.items()},
        "banks": bank_map,
        "backbones": backbone_map,
    }
    atomic_write(out / "streams.safetensors", lambda tmp: save_pt(trainable, tmp, metadata={"format": FORMAT}))
    atomic_write(out / "banks.safetensors", lambda tmp: save_np(banks, tmp, metadata={"format": FORMAT}))
    if backbones:
        atomic_write(out / "backbones.safetensors", lambda tmp: save_pt(backbones, tmp, metadata={"format": FORMAT}))
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_write(out / "detector.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return out


def _split(tensors: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in tensors.items():
        head, _, rest = name.partition("/")
        out.setdefault(head, {})[rest] = value
    return out


_MANIFEST_FIELDS = {
    "streams": list,
    "instance_streams": list,
    "backbones": dict,
    "settings": dict,
    "training": dict,
    "weights": dict,
    "head_sr": dict,
    "banks": list,
    "machines": dict,
    "history": dict,
}


def _damaged(path: Path, what: str) -> ValueError:
    return ValueError(f"{path}: {what}; the saved detector is damaged or incomplete: re-save the detector")


def _read_manifest(directory: Path) -> dict[str, Any]:
    """``detector.json`` after checking that it parses and holds every field of :data:`_MANIFEST_FIELDS`."""
    path = directory / "detector.json"
    try:
        manifest = read_json_manifest(path, FORMAT, "detector")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _damaged(path, f"not valid JSON ({err}), e.g. a truncated file") from None
    for key, kind in _MANIFEST_FIELDS.items():
        if not isinstance(manifest.get(key), kind):
            found = type(manifest[key]).__name__ if key in manifest else "missing"
            raise _damaged(
                path, f"field {key!r} must be a JSON {kind.__name__ if kind is dict else 'list'}, got {found}"
            )
    return manifest


def _load_tensors(directory: Path, name: str, loader: Callable[[str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Tensors of ``directory / name`` split by prefix; missing → ``FileNotFoundError``, unreadable → ``ValueError``."""
    path = directory / name
    if not path.is_file():
        present = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        raise FileNotFoundError(
            f"the saved detector folder {directory} has no {name} (it holds {present}); copy the whole folder or "
            "re-save the detector"
        )
    from safetensors import SafetensorError

    try:
        return _split(loader(str(path)))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise _damaged(path, f"cannot be read as safetensors ({type(err).__name__}: {err})") from None


def _manifest_part(path: Path, what: str, build: Callable[[], Any]) -> Any:
    """``build()``, turning a ``KeyError`` / ``TypeError`` / ``ValueError`` / ``AttributeError`` into a damage error."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise _damaged(path, f"{what} is malformed ({type(err).__name__}: {err})") from None


def load_detector(cls: type, directory: Path, *, backbones: dict[str, Any] | None = None, device: Any = None) -> Any:
    """Rebuild a detector saved by :func:`save_detector` (damaged folders raise, see the module docstring)."""
    from safetensors.numpy import load_file as load_np
    from safetensors.torch import load_file as load_pt

    manifest = _read_manifest(directory)
    json_path = directory / "detector.json"
    encoders = _manifest_part(json_path, "'streams'", lambda: {c["name"]: c["encoder"] for c in manifest["streams"]})
    given = backbones or {}
    missing = [n for n in manifest["instance_streams"] if n not in given and encoders.get(n) not in given]
    if missing:
        raise ValueError(f"streams {missing} were built from encoder objects: pass backbones={{name: encoder}} to load")
    states: dict[str, dict[str, torch.Tensor]] = {}
    if manifest["backbones"]:
        parts = _load_tensors(directory, "backbones.safetensors", load_pt)
        states = _manifest_part(
            directory / "backbones.safetensors",
            "the backbone tensor map",
            lambda: {key: parts[tag] for tag, key in manifest["backbones"].items()},
        )
    configs = _manifest_part(json_path, "'streams'", lambda: [StreamConfig.from_dict(c) for c in manifest["streams"]])
    settings = dict(manifest["settings"])
    if "clip_samples" not in settings:  # saved before the clip-length policy: it scored whole clips
        settings["whole_clips"] = True
    training = {k: v for k, v in manifest["training"].items() if k != "segment_seconds"}  # legacy field
    train_config = _manifest_part(json_path, "'training'", lambda: TrainConfig.from_dict(training))
    trained = _load_tensors(directory, "streams.safetensors", load_pt)
    arrays = _load_tensors(directory, "banks.safetensors", load_np)
    saved = _manifest_part(json_path, "'settings'", lambda: DetectorSettings.from_dict(settings))
    config = saved.replace(
        encoders=configs, weights=manifest["weights"], training=train_config, backbones=backbones, device=device
    )
    det = cls.from_settings(config, _backbone_states=states)
    for name, sr in manifest["head_sr"].items():
        if name not in det.streams:
            raise _damaged(json_path, f"'head_sr' names stream {name!r}, which is not among {list(det.streams)}")
        _manifest_part(
            json_path, f"'head_sr' of stream {name!r}", lambda name=name, sr=sr: det.streams[name].ensure_head(sr)
        )
        det.head_sr_[name] = sr
        if det.device is not None:
            det.streams[name].to(det.device)
    for name, stream in det.streams.items():
        if stream.trainable_parameters():
            _manifest_part(
                directory / "streams.safetensors",
                f"the tensors of stream {name!r}",
                lambda stream=stream, name=name: stream.load_trainable_state(trained.get(name, {})),
            )
    for entry in manifest["banks"]:
        what = f"bank {entry.get('key')!r}" if isinstance(entry, dict) else "a bank entry"
        a, bank = _manifest_part(directory / "banks.safetensors", what, lambda e=entry: _bank(det, arrays, e))
        det.banks_[entry["stream"]][entry["machine"]] = bank
        if not is_exact_default(det.index):
            saved = directory / "indexes" / entry["key"]
            if (saved / "index.json").is_file():
                from fisher.search.index import load_index

                bank.index = load_index(saved)
            else:
                bank.attach_index(det.index)
        det.train_scores_[entry["stream"]][entry["machine"]] = a["loo"]
    for m, info in manifest["machines"].items():
        sr, threshold = _manifest_part(json_path, f"machine {m!r}", lambda info=info: _machine(info))
        det.sr_[m] = sr
        if threshold is not None:
            det.thresholds_[m] = threshold
    det.history_ = manifest["history"]
    return det


def _bank(det: Any, arrays: dict[str, dict[str, Any]], entry: dict[str, Any]) -> tuple[dict[str, Any], MemoryBank]:
    """The saved tensors and the :class:`MemoryBank` of one ``banks`` entry of the manifest."""
    if entry["stream"] not in det.banks_:
        raise KeyError(f"unknown stream {entry['stream']!r}")
    a = arrays[entry["key"]]
    bank = MemoryBank.from_tensors(a, entry["domains"])
    if a["loo"].shape != (int(bank.clip_domain.shape[0]),):
        raise ValueError(f"{a['loo'].shape[0]} leave-one-out scores for {bank.clip_domain.shape[0]} clips")
    return a, bank


def _machine(info: dict[str, Any]) -> tuple[float, float | None]:
    """``(sr, threshold)`` of one fitted machine of the manifest (positive finite rate, finite threshold)."""
    sr, threshold = float(info["sr"]), info["threshold"]
    if not (math.isfinite(sr) and sr > 0):
        raise ValueError(f"sampling rate {sr!r} is not a positive finite number")
    if threshold is not None and not math.isfinite(float(threshold)):
        raise ValueError(f"threshold {threshold!r} is not finite")
    return sr, None if threshold is None else float(threshold)
