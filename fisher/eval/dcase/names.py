"""DCASE Task 2 file names: clip names and score-file names.

Clip names (the stem is split on ``_``):

* 2020: ``<normal|anomaly>_id_<II>_<NNNNNNNN>.wav``; anonymised eval ``id_<II>_<NNNNNNNN>.wav``.
* 2021+: ``section_<SS>_<source|target>_<train|test>_<normal|anomaly>_<NNNN>[_<attr>...].wav``; anonymised eval
  ``section_<SS>_<source|target>_test_<NNNN>.wav`` (2021) or ``section_<SS>_<NNNN>.wav`` (2022+). If the domain /
  split / label tokens are not at their usual positions they are searched anywhere in the name (2025 variants).

Score files: ``anomaly_score_<machine>_id_<II>.csv`` (2020), ``anomaly_score_<machine>_section_<SS>_<domain>_test.csv``
(2021), ``anomaly_score_<machine>_section_<SS>_test.csv`` (2022+); ``decision_result_*`` likewise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

__all__ = [
    "ClipName",
    "ScoreFileName",
    "check_year",
    "clip_naming_hint",
    "is_2020_clip_name",
    "parse_clip_name",
    "parse_score_file_name",
    "score_file_name",
]

YEARS = tuple(range(2020, 2027))
DOMAINS = ("source", "target")
_KINDS = ("anomaly_score", "decision_result")
_EXT_RE = re.compile(r"\.(wav|flac|npy|npz|mat)$", re.IGNORECASE)


def check_year(year: object) -> int:
    """Validate a DCASE Task 2 year (2020-2026) and return it as ``int``."""
    if isinstance(year, bool) or not isinstance(year, (int, str)):
        raise TypeError(f"year must be an int such as 2024, got {type(year).__name__}")
    try:
        value = int(year)
    except ValueError:
        raise ValueError(f"year must be one of {YEARS[0]}..{YEARS[-1]}, got {year!r}") from None
    if value not in YEARS:
        raise ValueError(f"year must be one of {YEARS[0]}..{YEARS[-1]}, got {year!r}")
    return value


@dataclass(frozen=True)
class ClipName:
    """What a clip name reveals. ``None`` = not encoded (anonymised eval names hide domain and/or label).

    ``label`` is 1 for anomaly, 0 for normal; ``domain`` is "source" or "target" (2020 names: always "source").
    """

    name: str
    section: int
    domain: str | None = None
    split: str | None = None
    label: int | None = None
    index: str | None = None
    attributes: tuple[str, ...] = field(default=())

    @property
    def anonymised(self) -> bool:
        return self.label is None


def _find(tokens: list[str], options: tuple[str, ...], pos: int) -> str | None:
    if len(tokens) > pos and tokens[pos] in options:
        return tokens[pos]
    hits = [t for t in tokens if t in options]
    return hits[0] if hits else None


def parse_clip_name(name: str) -> ClipName:
    """Parse a DCASE clip file name (a path is fine; only the base name is used). Raises ``ValueError`` if unknown."""
    if not isinstance(name, str):
        raise TypeError(f"clip name must be a string, got {type(name).__name__}")
    base = PurePath(name).name
    stem = _EXT_RE.sub("", base)
    tokens = stem.split("_")
    try:
        if len(tokens) >= 4 and tokens[0] in ("normal", "anomaly") and tokens[1] == "id":  # 2020 descriptive
            return ClipName(base, int(tokens[2]), "source", None, int(tokens[0] == "anomaly"), tokens[3])
        if len(tokens) == 3 and tokens[0] == "id":  # 2020 anonymised
            return ClipName(base, int(tokens[1]), "source", None, None, tokens[2])
        if len(tokens) >= 3 and tokens[0] == "section":
            section = int(tokens[1])
            if len(tokens) == 3:  # 2022+ anonymised: section_SS_NNNN
                return ClipName(base, section, None, None, None, tokens[2])
            domain = _find(tokens, DOMAINS, 2)
            split = _find(tokens, ("train", "test"), 3)
            label_tok = _find(tokens, ("normal", "anomaly"), 4)
            label = None if label_tok is None else int(label_tok == "anomaly")
            if label is not None and len(tokens) > 5 and tokens[4] == label_tok:
                return ClipName(base, section, domain, split, label, tokens[5], tuple(tokens[6:]))
            return ClipName(base, section, domain, split, label, tokens[-1] if tokens[-1].isdigit() else None)
    except ValueError:
        pass
    raise ValueError(
        f"unknown DCASE clip name {base!r}: expected e.g. 'section_00_source_test_normal_0001_<attrs>.wav', "
        "'section_00_0001.wav' (anonymised), 'anomaly_id_00_00000001.wav' or 'id_00_00000001.wav' (2020)"
    )


# The clip naming of each convention, for error messages.
CLIP_PATTERN_2020 = "<normal|anomaly>_id_<II>_<NNNNNNNN>.wav"
CLIP_PATTERN_2021 = "section_<SS>_<source|target>_<train|test>_<normal|anomaly>_<NNNN>.wav"
CLIP_PATTERN_2022 = "section_<SS>_<source|target>_<train|test>_<normal|anomaly>_<NNNN>[_<attr>...].wav"


def is_2020_clip_name(name: str) -> bool:
    """Whether ``name`` follows the DCASE 2020 clip naming (``<normal|anomaly>_id_…`` or ``id_…``)."""
    tokens = _EXT_RE.sub("", PurePath(name).name).split("_")
    return (len(tokens) >= 4 and tokens[0] in ("normal", "anomaly") and tokens[1] == "id") or (
        len(tokens) == 3 and tokens[0] == "id"
    )


def clip_naming_hint(name: str, year: int) -> str | None:
    """``None`` if clip ``name`` fits ``year``'s naming, else what ``year`` expects and which ``--year`` fits ``name``."""
    base = PurePath(name).name
    old = is_2020_clip_name(base)
    if (year == 2020) == old:
        return None
    if old:
        expected = CLIP_PATTERN_2021 if year == 2021 else CLIP_PATTERN_2022
        return (
            f"{base!r} has the DCASE 2020 naming ({CLIP_PATTERN_2020}), but year {year} expects {expected}; "
            "these files match --year 2020"
        )
    return (
        f"{base!r} has the DCASE 2021+ naming (section_<SS>_...), but year 2020 expects {CLIP_PATTERN_2020}; these "
        "files match the --year of their dataset, 2021..2026"
    )


