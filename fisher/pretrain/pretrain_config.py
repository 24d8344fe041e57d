"""Pretraining configuration: one dataclass per concern, read from YAML or JSON.

Every section and key is listed in ``docs/pretraining.md``. Unknown keys raise ``ValueError`` (a typo never passes
silently); ``None`` for an ``auto`` field means "derive it from the model" (see each field).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fisher.recipe.fisher_config import FisherConfig

__all__ = [
    "DataSection",
    "DecoderSection",
    "EmaSection",
    "LossSection",
    "MaskingSection",
    "ModelSection",
    "OptimSection",
    "PretrainConfig",
    "TargetSection",
    "TrainSection",
]


@dataclass
class ModelSection:
    """Student architecture: a preset (``tiny|mini|small``) plus ``FisherConfig`` overrides, or ``init`` =
    a checkpoint (directory / name accepted by ``Fisher.from_pretrained``) to continue pretraining from."""

    preset: str | None = "tiny"
    overrides: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    init_std: float | None = 0.02  # EAT: Linear weights N(0, 0.02), biases 0; None = ours (xavier)
    cls_init_std: float = 1.0  # EAT: the CLS token ~ N(0, 1) (init_extra_token_zero=False; also our 0.2 behaviour)

    def fisher_config(self) -> FisherConfig:
        if self.preset is None:
            return FisherConfig(**self.overrides)
        return FisherConfig.preset(self.preset, **self.overrides)


@dataclass
class MaskingSection:
    """Inverse block masking: ``mask_ratio`` of the patches are hidden from the student; the visible ones are grown
    as ``block × block`` patch squares. ``block=None``: 5 when a band has ≥ 5 frequency patches (tiny, mini), else 2
    (small). ``max_bands_per_sample=None``: 6400 // band_width (64 for width 100, 128 for width 50)."""

    mask_ratio: float = 0.8
    block: int | None = None
    adjust: float = 0.07
    max_bands_per_sample: int | None = None
    noise_std: float = 0.01


@dataclass
class DecoderSection:
    """Light CNN decoder over the (time, frequency) patch grid (EAT-style)."""

    dim: int = 384
    layers: int = 5
    kernel: int = 5
    groups: int = 16
    dropout: float = 0.1


@dataclass
class TargetSection:
    """Teacher targets: average of the top ``top_k`` blocks' FFN outputs (``None`` = all blocks); the band target
    (``patch_mean`` | ``layer_mean``) and its standardisation (``none`` | ``batch`` | ``running``)."""

    top_k: int | None = None
    instance_norm_layers: bool = True
    layer_norm: bool = True
    band_target: str = "patch_mean"  # EAT; "layer_mean" = ours (fisher.pretrain.targets)
    band_norm: str = "none"  # EAT; "running" / "batch" = ours (fisher.pretrain.band_head)
    band_norm_momentum: float = 0.99


@dataclass
class LossSection:
    """``L = band_weight·L_band + patch_weight·L_patch``; ``band_reduction`` ``"sum"`` (EAT's effective weighting:
    the band term summed over the batch's cloned band sequences) or ``"mean"``; ``cls_head`` ``"none"`` (EAT) or
    ``"linear"``."""

    patch_weight: float = 1.0
    band_weight: float = 1.0
    band_reduction: str = "sum"
    cls_head: str = "none"  # EAT; "linear" = ours: Linear(D, D) on the student CLS (fisher.pretrain.band_head)


@dataclass
class EmaSection:
    """Teacher decay annealed linearly from ``decay`` to ``end_decay`` over ``anneal_steps`` (``None`` = all)."""

    decay: float = 0.9998
    end_decay: float = 0.99999
    anneal_steps: int | None = 100000


@dataclass
class OptimSection:
    """AdamW with linear warm-up to ``lr`` then cosine decay to ``min_lr``."""

    lr: float = 5e-4
    min_lr: float = 1e-6
    warmup_steps: int = 100
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    clip_grad: float | None = 4.0
    cls_weight_decay: bool = True  # EAT: the CLS token (a 3-D parameter there) is weight-decayed; 1-D params are not


