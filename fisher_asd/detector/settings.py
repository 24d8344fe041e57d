"""Every constructor setting of :class:`~fisher_asd.detector.Detector`, once: :class:`DetectorSettings`.

One frozen dataclass lists each keyword of ``Detector(...)`` with its type, default, a one-line doc and its
validation; the constructor, :meth:`Detector.get_params` / :meth:`Detector.set_params`, ``save_pretrained`` /
``from_pretrained`` (:mod:`.persist`) and the ``fisher-asd`` CLI all read it, so a new setting is added here only.

Field metadata (``dataclasses.fields(DetectorSettings)[i].metadata``):

* ``doc`` — one line of help (also the CLI help);
* ``scope`` — what a change invalidates: ``"runtime"`` (nothing: progress bars, encoder batch size), ``"fit"`` (the
  fitted banks / thresholds), ``"streams"`` (the built streams too: encoders, heads, seeds, device);
* ``saved`` — written to the ``"settings"`` section of ``detector.json`` (stream definitions, fusion weights and the
  training configuration have their own sections; ``backbones``, ``device`` and ``show_progress`` are runtime
  arguments of ``from_pretrained`` and are not saved);
* ``choices`` — the allowed values of a string setting.

Validation keeps the messages of the checks it reuses (:func:`~fisher.search.knn.check_k`,
:func:`~fisher_asd.detector.fusion.check_weights`, :func:`~fisher_asd.detector.inputs.check_percentile`,
:class:`~fisher_asd.detector.cliplength.ClipLength`, :func:`~fisher.search.index.index_spec`, :class:`TrainConfig`…).
Values are normalised as the constructor always did (``rank_norm="none"`` → ``None``, ``mixup`` → ``bool``,
``training`` dict → :class:`TrainConfig`, ``device`` → ``torch.device``), so ``DetectorSettings(**s.params())`` equals
``s``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

from fisher.search.knn import check_k

from .bank import MIXUP_PAIRINGS, MIXUP_STAGES, oversample_factors
from .cliplength import CROPS, PADS
from .fusion import check_weights
from .inputs import check_percentile
from .ranknorm import TIES

__all__ = ["DOMAIN_POLICIES", "RANK_NORMS", "DetectorSettings", "setting_fields"]

RANK_NORMS = ("transductive", "inductive", None)  # the string "none" (any case) is accepted for None, as on the CLI
DOMAIN_POLICIES = ("machine", "nearest")


def _m(doc: str, *, scope: str = "fit", saved: bool = True, choices: Sequence[Any] = ()) -> dict[str, Any]:
    """Field metadata: a doc line, the invalidation scope, the saved flag and the choices."""
    return {"doc": doc, "scope": scope, "saved": saved, "choices": tuple(choices)}


@dataclass(frozen=True)
class DetectorSettings:
    """The settings of a :class:`~fisher_asd.detector.Detector` (exactly its constructor keywords; see the module
    docstring). Construction validates every value; :meth:`replace` changes some."""

    encoders: Sequence[Any] = field(
        default=("logstft",),
        metadata=_m(
            "streams: registry or MEF stream names (in Python also (name, options), StreamConfig or encoder objects)",
            scope="streams",
            saved=False,
        ),
    )
    k: int = field(default=5, metadata=_m("neighbours of the k-NN score"))
    weights: dict[str, float] | None = field(
        default=None, metadata=_m("fusion weight per stream name (None = equal)", saved=False)
    )
    rank_norm: str | None = field(
        default="transductive",
        metadata=_m(
            "transductive (whole test set per call, the report's), inductive (streaming / one clip) or none (raw)",
            choices=RANK_NORMS,
        ),
    )
    train_heads: bool = field(
        default=False, metadata=_m("add and train 256-d heads on registry-name streams", scope="streams")
    )
    domain_policy: str = field(
        default="machine",
        metadata=_m(
            "test clips without a domain: one group per machine, or the nearest domain", choices=DOMAIN_POLICIES
        ),
    )
    ties: str = field(default="average", metadata=_m("tie handling of the transductive rank", choices=TIES))
    oversample_ratio: float | None = field(
        default=10.0, metadata=_m("target oversampling so that source : target <= ratio : 1 (None = off)")
    )
    mixup: bool = field(default=True, metadata=_m("add MemMixup rows to the banks"))
    mixup_alpha: float = field(default=0.4, metadata=_m("Beta(alpha, alpha) of the MemMixup weight"))
    mixup_stage: str = field(
        default="after", metadata=_m("MemMixup after or before oversampling", choices=MIXUP_STAGES)
    )
    mixup_pairing: str = field(
        default="any",
        metadata=_m("MemMixup pairs over the whole machine bank or within a domain", choices=MIXUP_PAIRINGS),
    )
    clip_samples: int = field(
        default=160_000, metadata=_m("every clip is fixed to this many samples at 16 kHz (scaled to the input rate)")
    )
    clip_crop: str = field(default="start", metadata=_m("crop of longer clips", choices=CROPS))
    clip_pad: str = field(default="tile", metadata=_m("padding of shorter clips", choices=PADS))
    whole_clips: bool = field(
        default=False, metadata=_m("score whole clips (default: every clip fixed to clip_samples at 16 kHz)")
    )
    train_machines: list[str] | None = field(
        default=None, metadata=_m("default training scope: machines whose clips train the streams (None = all)")
    )
    training: Any = field(
        default=None, metadata=_m("TrainConfig (or a dict of its fields) of the trainable streams", saved=False)
    )
    threshold_percentile: float = field(
        default=90.0, metadata=_m("decision threshold = this percentile of the leave-one-out training scores")
    )
    seed: int = field(default=0, metadata=_m("seeds heads, training and banks", scope="streams"))
    index: str | dict = field(
        default="exact", metadata=_m("k-NN backend of the banks: exact, faiss-flat, faiss-ivf, faiss-hnsw or a dict")
    )
    batch_size: int = field(default=8, metadata=_m("clips per encoder call", scope="runtime"))
    backbones: dict[str, Any] | None = field(
        default=None,
        metadata=_m("per encoder or stream name, a location or a built encoder", scope="streams", saved=False),
    )
    device: Any = field(
        default=None, metadata=_m("torch device of the torch encoders and heads", scope="streams", saved=False)
    )
    show_progress: bool = field(default=False, metadata=_m("tqdm progress bars", scope="runtime", saved=False))

    def __post_init__(self) -> None:
        for name, value in _validated(self).items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> DetectorSettings:
        """A validated copy with ``changes``; ``training__<field>=`` changes one :class:`TrainConfig` field.
        Unknown keywords raise ``ValueError`` naming the allowed ones."""
        from .train import TrainConfig

        nested = {k[len("training__") :]: changes.pop(k) for k in list(changes) if k.startswith("training__")}
        allowed = list(setting_fields())
        unknown = sorted(set(changes) - set(allowed))
        if unknown:
            raise ValueError(f"unknown Detector setting(s) {unknown}; allowed: {allowed}")
        if nested:
            base = changes.get("training", self.training)
            base = TrainConfig.from_dict(base) if isinstance(base, dict) else (base or TrainConfig())
            changes["training"] = TrainConfig.from_dict({**base.to_dict(), **nested})
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ conversions
    def params(self) -> dict[str, Any]:
        """``{keyword: value}`` of every setting (shallow: encoder objects are not copied)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def saved(self) -> dict[str, Any]:
        """The JSON-safe ``"settings"`` section of ``detector.json`` (fields with ``saved`` metadata)."""
        return {f.name: _json(getattr(self, f.name)) for f in dataclasses.fields(self) if f.metadata["saved"]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **extra: Any) -> DetectorSettings:
        """Settings from a ``"settings"`` section (missing keys take their defaults) plus ``extra`` keywords.

        Unknown keys raise ``ValueError`` naming the allowed ones; a saved value of the wrong JSON type raises
        ``TypeError`` (then every value is validated as by the constructor)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"settings must be a mapping, got {type(data).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - {n for n, f in known.items() if f.metadata["saved"]})
        if unknown:
            raise ValueError(f"unknown detector settings {unknown}; allowed: {sorted(setting_fields(saved=True))}")
        for name, value in data.items():
            _check_json_type(name, value, known[name])
        return cls(**{**data, **extra})


def setting_fields(*, saved: bool | None = None, scope: str | None = None) -> dict[str, dataclasses.Field]:
    """``{name: field}`` of :class:`DetectorSettings` in constructor order, optionally filtered."""
    return {
        f.name: f
        for f in dataclasses.fields(DetectorSettings)
        if (saved is None or f.metadata["saved"] == saved) and (scope is None or f.metadata["scope"] == scope)
    }


_JSON_TYPES = {"bool": bool, "int": int, "float": (int, float), "str": str, "None": type(None), "dict": dict}


def _check_json_type(name: str, value: Any, f: dataclasses.Field) -> None:
    """``TypeError`` when a saved ``value`` is not of the JSON type of the field (``list[str]``, ``int`` …)."""
    allowed: list[Any] = []
    for part in str(f.type).split("|"):
        part = part.strip()
        allowed.append(list if part.startswith("list") else _JSON_TYPES.get(part.split("[")[0], object))
    bad_bool = isinstance(value, bool) and bool not in allowed
    if bad_bool or not isinstance(value, tuple(t for a in allowed for t in (a if isinstance(a, tuple) else (a,)))):
        raise TypeError(f"setting {name} must be of type {f.type}, got {type(value).__name__}: {value!r}")


def _json(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else list(value) if isinstance(value, tuple) else value


def _choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def _validated(s: DetectorSettings) -> dict[str, Any]:
    """Checked and normalised values of ``s`` (in the order the constructor always checked them)."""
    enc = s.encoders
    if isinstance(enc, (str, bytes)) or not isinstance(enc, Sequence) or not enc:
        raise TypeError("encoders must be a non-empty list of stream definitions, e.g. ['logstft', 'fisher']")
    rank_norm = None if isinstance(s.rank_norm, str) and s.rank_norm.strip().lower() == "none" else s.rank_norm
    if rank_norm not in RANK_NORMS:
        raise ValueError(
            f"rank_norm must be 'transductive', 'inductive' or None (also spelled 'none'), got {rank_norm!r}"
        )
    _choice("domain_policy", s.domain_policy, DOMAIN_POLICIES)
    _choice("ties", s.ties, TIES)
    if s.mixup_stage not in MIXUP_STAGES or s.mixup_pairing not in MIXUP_PAIRINGS:
        raise ValueError(f"mixup_stage must be in {MIXUP_STAGES} and mixup_pairing in {MIXUP_PAIRINGS}")
    out: dict[str, Any] = {
        "encoders": list(enc),
        "rank_norm": rank_norm,
        "threshold_percentile": check_percentile(s.threshold_percentile, name="threshold_percentile"),
    }
    if isinstance(s.batch_size, bool) or not isinstance(s.batch_size, int) or s.batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {s.batch_size!r}")
    out["k"] = check_k(s.k)
    from .cliplength import ClipLength

    ClipLength(samples=s.clip_samples, crop=s.clip_crop, pad=s.clip_pad)
    out.update(index=_index(s.index), **_bank_values(s), **_other_values(s))
    return out


def _index(index: Any) -> str | dict:
    from fisher.search.index import index_spec

    spec = index_spec(index)  # validates a name or a dict
    return index if isinstance(index, str) else dict(spec)


def _bank_values(s: DetectorSettings) -> dict[str, Any]:
    if s.oversample_ratio is not None:
        oversample_factors({"d": 1}, s.oversample_ratio)  # its check: a number >= 1
    alpha = s.mixup_alpha
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):  # build_bank's check
        raise ValueError(f"mixup_alpha must be a positive number, got {alpha!r}")
    return {"mixup": bool(s.mixup)}


def _other_values(s: DetectorSettings) -> dict[str, Any]:
    import torch

    from .train import TrainConfig

    if s.weights is not None:  # types and values; the stream names are checked by Detector
        check_weights(s.weights, list(s.weights) if isinstance(s.weights, Mapping) else [])
    if isinstance(s.seed, bool) or not isinstance(s.seed, Integral):
        raise TypeError(f"seed must be an int, got {type(s.seed).__name__}: {s.seed!r}")
    machines = s.train_machines
    if isinstance(machines, (str, bytes)) or not (machines is None or isinstance(machines, Sequence)):
        raise TypeError(f"train_machines must be a list of machine names or None, got {machines!r}")
    training = s.training
    if not (training is None or isinstance(training, (dict, TrainConfig))):
        raise TypeError(f"training must be a TrainConfig, a dict of its fields or None, got {type(training).__name__}")
    if s.backbones is not None and not isinstance(s.backbones, Mapping):
        raise TypeError(f"backbones must be a mapping name -> location or encoder, got {type(s.backbones).__name__}")
    return {
        "weights": None if s.weights is None else dict(s.weights),
        "train_heads": bool(s.train_heads),
        "whole_clips": bool(s.whole_clips),
        "train_machines": None if machines is None else [str(m) for m in machines],
        "training": TrainConfig.from_dict(training)
        if isinstance(training, dict)
        else dataclasses.replace(training or TrainConfig()),  # a copy: detectors never share one
        "seed": int(s.seed),
        "backbones": None if s.backbones is None else dict(s.backbones),
        "device": None if s.device is None else torch.device(s.device),
        "show_progress": bool(s.show_progress),
    }
