"""The ``fisher-asd`` command line: fit a detector on a DCASE Task 2 folder and write DCASE score files.

::

    fisher-asd fit   --data DCASE_ROOT [--machines fan valve] --out DETECTOR_DIR
                     [--preset system1 --backbone beats=/path/BEATs_iter3_plus_AS2M.pt | --encoders logstft fisher]
                     [--checkpoints SYSTEM1_DIR SYSTEM2_DIR]   # with --preset: assemble from trained parts
    fisher-asd score --model DETECTOR_DIR --data DCASE_ROOT [--machines ...] --out SCORES_DIR [--year 2024]
    fisher dcase-eval SCORES_DIR --year 2024          # official numbers (dev folders; eval needs --ground-truth)

Folders: ``DCASE_ROOT/<machine>/{train,test}/*.wav`` (or one machine folder), read by
:func:`fisher.eval.dcase.scan_dcase`. Channel 0 of multi-channel clips (DCASE 2026: near microphone), ``--channel`` to
change. A machine with several sections gets one memory bank per section, keyed ``<machine>_<SS>``; otherwise the key
is the machine name. Test clips are scored per key in one call (transductive rank normalisation over all its test
clips) with the domain from the file name; anonymised names (or ``--ignore-domain``) use the detector's
``domain_policy``. ``score`` writes ``anomaly_score_*`` and ``decision_result_*`` files (decision: score above the
machine's threshold). ``--preset`` builds the untrained recipe of a report system (``Detector.from_preset``) that
``fit`` trains; with ``--checkpoints DIR [DIR ...]`` (fitted detector folders) it is assembled from their trained
streams instead (``Detector.from_preset(..., checkpoints=[...])``, e.g. System 3 from the System-1 and System-2
folders) and ``fit`` only builds the banks. A preset stream whose training scope lists machines absent from the data
is an error unless ``--allow-missing-scope``. ``--whole-clips`` scores whole clips instead of the fixed 10 s
(160,000 samples at 16 kHz). ``--rank-norm none`` is ``rank_norm=None`` (raw distances).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["FIT_SETTINGS", "build_parser", "detector_settings", "main"]


def _clips(args: argparse.Namespace, split: str) -> dict[str, list[Any]]:
    from fisher.eval.dcase import scan_dcase

    clips = [c for c in scan_dcase(args.data, year=args.year) if c.split == split]
    if args.machines:
        clips = [c for c in clips if c.machine in args.machines]
        unknown = sorted(set(args.machines) - {c.machine for c in clips})
        if unknown:
            raise ValueError(f"no {split} clips for machine(s) {unknown} under {args.data}")
    if not clips:
        raise ValueError(f"no {split} clips under {args.data}")
    sections = defaultdict(set)
    for c in clips:
        sections[c.machine].add(c.section)
    groups: dict[str, list[Any]] = defaultdict(list)
    for c in clips:
        key = c.machine if len(sections[c.machine]) == 1 else f"{c.machine}_{c.section:02d}"
        groups[key].append(c)
    return dict(groups)


def _rate(paths: list[Path]) -> int:
    import soundfile as sf

    rates = {int(sf.info(str(p)).samplerate) for p in paths}
    if len(rates) != 1:
        raise ValueError(f"clips have different sampling rates {sorted(rates)}; resample the dataset first")
    return rates.pop()


#: Detector settings that ``fit`` exposes as options (``--k``, ``--rank-norm`` …; flags, types, choices, help and the
#: default shown come from :class:`~fisher_asd.detector.settings.DetectorSettings`), with a note on their use.
FIT_SETTINGS = {
    "encoders": "(without --preset)",
    "train_heads": "(without --preset)",
    "k": "",
    "rank_norm": "",
    "domain_policy": "",
    "whole_clips": "",
    "seed": "",
}


def _add_setting(p: argparse.ArgumentParser, name: str, note: str) -> None:
    """The option of the detector setting ``name``: absent from the namespace unless given (the detector's or the
    preset's value applies), help from the field's doc and default."""
    from fisher_asd.detector.settings import setting_fields

    f = setting_fields()[name]
    default = f.default if f.default is not dataclasses.MISSING else None
    shown = " ".join(default) if isinstance(default, tuple) else "none" if default is None else str(default)
    if isinstance(default, int) and not isinstance(default, bool):
        shown = f"{default:,}"
    help_text = f"{f.metadata['doc']} {note}".strip()
    kw: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
    if isinstance(default, bool):
        kw.update(action="store_true", help=help_text)
    elif isinstance(default, tuple):
        kw.update(nargs="+", metavar="ENCODER", help=f"{help_text} (default: {shown})")
    elif f.metadata["choices"]:
        choices = ["none" if c is None else c for c in f.metadata["choices"]]
        kw.update(choices=choices, help=f"{help_text} (default: {shown})")
    else:
        kw.update(type=type(default), help=f"{help_text} (default: {shown})")
    p.add_argument("--" + name.replace("_", "-"), **kw)


def detector_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Constructor keywords of the detector that ``fit`` builds: the :data:`FIT_SETTINGS` given on the command line,
    ``show_progress`` (unless ``--quiet``) and ``training`` (``--epochs``); the rest keep their defaults."""
    settings: dict[str, Any] = {name: getattr(args, name) for name in FIT_SETTINGS if hasattr(args, name)}
    settings["show_progress"] = not args.quiet
    if args.epochs is not None:
        settings["training"] = {"epochs": args.epochs}
    return settings


def _fit(args: argparse.Namespace) -> int:
    from fisher_asd.detector import ClipFiles, Detector

    backbones = {}
    for item in args.backbone or []:
        name, sep, loc = item.partition("=")
        if not sep or not name or not loc:
            raise ValueError(f"--backbone expects NAME=PATH_OR_HUB_ID, got {item!r}")
        backbones[name] = loc
    settings = detector_settings(args)
    if args.checkpoints and not args.preset:
        raise ValueError("--checkpoints assembles a report system: pass --preset system1..system4 with it")
    if args.preset:
        for name in ("encoders", "train_heads"):  # a preset fixes its streams
            settings.pop(name, None)
        det = Detector.from_preset(args.preset, backbones=backbones, checkpoints=args.checkpoints, **settings)
    else:
        det = Detector(backbones=backbones, **settings)
    groups = _clips(args, "train")
    paths = [c.path for key in groups for c in groups[key]]
    machine = [key for key in groups for _ in groups[key]]
    domain = [c.domain for key in groups for c in groups[key]]
    sr = _rate(paths)
    files = ClipFiles(paths, channel=args.channel, sr=sr)
    det.fit(
        files,
        sr,
        machine=machine,
        domain=domain,
        train=not args.checkpoints,
        allow_missing_scope=args.allow_missing_scope,
    )
    det.save_pretrained(args.out)
    print(f"fitted {det!r} on {len(paths)} clips; saved to {args.out}")
    return 0


def _score(args: argparse.Namespace) -> int:
    import numpy as np

    from fisher.eval.dcase import write_score_files
    from fisher_asd.detector import ClipFiles, Detector

    det = Detector.from_pretrained(args.model)
    det.show_progress = not args.quiet
    groups = _clips(args, "test")
    rows: dict[str, list[Any]] = defaultdict(list)
    for key, clips in groups.items():
        paths = [c.path for c in clips]
        sr = _rate(paths)
        domain = None if args.ignore_domain or any(c.domain is None for c in clips) else [c.domain for c in clips]
        score = det.score(ClipFiles(paths, channel=args.channel, sr=sr), sr, machine=key, domain=domain)
        rows["file"] += [p.name for p in paths]
        rows["value"] += score.tolist()
        rows["decision"] += (score > det.thresholds_[key]).astype(int).tolist()
        rows["machine"] += [c.machine for c in clips]
        rows["section"] += [c.section for c in clips]
        rows["domain"] += [c.domain or "source" for c in clips]
    year = args.year or 2026
    common = {
        "file": rows["file"],
        "machine": rows["machine"],
        "section": rows["section"],
        "year": year,
        "domain": rows["domain"],
    }
    written = write_score_files(args.out, value=np.array(rows["value"]), **common)
    written += write_score_files(args.out, value=np.array(rows["decision"]), kind="decision_result", **common)
    print(f"scored {len(rows['file'])} clips; wrote {len(written)} files to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from fisher.version import __version__
    from fisher_asd.detector.train import TrainConfig

    parser = argparse.ArgumentParser(prog="fisher-asd", description="multi-stream anomalous-sound detector")
    parser.add_argument("--version", action="version", version=f"fisher-signal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", required=True, help="DCASE folder: <machine>/{train,test}/*.wav or one machine folder")
        p.add_argument("--machines", nargs="+", metavar="MACHINE", help="machine types to use (default: all)")
        p.add_argument("--year", type=int, help="DCASE year (checks clip names; score-file layout, default 2026)")
        p.add_argument(
            "--channel",
            default=0,
            type=lambda v: v if v == "mean" else int(v),
            help="channel of multi-channel clips: index or 'mean' (default 0 = near microphone)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    fit = sub.add_parser("fit", help="train streams (if any) and build memory banks from the train clips")
    common(fit)
    fit.add_argument("--out", required=True, help="output detector directory")
    fit.add_argument(
        "--preset", help="report system to train: system1..system4 (mef6-7m | mef6-12m | mef6-hyb | mef5-7m)"
    )
    fit.add_argument(
        "--checkpoints",
        nargs="+",
        metavar="DIR",
        help="with --preset: fitted detector folders whose trained streams the system shares (e.g. System 3 from the "
        "System-1 and System-2 folders); no training, only the banks are built",
    )
    fit.add_argument(
        "--allow-missing-scope",
        action="store_true",
        help="train preset streams even if machines of their training scope have no clips here (warns)",
    )
    fit.add_argument("--backbone", action="append", metavar="NAME=LOCATION", help="backbone path / hub id, repeatable")
    for name, note in FIT_SETTINGS.items():
        _add_setting(fit, name, note)
    epochs = next(f.default for f in dataclasses.fields(TrainConfig) if f.name == "epochs")
    fit.add_argument("--epochs", type=int, help=f"maximum training epochs (default {epochs})")
    fit.set_defaults(func=_fit)

    score = sub.add_parser("score", help="score the test clips and write DCASE score files")
    common(score)
    score.add_argument("--model", required=True, help="detector directory written by 'fisher-asd fit'")
    score.add_argument("--out", required=True, help="output folder for anomaly_score_* / decision_result_* files")
    score.add_argument("--ignore-domain", action="store_true", help="ignore domains in file names (eval-like)")
    score.set_defaults(func=_score)
    return parser


def main(argv: list[str] | None = None) -> int:
    from fisher.clikit.runner import run_parser

    return run_parser(build_parser(), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