@dataclass
class DataSection:
    """Signal sources and batching. ``sources``: files (wav/flac/npz), directories (searched recursively), glob
    patterns or CSV manifests with a ``path`` column. ``rates=None``: ``2·k·f_base`` up to ``f_max``."""

    sources: list[str] = field(default_factory=list)
    batch_size: int = 8
    crop_frames: int = 1024
    min_frames: int = 64
    rates: list[int] | None = None
    rate_set: str = "paper"
    f_max: int = 32000
    npz_sr: float | None = None
    gain_db: float = 0.0  # ours: random gain of each crop, uniform in ±gain_db dB (0 = off)
    num_workers: int = 0
    prefetch: int = 2


@dataclass
class TrainSection:
    steps: int = 1000
    accumulate: int = 1
    out_dir: str = "runs/pretrain"
    seed: int = 0
    log_every: int = 10
    diag_every: int = 0  # collapse diagnostics on a fixed batch every N steps (0 = off); see docs/pretraining.md
    validation: str | None = None  # CSV manifest (path, label, recording_id) of labelled clips for the k-NN probe
    validation_datasets: list[str] | None = None  # keep only these ``dataset`` values of the manifest
    ckpt_every: int = 500
    keep_last: int = 2
    precision: str = "auto"
    device: str = "auto"
    threads: int | None = None
    resume: str | None = "auto"


_SECTIONS = {
    "model": ModelSection,
    "masking": MaskingSection,
    "decoder": DecoderSection,
    "targets": TargetSection,
    "loss": LossSection,
    "ema": EmaSection,
    "optim": OptimSection,
    "data": DataSection,
    "train": TrainSection,
}


def _section(cls: type, data: Any, name: str) -> Any:
    if not isinstance(data, dict):
        raise TypeError(f"config section {name!r} must be a mapping, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown keys in config section {name!r}: {unknown}; allowed: {sorted(names)}")
    if "betas" in data:
        data = {**data, "betas": tuple(data["betas"])}
    return cls(**data)


