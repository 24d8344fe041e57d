"""Registry of pretrained FISHER models: one record per model with its weight source *and* preprocessing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fisher.model.config import FisherConfig

__all__ = ["PretrainedRecord", "get_record", "list_models"]


@dataclass(frozen=True)
class PretrainedRecord:
    """A released FISHER model.

    Attributes:
        name: short name accepted by ``Fisher.from_pretrained`` (``"tiny"``, ``"mini"``, ``"small"``).
        hub_repo: Hugging Face repository of the official weights.
        config: architecture and preprocessing constants (STFT window/hop in ms, normalisation mean/std,
            band width in bins, maximum frames per window).
        params: parameter count at full depth (trainable + the fixed positional table).
        paper_size: the size quoted in the FISHER paper.
    """

    name: str
    hub_repo: str
    config: FisherConfig
    params: int
    paper_size: str

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["config"] = self.config.to_dict()
        return data


_RECORDS = {
    "tiny": PretrainedRecord("tiny", "jiangab/FISHER-tiny-0723", FisherConfig.preset("tiny"), 6_617_088, "5.5M"),
    "mini": PretrainedRecord("mini", "jiangab/FISHER-mini-0723", FisherConfig.preset("mini"), 11_182_080, "10M"),
    "small": PretrainedRecord("small", "jiangab/FISHER-small-0723", FisherConfig.preset("small"), 23_851_008, "22M"),
}


def list_models() -> list[PretrainedRecord]:
    """All pretrained FISHER records, smallest first."""
    return list(_RECORDS.values())


def get_record(name: str) -> PretrainedRecord:
    """The record of ``name``; ``ValueError`` listing the known names otherwise."""
    try:
        return _RECORDS[name]
    except KeyError:
        raise ValueError(f"unknown pretrained FISHER model {name!r}; known: {', '.join(_RECORDS)}") from None
