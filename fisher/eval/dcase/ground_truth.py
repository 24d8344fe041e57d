"""Ground truth for anonymised DCASE evaluation clips (the organisers' ``eval_data_list_<year>.csv`` format).

The file is a sequence of blocks: a line holding only a machine type, then rows
``anonymised_name,descriptive_name[,label]`` (2020 rows carry the 0/1 label in a third column; 2025 descriptive names
may lack ``.wav``). Section, domain and label are taken from the descriptive name (or the label column). Anonymised
names repeat across machines, so look-ups are per machine and accept either name.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from fisher.eval.dcase.names import parse_clip_name

__all__ = ["GroundTruth", "GroundTruthEntry", "read_ground_truth"]


@dataclass(frozen=True)
class GroundTruthEntry:
    """One evaluation clip: ``machine``, ``name`` (anonymised), ``descriptive`` name, ``section``, ``domain``
    ("source"/"target"), ``label`` (1 anomaly, 0 normal)."""

    machine: str
    name: str
    descriptive: str
    section: int
    domain: str
    label: int


def _norm(name: str) -> str:
    base = Path(name.strip()).name
    return base[:-4] if base.lower().endswith(".wav") else base


class GroundTruth:
    """Look-up table ``(machine, clip name) -> GroundTruthEntry`` (anonymised or descriptive, ``.wav`` optional)."""

    def __init__(self, entries: list[GroundTruthEntry]) -> None:
        if not entries:
            raise ValueError("the ground truth has no entries")
        self.entries = list(entries)
        self._index: dict[tuple[str, str], GroundTruthEntry] = {}
        for e in self.entries:
            for name in {_norm(e.name), _norm(e.descriptive)}:
                other = self._index.get((e.machine, name))
                if other is not None and other != e:
                    raise ValueError(f"ground truth: clip name {name!r} of machine {e.machine!r} appears twice")
                self._index[(e.machine, name)] = e

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def machines(self) -> list[str]:
        return sorted({e.machine for e in self.entries})

    def get(self, machine: str, name: str) -> GroundTruthEntry | None:
        """The entry of ``name`` for ``machine`` or ``None``."""
        return self._index.get((machine, _norm(name)))

    def sections(self, machine: str, section: int) -> list[GroundTruthEntry]:
        """All entries of one machine and section."""
        return [e for e in self.entries if e.machine == machine and e.section == section]


def read_ground_truth(path: str | Path) -> GroundTruth:
    """Parse an ``eval_data_list`` CSV. Raises ``ValueError`` with the line number for malformed rows."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ground-truth file not found: {path}")
    entries = []
    machine = None
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for line, cells in enumerate(csv.reader(fh), start=1):
            cells = [c.strip() for c in cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            if len(cells) == 1:
                machine = cells[0]
                continue
            if machine is None:
                raise ValueError(f"{path}, line {line}: clip row before the first machine-type line")
            if len(cells) > 3:
                raise ValueError(f"{path}, line {line}: expected 'anonymised,descriptive[,label]', got {cells}")
            anon, desc = cells[0], cells[1]
            try:
                info = parse_clip_name(desc if desc.lower().endswith(".wav") else desc + ".wav")
            except ValueError as err:
                raise ValueError(f"{path}, line {line}: {err}") from None
            label = info.label
            if len(cells) == 3:
                if cells[2] not in ("0", "1"):
                    raise ValueError(f"{path}, line {line}: label must be 0 or 1, got {cells[2]!r}")
                if label is not None and label != int(cells[2]):
                    raise ValueError(f"{path}, line {line}: label column {cells[2]} contradicts the name {desc!r}")
                label = int(cells[2])
            if label is None or info.domain is None:
                raise ValueError(f"{path}, line {line}: {desc!r} does not reveal label and domain")
            entries.append(GroundTruthEntry(machine, anon, desc, info.section, info.domain, label))
    return GroundTruth(entries)
