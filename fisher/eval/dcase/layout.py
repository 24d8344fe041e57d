"""Find the clips of a DCASE Task 2 dataset folder.

Accepted layouts (the official downloads, per subset)::

    ROOT/<machine>/train/*.wav   ROOT/<machine>/test/*.wav      (dev_data/raw or eval_data/raw of a year)
    ROOT/train/*.wav             ROOT/test/*.wav                (a single machine folder; machine = folder name)

Split comes from the folder; section / domain / label from the file name (2020 ``id`` names or 2021+ ``section``
names). Anonymised evaluation test clips have ``label=None`` (and ``domain=None`` in 2022+) unless a ground truth is
given. Other folders (e.g. 2025 ``supplemental/``) are ignored.

Channel policy (2026 two-channel clips and any multi-channel file): the runners read **channel 0**, as the official
2026 baseline does; pass ``channel="mean"`` or another index to :func:`fisher.eval.datasets.read_signal` to change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fisher.eval.dcase.ground_truth import GroundTruth, read_ground_truth
from fisher.eval.dcase.names import check_year, clip_naming_hint, parse_clip_name

__all__ = ["DcaseClip", "scan_dcase"]

_AUDIO = (".wav", ".flac")


@dataclass(frozen=True)
class DcaseClip:
    """One clip of a DCASE folder. ``label``: 1 anomaly / 0 normal / None unknown; ``domain``: "source" / "target" /
    None unknown."""

    path: Path
    subset: str
    machine: str
    section: int
    split: str
    domain: str | None
    label: int | None
    attributes: tuple[str, ...] = ()


def _machine_dirs(root: Path, machine: str | None) -> list[tuple[str, Path]]:
    if (root / "train").is_dir() or (root / "test").is_dir():
        return [(machine or root.name, root)]
    found = [
        (p.name, p) for p in sorted(root.iterdir()) if p.is_dir() and ((p / "train").is_dir() or (p / "test").is_dir())
    ]
    if machine is not None:
        found = [f for f in found if f[0] == machine]
    return found


def scan_dcase(
    root: str | Path,
    *,
    subset: str = "dev",
    year: int | None = None,
    machine: str | None = None,
    ground_truth: str | Path | GroundTruth | None = None,
) -> list[DcaseClip]:
    """List the train and test clips under ``root`` (see the module doc), sorted by machine, split and name.

    Args:
        subset: name stored in every clip (``"dev"`` / ``"eval"``); banks never mix subsets.
        year: if given, clip names must follow that year's naming (2020 ``id`` names vs 2021+ ``section`` names).
        machine: keep only this machine type (or name a single-machine folder).
        ground_truth: fills label / domain of anonymised test clips (``eval_data_list`` CSV or :class:`GroundTruth`).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"DCASE folder not found: {root}")
    if year is not None:
        year = check_year(year)
    gt = read_ground_truth(ground_truth) if isinstance(ground_truth, (str, Path)) else ground_truth
    dirs = _machine_dirs(root, machine)
    if not dirs:
        raise ValueError(f"no DCASE machine folders (<machine>/train, <machine>/test) under {root}")
    clips = []
    for mach, mdir in dirs:
        for split in ("train", "test"):
            for path in sorted((mdir / split).glob("*")) if (mdir / split).is_dir() else []:
                if path.suffix.lower() not in _AUDIO:
                    continue
                try:
                    info = parse_clip_name(path.name)
                except ValueError as err:
                    raise ValueError(f"{path}: {err}") from None
                hint = None if year is None else clip_naming_hint(path.name, year)
                if hint is not None:
                    raise ValueError(f"{path.name}: not a DCASE {year} clip name: {hint} ({path})")
                domain, label = info.domain, info.label
                if split == "train":
                    label = 0 if label is None else label
                    if label != 0:
                        raise ValueError(f"{path}: anomalous clip in a train folder")
                elif gt is not None and (label is None or domain is None):
                    entry = gt.get(mach, path.name)
                    if entry is None:
                        raise ValueError(f"{path.name} of machine {mach!r} is not in the ground truth")
                    domain, label = entry.domain, entry.label
                if split == "train" and domain is None:
                    raise ValueError(f"{path}: train clip name without a domain")
                clips.append(DcaseClip(path, subset, mach, info.section, split, domain, label, info.attributes))
    if not clips:
        raise ValueError(f"no .wav / .flac clips found under {root}")
    return clips
