"""FISHER model configuration: architecture *and* preprocessing constants in one JSON-serialisable record."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from fisher.recipe.framing import parse_summary

__all__ = ["PRESETS", "SPEC_MEAN", "SPEC_STD", "SPEC_STD_COEFF", "FisherConfig", "check_positive_ints"]

# Log-magnitude normalisation of the official release: (s - MEAN) / (STD * COEFF).
SPEC_MEAN = -3.017344307886898
SPEC_STD = 2.1531635155379805
SPEC_STD_COEFF = 2.0

# Per-scale hyper-parameters of the official tiny / mini / small models (depth 12).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"embed_dim": 192, "num_heads": 3, "band_width": 100},
    "mini": {"embed_dim": 256, "num_heads": 4, "band_width": 100},
    "small": {"embed_dim": 384, "num_heads": 6, "band_width": 50},
}


def check_positive_ints(record: Any, names: tuple[str, ...], message: str) -> None:
    """Raise ``ValueError`` unless every field ``names`` of ``record`` is a positive ``int`` (``bool`` is refused).

    Args:
        record: a config object (read with ``getattr``).
        names: the field names to check, in order (the first bad one is reported).
        message: the error message, a ``str.format`` template with ``{name}`` and ``{value!r}``.
    """
    for name in names:
        value = getattr(record, name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(message.format(name=name, value=value))


@dataclass
class FisherConfig:
    """Everything needed to rebuild a FISHER encoder and feed it correctly.

    Architecture: ``embed_dim`` D, ``depth`` post-norm blocks, ``num_heads``, MLP width ``mlp_ratio * D``,
    ``patch_size`` square patches over (time, frequency), ``band_width`` STFT bins per sub-band, a fixed sin-cos
    positional table of ``max_length * max_freq`` rows (its first N rows are added to the N patch tokens).

    Output: ``summary``, the default per-band summary of :meth:`fisher.Fisher.embed` (``"cls"``, the paper's).

    Preprocessing: STFT window / hop in milliseconds (floored to samples), log-magnitude normalisation
    ``(log(|X| + 1e-10) - spec_mean) / (spec_std * spec_std_coeff)``, at most ``max_frames`` frames per window.
    """

    embed_dim: int = 384
    depth: int = 12
    num_heads: int = 6
    band_width: int = 50
    mlp_ratio: float = 4.0
    patch_size: int = 16
    norm_eps: float = 1e-6
    max_length: int = 128
    max_freq: int = 50
    max_frames: int = 1024
    win_ms: float = 25.0
    hop_ms: float = 10.0
    spec_mean: float = SPEC_MEAN
    spec_std: float = SPEC_STD
    spec_std_coeff: float = SPEC_STD_COEFF
    summary: str = "cls"  # default per-band summary of embed(): "cls" (paper), "mean", "freq" or e.g. "cls+mean"
    extra: dict[str, Any] = field(default_factory=dict)  # free-form provenance (e.g. source checkpoint)

    def __post_init__(self) -> None:
        check_positive_ints(
            self,
            ("embed_dim", "depth", "num_heads", "band_width", "patch_size", "max_length", "max_freq", "max_frames"),
            "FisherConfig.{name} must be a positive integer, got {value!r}",
        )
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")
        if self.embed_dim % 4:
            raise ValueError(f"embed_dim must be a multiple of 4 for the 2-D sin-cos table, got {self.embed_dim}")
        if self.band_width < self.patch_size:
            raise ValueError(f"band_width {self.band_width} is narrower than one patch ({self.patch_size} bins)")
        if self.max_frames < self.patch_size:
            raise ValueError(f"max_frames {self.max_frames} is shorter than one patch ({self.patch_size} frames)")
        self.summary = "+".join(parse_summary(self.summary))  # canonical order: "mean+cls" -> "cls+mean"
        if self.mlp_ratio <= 0 or self.norm_eps <= 0 or self.spec_std <= 0 or self.spec_std_coeff <= 0:
            raise ValueError("mlp_ratio, norm_eps, spec_std and spec_std_coeff must be positive")

    @property
    def mlp_dim(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    @property
    def freq_patches(self) -> int:
        """Patches per band along frequency (6 for width 100, 3 for width 50)."""
        return self.band_width // self.patch_size

    @property
    def max_tokens(self) -> int:
        """Patch tokens of a full window (384 for width 100, 192 for width 50)."""
        return (self.max_frames // self.patch_size) * self.freq_patches

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> FisherConfig:
        """The official hyper-parameters of ``"tiny" | "mini" | "small"`` (depth 12), with optional overrides."""
        if name not in PRESETS:
            raise ValueError(f"unknown FISHER scale {name!r}; allowed: {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], "depth": 12, **overrides})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FisherConfig:
        """Build from a dict; unknown keys raise so that a typo never passes silently."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names - {"model_type", "library_version"})
        if unknown:
            raise ValueError(f"unknown FisherConfig keys: {unknown}; allowed: {sorted(names)}")
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self) -> str:
        return json.dumps({"model_type": "fisher", **self.to_dict()}, indent=2, sort_keys=True)
