"""Registry of pretrained FISHER models: one record per model with its weight source *and* preprocessing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from fisher.config import FisherConfig

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
        revision: the pinned Hugging Face commit of ``hub_repo`` (``None``: no known revision, the default branch
            is used). Pinning makes ``Fisher.from_pretrained("tiny")`` reproducible even if the repo changes.
    """

    name: str
    hub_repo: str
    config: FisherConfig
    params: int
    paper_size: str
    revision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["config"] = self.config.to_dict()
        return data


# Pinned revisions: the commits of the official repos known to this project (FISHER-mini: none known, unpinned).
_RECORDS = {
    "tiny": PretrainedRecord("tiny", "jiangab/FISHER-tiny-0723", FisherConfig.preset("tiny"), 6_617_088, "5.5M",
                             revision="f9ac81c66b13f97386e4e39b1777e64ba4c98459"),
    "mini": PretrainedRecord("mini", "jiangab/FISHER-mini-0723", FisherConfig.preset("mini"), 11_182_080, "10M",
                             revision=None),
    "small": PretrainedRecord("small", "jiangab/FISHER-small-0723", FisherConfig.preset("small"), 23_851_008, "22M",
                              revision="c21d26b6a2f0593ddeea23871d66b76899c07280"),
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
