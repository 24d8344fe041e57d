"""The four submitted MEF systems of the DCASE 2026 Task 2 report (``asd.md`` §1), as untrained detector recipes.

Every system scores every machine with the same six streams, one per MEF kind (:data:`fisher_asd.streams.mef.STREAMS`);
the systems differ only in which checkpoint each stream uses — its training scope, ``"7m"`` = the 7 development
machine types, ``"12m"`` = those + the 5 evaluation machine types — and in the fusion weights:

======== ========== ====================== ===================== ================== =====================
preset   alias      BEATs-r16, BEATs-r32   CLAP-LoRA, AST        CLAP, WavLM heads  weights
======== ========== ====================== ===================== ================== =====================
system1  mef6-7m    7m                     7m                    7m (shared)        :data:`MEF6_WEIGHTS`
system2  mef6-12m   12m                    12m                   7m (shared)        :data:`MEF6_WEIGHTS`
system3  mef6-hyb   7m                     12m                   7m (shared)        :data:`MEF6_WEIGHTS`
system4  mef5-7m    7m                     7m                    7m (shared)        :data:`MEF5_WEIGHTS`
======== ========== ====================== ===================== ================== =====================

"CLAP and WavLM checkpoints are shared across all submissions"; the report does not say on which machines they were
trained. **Our choice**: the 7 development machines (the report's "fine-tuned on development-set normal training
clips"). Each stream records its checkpoint identity (``"<kind>@7m"`` / ``"<kind>@12m"``): streams with the same
identity in two systems are the same trained model (same kind, scope and — in the detector — the same seed and
stream name, hence bit-identical when trained on the same clips).

A preset is a *recipe*: ``Detector.from_preset(name, backbones=...)`` builds it untrained (``fit`` trains the heads /
LoRA and builds the banks). Backbones default to the hub ids of :data:`DEFAULT_BACKBONES`; BEATs has no hub release,
so ``backbones={"beats": path}`` is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .fusion import MEF5_WEIGHTS, MEF6_WEIGHTS, MEF_STREAMS
from .stream_config import StreamConfig

__all__ = [
    "DCASE2026_DEV",
    "DCASE2026_EVAL",
    "DEFAULT_BACKBONES",
    "SCOPES",
    "DetectorPreset",
    "PresetStream",
    "is_preset_name",
    "preset",
    "preset_names",
]

#: DCASE 2026 Task 2 development machine types (``asd.md`` §5).
DCASE2026_DEV = ("ToyCar", "ToyCarEmu", "bearingEmu", "fan", "gearboxEmu", "sliderEmu", "valveEmu")
#: DCASE 2026 additional-training / evaluation machine types (``asd.md`` §5).
DCASE2026_EVAL = ("ToyDrone", "ToothBrush", "SewingMachine", "BlowerDustCollector", "Sander")
#: Checkpoint training scopes: ``"7m"`` (dev machines) and ``"12m"`` (dev + evaluation machines).
SCOPES: dict[str, tuple[str, ...]] = {"7m": DCASE2026_DEV, "12m": DCASE2026_DEV + DCASE2026_EVAL}

DEFAULT_BACKBONES: dict[str, str | None] = {
    "clap": "laion/clap-htsat-unfused",
    "wavlm": "microsoft/wavlm-base",
    "ast": "MIT/ast-finetuned-audioset-10-10-0.4593",
    "beats": None,  # BEATs_iter3_plus_AS2M.pt (microsoft/unilm release), a local path
}
_ENCODER = {
    "clap": "clap",
    "wavlm": "wavlm",
    "beats_r16": "beats",
    "beats_r32": "beats",
    "clap_lora": "clap",
    "ast": "ast",
}
_SETTINGS = {"k": 5, "rank_norm": "transductive", "train_heads": True}


@dataclass(frozen=True)
class PresetStream:
    """One stream of a preset.

    Attributes:
        name: stream name in the detector (= its MEF kind; the key of the fusion weights).
        mef: MEF stream kind (``"clap"``, ``"wavlm"``, ``"beats_r16"``, ``"beats_r32"``, ``"clap_lora"``, ``"ast"``).
        encoder: registry name of the backbone encoder.
        scope: ``"7m"`` or ``"12m"``.
        train_machines: machine types whose normal training clips train this stream's checkpoint.
        checkpoint: identity of the trained checkpoint, ``"<mef>@<scope>"`` (equal across systems = shared).
        location: default backbone location (hub id; ``None`` for BEATs).
    """

    name: str
    mef: str
    encoder: str
    scope: str
    train_machines: tuple[str, ...]
    checkpoint: str
    location: str | None

    def config(self) -> StreamConfig:
        """A fresh :class:`StreamConfig` for :class:`~fisher_asd.detector.Detector`."""
        return StreamConfig(
            name=self.name,
            encoder=self.encoder,
            location=self.location,
            mef=self.mef,
            train_machines=list(self.train_machines),
        )


@dataclass(frozen=True)
class DetectorPreset:
    """A submitted system: ``name`` (``"system1"`` …), ``alias`` (``"mef6-7m"`` …), ``description``, ``streams``
    (six :class:`PresetStream`), ``weights`` (``{stream name: weight}``, sum 1) and detector ``settings``."""

    name: str
    alias: str
    description: str
    streams: tuple[PresetStream, ...]
    weights: Mapping[str, float]
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType(dict(_SETTINGS)))

    def stream_configs(self) -> list[StreamConfig]:
        """Fresh :class:`StreamConfig` s of the six streams."""
        return [s.config() for s in self.streams]


def _stream(kind: str, scope: str) -> PresetStream:
    enc = _ENCODER[kind]
    return PresetStream(
        name=kind,
        mef=kind,
        encoder=enc,
        scope=scope,
        train_machines=SCOPES[scope],
        checkpoint=f"{kind}@{scope}",
        location=DEFAULT_BACKBONES[enc],
    )


def _system(
    name: str, alias: str, description: str, beats: str, clap_lora_ast: str, weights: Mapping[str, float]
) -> DetectorPreset:
    scope = {
        "clap": "7m",
        "wavlm": "7m",
        "beats_r16": beats,
        "beats_r32": beats,
        "clap_lora": clap_lora_ast,
        "ast": clap_lora_ast,
    }
    return DetectorPreset(
        name=name,
        alias=alias,
        description=description,
        streams=tuple(_stream(k, scope[k]) for k in MEF_STREAMS),
        weights=weights,
    )


_PRESETS: dict[str, DetectorPreset] = {
    p.name: p
    for p in (
        _system(
            "system1",
            "mef6-7m",
            "System 1 (MEF6-7m): six streams, every checkpoint trained on the 7 dev machines",
            "7m",
            "7m",
            MEF6_WEIGHTS,
        ),
        _system(
            "system2",
            "mef6-12m",
            "System 2 (MEF6-12m): BEATs, CLAP-LoRA and AST trained on all 12 machines "
            "(CLAP, WavLM heads shared, 7 dev machines)",
            "12m",
            "12m",
            MEF6_WEIGHTS,
        ),
        _system(
            "system3",
            "mef6-hyb",
            "System 3 (MEF6-hyb): BEATs LoRA from 7-machine training, CLAP-LoRA and AST "
            "from 12-machine training (CLAP, WavLM heads shared, 7 dev machines)",
            "7m",
            "12m",
            MEF6_WEIGHTS,
        ),
        _system(
            "system4",
            "mef5-7m",
            "System 4 (MEF5-7m): the System-1 checkpoints with the second weight set (reduced AST contribution)",
            "7m",
            "7m",
            MEF5_WEIGHTS,
        ),
    )
}
_ALIASES = {p.alias: p.name for p in _PRESETS.values()}
_REMOVED = {
    "mef6-hybrid": "it routed machines between 7- and 12-machine streams; the report's System 3 is 'system3' "
    "(alias 'mef6-hyb'), six streams on every machine",
    "mef6-ens": "it fused twelve streams; the report's System 4 is 'system4' (alias 'mef5-7m'), six 7-machine "
    "streams with the second weight set",
}


def preset_names() -> list[str]:
    """Preset names (``system1`` … ``system4``) followed by their aliases (``mef6-7m`` …)."""
    return [*_PRESETS, *_ALIASES]


def is_preset_name(name: Any) -> bool:
    """Whether ``name`` is a preset name, an alias or a removed preset name (case-insensitive)."""
    key = str(name).strip().lower() if isinstance(name, str) else None
    return key is not None and (key in _PRESETS or key in _ALIASES or key in _REMOVED)


def preset(name: str) -> DetectorPreset:
    """The :class:`DetectorPreset` named ``name`` (``"system3"``, ``"mef6-hyb"`` …, case-insensitive)."""
    if not isinstance(name, str):
        raise TypeError(f"preset name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key in _REMOVED:
        raise ValueError(f"detector preset {name!r} was removed: {_REMOVED[key]}")
    key = _ALIASES.get(key, key)
    if key not in _PRESETS:
        raise ValueError(f"unknown detector preset {name!r}; known: {', '.join(preset_names())}")
    return _PRESETS[key]