@dataclass(frozen=True)
class ScoreFileName:
    """Parsed score / decision file name. ``domain`` is set only for 2021 per-domain files."""

    kind: str
    machine: str
    section: int
    domain: str | None = None


_SCORE_RE = re.compile(
    r"^(?P<kind>anomaly_score|decision_result)_(?P<machine>.+?)_"
    r"(?:id_(?P<id>\d+)|section_(?P<section>\d+)(?:_(?P<domain>source|target))?_test)\.csv$"
)


def parse_score_file_name(name: str) -> ScoreFileName:
    """Parse ``anomaly_score_*`` / ``decision_result_*`` file names of any year. Raises ``ValueError`` if unknown."""
    base = PurePath(name).name
    m = _SCORE_RE.match(base)
    if m is None:
        raise ValueError(
            f"unknown score file name {base!r}: expected anomaly_score_<machine>_section_<SS>_test.csv (2022+), "
            "anomaly_score_<machine>_section_<SS>_<source|target>_test.csv (2021) or anomaly_score_<machine>_id_<II>.csv"
            " (2020)"
        )
    section = m["id"] if m["id"] is not None else m["section"]
    return ScoreFileName(m["kind"], m["machine"], int(section), m["domain"])


def score_file_name(
    machine: str, section: int, year: int, *, domain: str | None = None, kind: str = "anomaly_score"
) -> str:
    """The submission file name for one machine / section (and domain in 2021) of ``year``."""
    year = check_year(year)
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if not machine or "/" in machine or "\\" in machine:
        raise ValueError(f"invalid machine name {machine!r}")
    if year == 2020:
        return f"{kind}_{machine}_id_{int(section):02d}.csv"
    if year == 2021:
        if domain not in DOMAINS:
            raise ValueError(f"2021 score files are per domain: domain must be 'source' or 'target', got {domain!r}")
        return f"{kind}_{machine}_section_{int(section):02d}_{domain}_test.csv"
    return f"{kind}_{machine}_section_{int(section):02d}_test.csv"
