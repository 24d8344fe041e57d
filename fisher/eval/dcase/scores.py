"""Read and write DCASE Task 2 submission files (headerless ``clip_name,value`` CSV rows).

One file per machine and section (2021: per machine, section and domain); see :mod:`fisher.eval.dcase.names` for the file
names. ``anomaly_score_*`` values are floats (written with ``repr`` so they read back bit-exactly);
``decision_result_*`` values are 0 (normal) / 1 (anomaly). Reading validates every row: exactly two columns, a
non-empty clip name, a finite number, no duplicate clip names (within a file and across the files of one section).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fisher.eval.dcase.names import check_year, parse_score_file_name, score_file_name
from fisher.files import atomic_write_text
from fisher.types import ArrayLike

__all__ = ["ScoreRow", "read_score_dir", "read_score_file", "write_score_files"]

_HEADER_WORDS = {"file", "file_name", "filename", "name", "clip", "wav"}


def read_score_file(path: str | Path) -> list[tuple[str, float]]:
    """``[(clip_name, value), ...]`` of one score / decision file, in file order.

    A header row is tolerated only if its first cell is a column title such as ``file_name``.
    Raises ``ValueError`` (with file and line) for malformed content.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"score file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a UTF-8 text file ({err})") from None
    rows: list[tuple[str, float]] = []
    seen: dict[str, int] = {}
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if len(cells) != 2:
            raise ValueError(f"{path}, line {line}: expected 2 columns (clip name, score), got {len(cells)}: {cells}")
        name, raw = cells
        if not rows and not seen and name.lower() in _HEADER_WORDS:
            seen[""] = line  # header: skip once
            continue
        if not name:
            raise ValueError(f"{path}, line {line}: empty clip name")
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{path}, line {line}: score {raw!r} of {name!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{path}, line {line}: score of {name!r} is {raw} (scores must be finite)")
        if name in seen:
            raise ValueError(f"{path}, line {line}: duplicate clip name {name!r} (first on line {seen[name]})")
        seen[name] = line
        rows.append((name, value))
    if not rows:
        raise ValueError(f"{path}: no score rows")
    return rows


@dataclass(frozen=True)
class ScoreRow:
    """One submitted value: ``machine``, ``section``, ``file_domain`` (2021 per-domain files, else None), ``name``
    (clip name as written), ``value`` and the ``file`` it came from."""

    machine: str
    section: int
    file_domain: str | None
    name: str
    value: float
    file: Path


def read_score_dir(directory: str | Path, year: int, *, kind: str = "anomaly_score") -> list[ScoreRow]:
    """All ``<kind>_*.csv`` files of ``directory`` for ``year`` (2020: ``_id_`` files; 2021+: ``_section_`` files,
    per domain or not). Other files are ignored. Raises if there are none or a clip appears twice in a section."""
    year = check_year(year)
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"score directory not found: {directory}")
    files = sorted(p for p in directory.glob(f"{kind}_*.csv") if p.is_file())
    if not files:
        raise ValueError(f"no {kind}_*.csv files in {directory}")
    out: list[ScoreRow] = []
    seen: dict[tuple[str, int, str], Path] = {}
    for path in files:
        info = parse_score_file_name(path.name)
        is_2020_name = "_id_" in path.name and "_section_" not in path.name
        if (year == 2020) != is_2020_name:
            expected = f"{kind}_<machine>_id_<II>.csv" if year == 2020 else f"{kind}_<machine>_section_<SS>_test.csv"
            fits = "2020" if is_2020_name else "2021..2026 (2021 for per-domain _source_test / _target_test files)"
            raise ValueError(
                f"{path.name}: not a {year} file name (expected {expected}); this name matches --year {fits}"
            )
        if info.domain is not None and year >= 2022:
            raise ValueError(
                f"{path.name}: per-domain score files are the 2021 layout; {year} uses one file per section"
            )
        for name, value in read_score_file(path):
            key = (info.machine, info.section, name)
            if key in seen:
                raise ValueError(
                    f"clip {name!r} of {info.machine} section {info.section:02d} is scored twice "
                    f"({seen[key].name} and {path.name})"
                )
            seen[key] = path
            out.append(ScoreRow(info.machine, info.section, info.domain, name, value, path))
    return out


def write_score_files(
    directory: str | Path,
    *,
    file: Sequence[str],
    value: ArrayLike,
    machine: Sequence[str],
    section: Sequence[int],
    year: int,
    domain: Sequence[str] | None = None,
    kind: str = "anomaly_score",
) -> list[Path]:
    """Write submission files (atomically) grouped by machine / section (/ domain for 2021).

    Args:
        file: ``[N]`` clip names (base names are written); value: ``[N]`` scores (or 0/1 decisions for
            ``kind="decision_result"``); machine, section: ``[N]``; domain: ``[N]`` needed for 2021.

    Returns:
        The written paths, sorted.
    """
    year = check_year(year)
    vals = np.asarray(value, dtype=np.float64)
    n = vals.size
    names = [Path(str(f)).name for f in file]
    if vals.ndim != 1 or not (len(names) == len(machine) == len(section) == n):
        raise ValueError("file, value, machine and section must be 1-D sequences of the same length")
    if not np.isfinite(vals).all():
        raise ValueError("values must be finite")
    if kind == "decision_result" and not np.isin(vals, (0, 1)).all():
        raise ValueError("decision values must be 0 (normal) or 1 (anomaly)")
    if year == 2021 and (domain is None or len(domain) != n):
        raise ValueError("2021 score files are per domain: pass domain (source/target) for every clip")
    groups: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for i in range(n):
        target = score_file_name(
            str(machine[i]), int(section[i]), year, kind=kind, domain=str(domain[i]) if year == 2021 else None
        )
        if not names[i] or any(c in names[i] for c in ',"\n\r'):
            raise ValueError(f"clip name {names[i]!r} is empty or contains a comma, quote or newline")
        if (target, names[i]) in seen:
            raise ValueError(f"duplicate clip name {names[i]!r} for {target}")
        seen.add((target, names[i]))
        text = str(int(vals[i])) if kind == "decision_result" else repr(float(vals[i]))
        groups.setdefault(target, []).append(f"{names[i]},{text}\n")
    directory = Path(directory)
    return sorted(atomic_write_text(directory / name, "".join(lines)) for name, lines in groups.items())
