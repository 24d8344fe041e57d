"""Registry of pretrained FISHER models: one record per model with its weight source *and* preprocessing.

Two kinds of record:

* the official releases ``tiny`` / ``mini`` / ``small`` — weights on the Hugging Face hub (downloaded once, then
  cached);
* ``demo`` — a small FISHER-architecture model **we** pretrained on CPU on the shared development corpus. Its
  weights ship inside the package (``fisher/pretrained/demo``), so it loads offline. It is *not* an official
  FISHER model (see its ``description``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fisher.recipe.fisher_config import FisherConfig

__all__ = ["ModelList", "PretrainedRecord", "get_record", "list_models", "packaged_path"]


@dataclass(frozen=True)
class PretrainedRecord:
    """A pretrained FISHER model.

    Attributes:
        name: short name accepted by ``Fisher.from_pretrained`` (``"tiny"``, ``"mini"``, ``"small"``, ``"demo"``).
        hub_repo: Hugging Face repository of the official weights (``None`` for a packaged model).
        config: architecture and preprocessing constants (STFT window/hop in ms, normalisation mean/std,
            band width in bins, maximum frames per window).
        params: parameter count (trainable + the fixed positional table).
        paper_size: the size quoted in the FISHER paper (``"-"`` for models not in the paper).
        package_dir: folder inside the ``fisher`` package holding ``config.json`` + ``model.safetensors`` of a
            model that ships with the library (``None`` for hub models).
        official: whether the weights are the FISHER authors' release.
        description: what the model is, in plain words (data, steps, training config for our own models).
        revision: the pinned Hugging Face commit of ``hub_repo`` (``None``: no known revision, the default branch
            is used). Pinning makes ``Fisher.from_pretrained("tiny")`` reproducible even if the repo changes.
    """

    name: str
    hub_repo: str | None
    config: FisherConfig
    params: int
    paper_size: str
    package_dir: str | None = None
    official: bool = True
    description: str = ""
    revision: str | None = None

    @property
    def source(self) -> str:
        """Where the weights come from: the hub repository or ``package:<folder>``."""
        return self.hub_repo if self.hub_repo else f"package:{self.package_dir}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["config"] = self.config.to_dict()
        return data


class ModelList(list):
    """A list of :class:`PretrainedRecord` that also answers ``"name" in models``."""

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(r.name == item for r in self)
        return list.__contains__(self, item)

    def names(self) -> list[str]:
        return [r.name for r in self]


DEMO_CONFIG = FisherConfig.preset("tiny", depth=6, embed_dim=128, num_heads=2, summary="freq")
DEMO_DESCRIPTION = (
    "NOT the official FISHER weights. A small FISHER-architecture encoder (depth 6, width 128, 2 heads, band width "
    "100, 2.04 M values incl. the fixed positional table, 8.2 MB) that fisher-signal pretrained itself on CPU with "
    "its own implementation of the FISHER recipe (EMA teacher-student distillation, inverse block masking, "
    "L = L_band + L_patch) and the CLS fixes of docs/pretraining.md (layer-mean band targets standardised by "
    "running statistics, a linear CLS head, mean-reduced band loss, random 5 s crops, +-6 dB gain): 3200 steps of "
    "8 signals (5.3x the former demo's 1200 x 4; paper: 400k steps of 4 x 24), 33 min on 1 CPU thread. Data: all "
    "eight sources of the shared development corpus, unlabelled (56 min): UAV propellers (31 min), CWRU 12 kHz "
    "(6.2 min) and 48 kHz (0.9 min) drive-end bearings, MFPT (1.9 min) and IMS (0.9 min) bearings, motor current "
    "(5.4 min), DCASE 2020 machine ID 00 (5.2 min) and DCASE 2023 dev (4.9 min). Config: "
    "configs/pretrain/demo-cpu.yaml (copied next to the weights as pretrain_config.json). Default per-band summary: "
    f"{DEMO_CONFIG.summary!r}, the time-pooled grid of frequency patches (6 x 128 = 768 values per band), chosen by "
    "the leave-one-source-out protocol of docs/pretraining.md, where it beats log-STFT and random weights on "
    "held-out sources; embed(..., summary='cls') gives the paper's CLS output, which did not yet transfer."
)

# Pinned revisions: the commits of the official repos known to this project (FISHER-mini: none known, unpinned).
_RECORDS = {
    "tiny": PretrainedRecord(
        "tiny",
        "jiangab/FISHER-tiny-0723",
        FisherConfig.preset("tiny"),
        6_617_088,
        "5.5M",
        revision="f9ac81c66b13f97386e4e39b1777e64ba4c98459",
    ),
    "mini": PretrainedRecord(
        "mini", "jiangab/FISHER-mini-0723", FisherConfig.preset("mini"), 11_182_080, "10M", revision=None
    ),
    "small": PretrainedRecord(
        "small",
        "jiangab/FISHER-small-0723",
        FisherConfig.preset("small"),
        23_851_008,
        "22M",
        revision="c21d26b6a2f0593ddeea23871d66b76899c07280",
    ),
    "demo": PretrainedRecord(
        "demo",
        None,
        DEMO_CONFIG,
        2_042_112,
        "-",
        package_dir="pretrained/demo",
        official=False,
        description=DEMO_DESCRIPTION,
    ),
}


def list_models() -> ModelList:
    """All pretrained FISHER records: the official ones smallest first, then the packaged ``demo``.

    ``"demo" in fisher.list_models()`` works (names are accepted by ``in``).
    """
    return ModelList(_RECORDS.values())


def get_record(name: str) -> PretrainedRecord:
    """The record of ``name``; ``ValueError`` listing the known names otherwise."""
    try:
        return _RECORDS[name]
    except KeyError:
        raise ValueError(f"unknown pretrained FISHER model {name!r}; known: {', '.join(_RECORDS)}") from None


def packaged_path(record: PretrainedRecord) -> Path:
    """The installed folder of a packaged model; ``FileNotFoundError`` if the package lacks its files."""
    if record.package_dir is None:
        raise ValueError(f"{record.name!r} is not a packaged model (its weights are on the hub: {record.hub_repo})")
    path = Path(__file__).resolve().parents[1] / record.package_dir  # fisher/<package_dir>
    if not (path / "model.safetensors").is_file() or not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"the packaged model {record.name!r} is missing from this installation (expected config.json and "
            f"model.safetensors in {path}); reinstall fisher-signal from a wheel or sdist that includes "
            "fisher/pretrained"
        )
    return path