@dataclass
class PretrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    masking: MaskingSection = field(default_factory=MaskingSection)
    decoder: DecoderSection = field(default_factory=DecoderSection)
    targets: TargetSection = field(default_factory=TargetSection)
    loss: LossSection = field(default_factory=LossSection)
    ema: EmaSection = field(default_factory=EmaSection)
    optim: OptimSection = field(default_factory=OptimSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)

    def __post_init__(self) -> None:
        m, o, d, t = self.masking, self.optim, self.data, self.train
        if not 0.0 < m.mask_ratio < 1.0:
            raise ValueError(f"masking.mask_ratio must be in (0, 1), got {m.mask_ratio}")
        checks = {
            "data.batch_size": d.batch_size,
            "data.crop_frames": d.crop_frames,
            "train.steps": t.steps,
            "train.accumulate": t.accumulate,
            "train.log_every": t.log_every,
            "train.ckpt_every": t.ckpt_every,
            "decoder.dim": self.decoder.dim,
            "decoder.layers": self.decoder.layers,
            "data.min_frames": d.min_frames,
        }
        for name, value in checks.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if d.min_frames < 32:
            raise ValueError(f"data.min_frames must be >= 32 (two time patches), got {d.min_frames}")
        if self.decoder.kernel % 2 == 0:
            raise ValueError(f"decoder.kernel must be odd (same-size padding), got {self.decoder.kernel}")
        if o.lr <= 0 or o.min_lr < 0 or o.min_lr > o.lr or o.warmup_steps < 0:
            raise ValueError("optim needs lr > 0, 0 <= min_lr <= lr and warmup_steps >= 0")
        if not 0.0 <= self.ema.decay <= 1.0 or not 0.0 <= self.ema.end_decay <= 1.0:
            raise ValueError("ema.decay and ema.end_decay must lie in [0, 1]")
        from fisher.pretrain.band_head import BAND_NORMS, CLS_HEADS
        from fisher.pretrain.targets import BAND_TARGETS

        if self.targets.band_target not in BAND_TARGETS:
            raise ValueError(f"targets.band_target must be one of {BAND_TARGETS}, got {self.targets.band_target!r}")
        if self.targets.band_norm not in BAND_NORMS:
            raise ValueError(f"targets.band_norm must be one of {BAND_NORMS}, got {self.targets.band_norm!r}")
        if not 0.0 <= self.targets.band_norm_momentum < 1.0:
            raise ValueError(f"targets.band_norm_momentum must be in [0, 1), got {self.targets.band_norm_momentum!r}")
        if self.loss.cls_head not in CLS_HEADS:
            raise ValueError(f"loss.cls_head must be one of {CLS_HEADS}, got {self.loss.cls_head!r}")
        if not 0.0 <= d.gain_db <= 40.0:
            raise ValueError(f"data.gain_db must be in [0, 40] dB, got {d.gain_db!r}")
        if isinstance(t.diag_every, bool) or not isinstance(t.diag_every, int) or t.diag_every < 0:
            raise ValueError(f"train.diag_every must be an integer >= 0, got {t.diag_every!r}")
        if not self.model.cls_init_std > 0:
            raise ValueError(f"model.cls_init_std must be > 0, got {self.model.cls_init_std!r}")
        if self.loss.band_reduction not in ("sum", "mean"):
            raise ValueError(f"loss.band_reduction must be 'sum' or 'mean', got {self.loss.band_reduction!r}")
        if d.rate_set not in ("paper", "whole_band"):
            raise ValueError(f"data.rate_set must be 'paper' or 'whole_band', got {d.rate_set!r}")
        if isinstance(d.num_workers, bool) or not isinstance(d.num_workers, int) or d.num_workers < 0:
            raise ValueError(f"data.num_workers must be an integer >= 0, got {d.num_workers!r}")
        if self.model.init_std is not None and not self.model.init_std > 0:
            raise ValueError(f"model.init_std must be > 0 or null, got {self.model.init_std!r}")
        if t.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ValueError(f"train.precision must be auto|fp32|bf16|fp16, got {t.precision!r}")
        self.model.fisher_config()  # validates the architecture early

    # ------------------------------------------------------------------ derived values
    def block_size(self, fc: FisherConfig) -> int:
        return self.masking.block or (5 if fc.freq_patches >= 5 else 2)

    def max_bands(self, fc: FisherConfig) -> int:
        return self.masking.max_bands_per_sample or max(1, 6400 // fc.band_width)

    # ------------------------------------------------------------------ io
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PretrainConfig:
        if not isinstance(data, dict):
            raise TypeError(f"a pretraining config must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_SECTIONS))
        if unknown:
            raise ValueError(f"unknown config sections {unknown}; allowed: {sorted(_SECTIONS)}")
        return cls(**{k: _section(_SECTIONS[k], v or {}, k) for k, v in data.items()})

    @classmethod
    def load(cls, path: str | Path) -> PretrainConfig:
        """Read ``.yaml`` / ``.yml`` (needs PyYAML) or ``.json``. Data sources may use ``~`` and ``${VAR}``
        (e.g. ``${FISHER_SHARED}/data``), and so may ``train.validation``; relative ones resolve against the file's
        folder."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as err:  # pragma: no cover - depends on the environment
                raise ImportError("reading YAML configs needs PyYAML (pip install pyyaml); or use JSON") from err
            data = yaml.safe_load(text) or {}
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise ValueError(f"config must be .yaml, .yml or .json, got {path.name}")
        cfg = cls.from_dict(data)
        sources = [os.path.expandvars(os.path.expanduser(s)) for s in cfg.data.sources]
        unset = [s for s in sources if "$" in s]
        if unset:
            raise ValueError(f"data.sources of {path} use unset environment variables: {unset}")
        cfg.data.sources = [s if Path(s).is_absolute() else str(path.parent / s) for s in sources]
        if cfg.train.validation:
            v = os.path.expandvars(os.path.expanduser(cfg.train.validation))
            if "$" in v:
                raise ValueError(f"train.validation of {path} uses an unset environment variable: {v}")
            cfg.train.validation = v if Path(v).is_absolute() else str(path.parent / v)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["optim"]["betas"] = list(self.optim.betas)
        return out
