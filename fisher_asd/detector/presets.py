"""Named detector presets: the six-stream MEF system and its four submitted variants (System 1–4).

What comes from the report (``asd.md``): the six streams (:data:`fisher_asd.streams.mef.STREAMS`), their fusion weights
0.19 / 0.23 / 0.23 / 0.10 / 0.15 / 0.10 (CLAP, WavLM, BEATs r16, BEATs r32, CLAP LoRA, AST — assigned in the order of
the stream table), k = 5, rank normalisation, and checkpoints trained on 7 machines, on 12 machines, and a hybrid.
What is **our mapping** (the report's per-system table is not in the spec; documented in ``docs/detector.md``):

========== =============== ==================================================================================
preset     alias           definition
========== =============== ==================================================================================
mef6-7m    system1         six streams trained on the 7 DCASE 2026 dev machines
mef6-12m   system2         six streams trained on all 12 machines (dev + additional training machines)
mef6-hybrid system3        twelve streams: the 7-machine set scores the 7 dev machines, the 12-machine set every
                           other machine (routing; six active streams per machine, renormalised to the weights above)
mef6-ens   system4         twelve streams: both sets score every machine, each weight halved (sum 1)
========== =============== ==================================================================================

Backbones default to the hub ids below; BEATs has no hub release, so ``backbones={"beats": path}`` is required.
"""

from __future__ import annotations

from typing import Any

from .config import StreamConfig
from .fusion import MEF6_WEIGHTS

__all__ = ["DCASE2026_DEV", "DCASE2026_EXTRA", "DEFAULT_BACKBONES", "PRESETS", "preset", "preset_names"]

#: DCASE 2026 Task 2 development machines (``asd.md`` §5).
DCASE2026_DEV = ("ToyCar", "ToyCarEmu", "bearingEmu", "fan", "gearboxEmu", "sliderEmu", "valveEmu")
#: Additional training / evaluation machines of DCASE 2026 (``asd.md`` §5).
DCASE2026_EXTRA = ("ToyDrone", "ToothBrush", "SewingMachine", "BlowerDustCollector", "Sander")

DEFAULT_BACKBONES: dict[str, str | None] = {
    "clap": "laion/clap-htsat-unfused",
    "wavlm": "microsoft/wavlm-base",
    "ast": "MIT/ast-finetuned-audioset-10-10-0.4593",
    "beats": None,  # BEATs_iter3_plus_AS2M.pt (microsoft/unilm release), a local path
}
_ENCODER = {"clap": "clap", "wavlm": "wavlm", "beats_r16": "beats", "beats_r32": "beats", "clap_lora": "clap",
            "ast": "ast"}  # fmt: skip
_ALL12 = DCASE2026_DEV + DCASE2026_EXTRA


def _six(suffix: str = "", *, scope: tuple[str, ...], route: tuple[str, ...] | None = None,
         exclude: bool = False) -> list[StreamConfig]:  # fmt: skip
    return [
        StreamConfig(name=f"{m}{suffix}", encoder=_ENCODER[m], location=DEFAULT_BACKBONES[_ENCODER[m]], mef=m,
                     train_machines=list(scope), route=list(route) if route else None, route_exclude=exclude)
        for m in MEF6_WEIGHTS
    ]  # fmt: skip


def _weights(suffixes: tuple[str, ...], share: float) -> dict[str, float]:
    return {f"{m}{s}": w * share for s in suffixes for m, w in MEF6_WEIGHTS.items()}


PRESETS: dict[str, dict[str, Any]] = {
    "mef6-7m": {
        "alias": "system1",
        "description": "System 1: six streams trained on the 7 DCASE 2026 dev machines",
        "streams": lambda: _six(scope=DCASE2026_DEV),
        "weights": lambda: _weights(("",), 1.0),
    },
    "mef6-12m": {
        "alias": "system2",
        "description": "System 2: six streams trained on all 12 DCASE 2026 machines",
        "streams": lambda: _six(scope=_ALL12),
        "weights": lambda: _weights(("",), 1.0),
    },
    "mef6-hybrid": {
        "alias": "system3",
        "description": "System 3: 7-machine streams for the dev machines, 12-machine streams for the others",
        "streams": lambda: _six("@7m", scope=DCASE2026_DEV, route=DCASE2026_DEV)
        + _six("@12m", scope=_ALL12, route=DCASE2026_DEV, exclude=True),
        "weights": lambda: _weights(("@7m", "@12m"), 0.5),
    },
    "mef6-ens": {
        "alias": "system4",
        "description": "System 4: 7-machine and 12-machine streams fused on every machine, weights halved",
        "streams": lambda: _six("@7m", scope=DCASE2026_DEV) + _six("@12m", scope=_ALL12),
        "weights": lambda: _weights(("@7m", "@12m"), 0.5),
    },
}
_ALIASES = {p["alias"]: name for name, p in PRESETS.items()}


def preset_names() -> list[str]:
    """Preset names followed by their ``systemN`` aliases."""
    return [*PRESETS, *_ALIASES]


def preset(name: str) -> dict[str, Any]:
    """``{"name", "description", "streams": [StreamConfig], "weights": {stream: w}, "settings": {...}}``."""
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in PRESETS:
        raise ValueError(f"unknown detector preset {name!r}; known: {', '.join(preset_names())}")
    p = PRESETS[key]
    return {
        "name": key,
        "description": p["description"],
        "streams": p["streams"](),
        "weights": p["weights"](),
        "settings": {"k": 5, "rank_norm": "transductive", "train_heads": True},
    }
