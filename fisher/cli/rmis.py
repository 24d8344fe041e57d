"""``fisher rmis ad|fd ...``: embed a dataset with an encoder and run an RMIS protocol.

* ``fisher rmis ad --year 2024 --dev DIR [--eval DIR --ground-truth CSV] --encoder logstft``
* ``fisher rmis fd MANIFEST.csv | --cwru DIR | --folders DIR  --encoder small [--test-size 0.5 --runs 10 --curve]``
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from fisher.clikit.limits import (
    MAX_K,
    MAX_RATE,
    MAX_RUNS,
    MAX_SECONDS,
    MAX_SEED,
    MIN_RATE,
    MIN_SECONDS,
    bounded_float,
    bounded_int,
    channel_arg,
    fraction,
    year_arg,
)

if TYPE_CHECKING:
    from fisher.eval.rmis.runner import AdReport, FdReport

__all__ = ["register"]


def _common(p: argparse.ArgumentParser) -> None:
    from fisher.eval.encoder_registry import available_encoders

    p.add_argument(
        "--encoder",
        default="logstft",
        help=f"a registered encoder ({' | '.join(available_encoders())}) or a FISHER name, hub id, directory or "
        ".pt file; FISHER ones take @bf16 / @int8 (resolve_encoder)",
    )
    p.add_argument("--allow-pickle", action="store_true", help="allow loading trusted official .pt checkpoints")
    p.add_argument(
        "--window",
        type=bounded_float(MIN_SECONDS, MAX_SECONDS, "s"),
        default=10.0,
        help=f"model window in seconds, {MIN_SECONDS:g}..{MAX_SECONDS:g} (default 10)",
    )
    p.add_argument("--cache", metavar="DIR", help="embedding cache folder (re-runs reuse embeddings)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--out", metavar="FILE", help="also write the JSON report to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "rmis",
        help="RMIS benchmark protocols (anomaly detection, fault diagnosis)",
        description="Embed a dataset with any encoder and run an RMIS k-NN protocol.",
    )
    sub = p.add_subparsers(dest="rmis_task", metavar="TASK")
    ad = sub.add_parser("ad", help="k-NN anomaly detection on DCASE folders")
    ad.add_argument("--year", type=year_arg, required=True, help="DCASE year 2020-2026")
    ad.add_argument("--dev", metavar="DIR", help="development folder (<machine>/train, <machine>/test)")
    ad.add_argument("--eval", metavar="DIR", help="evaluation folder")
    ad.add_argument("--ground-truth", metavar="CSV", help="eval_data_list CSV for the evaluation folder")
    ad.add_argument("--k", type=bounded_int(1, MAX_K), default=1, help=f"neighbours per bank, 1..{MAX_K} (default 1)")
    ad.add_argument("--no-normalize", action="store_true", help="skip the per-section z-normalisation")
    ad.add_argument(
        "--channel",
        type=channel_arg,
        default=0,
        help="channel of multi-channel clips: index 0..1023 or 'mean' (default 0)",
    )
    ad.add_argument("--scores-dir", metavar="DIR", help="write DCASE score files to DIR/<subset>/")
    _common(ad)
    ad.set_defaults(func=run_ad)
    fd = sub.add_parser("fd", help="k-NN fault diagnosis with sealed splits")
    src = fd.add_mutually_exclusive_group(required=True)
    src.add_argument("manifest", nargs="?", metavar="MANIFEST", help="manifest CSV (path,label,group[,channel,sr])")
    src.add_argument("--cwru", metavar="DIR", help="CWRU .npz folder (3 fault classes)")
    src.add_argument("--folders", metavar="DIR", help="DIR/<label>/<file> layout (group = file)")
    fd.add_argument("--channels", default="DE", help="CWRU channels, comma-separated (default DE)")
    fd.add_argument("--test-size", type=fraction, default=0.5, help="test fraction of groups, in (0, 1) (default 0.5)")
    fd.add_argument(
        "--runs", type=bounded_int(1, MAX_RUNS), default=10, help=f"random splits, 1..{MAX_RUNS} (default 10)"
    )
    fd.add_argument("--seed", type=bounded_int(0, MAX_SEED), default=111, help="base random state (default 111)")
    fd.add_argument("--k", type=bounded_int(1, MAX_K), default=5, help=f"neighbours, 1..{MAX_K} (default 5)")
    fd.add_argument(
        "--segment",
        type=bounded_float(MIN_SECONDS, MAX_SECONDS, "s"),
        metavar="SECONDS",
        help=f"cut files into segments of this length, {MIN_SECONDS:g}..{MAX_SECONDS:g} s",
    )
    fd.add_argument(
        "--resample",
        type=bounded_float(MIN_RATE, MAX_RATE, "Hz"),
        metavar="HZ",
        help=f"resample every signal to this rate, {MIN_RATE}..{MAX_RATE} Hz (librosa soxr_hq)",
    )
    fd.add_argument("--curve", action="store_true", help="also compute the multi-split-ratio curve area")
    _common(fd)
    fd.set_defaults(func=run_fd)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _emit(args: argparse.Namespace, report: AdReport | FdReport, text: str) -> int:
    from fisher.cli.dcase_eval import json_safe
    from fisher.files import atomic_write_text

    data = json.dumps(json_safe(report.to_dict()), indent=2)
    print(data if args.json else text)
    if args.out:
        atomic_write_text(args.out, data + "\n")
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Every output path of ``fisher rmis`` is writable, checked before any clip is embedded."""
    from fisher.clikit.outputs import check_output_dir, check_output_file

    if args.out:
        check_output_file(args.out, "--out")
    if args.cache:
        check_output_dir(args.cache, "--cache")
    if getattr(args, "scores_dir", None):
        check_output_dir(args.scores_dir, "--scores-dir")


def _encoder(args: argparse.Namespace) -> Any:
    from fisher.eval.encoders import resolve_encoder

    return resolve_encoder(args.encoder, allow_pickle=args.allow_pickle)


def run_ad(args: argparse.Namespace) -> int:
    from fisher.eval.rmis.report import format_ad_report
    from fisher.eval.rmis.runner import run_anomaly_detection

    roots = {name: d for name, d in (("dev", args.dev), ("eval", args.eval)) if d}
    if not roots:
        raise ValueError("give --dev and/or --eval")
    if isinstance(args.channel, str) and args.channel != "mean":
        raise ValueError(f"--channel {args.channel!r}: give a channel index 0..1023 or 'mean'")
    _check_outputs(args)
    report = run_anomaly_detection(
        roots,
        year=args.year,
        encoder=_encoder(args),
        ground_truth={"eval": args.ground_truth} if args.ground_truth else None,
        k=args.k,
        normalize=not args.no_normalize,
        window_s=args.window,
        channel=args.channel,
        cache_dir=args.cache,
        scores_dir=args.scores_dir,
        show_progress=not args.quiet,
    )
    return _emit(args, report, format_ad_report(report))


def run_fd(args: argparse.Namespace) -> int:
    from fisher.eval.datasets import cwru_manifest, folder_manifest, read_manifest
    from fisher.eval.rmis.report import format_fd_report
    from fisher.eval.rmis.runner import run_fault_diagnosis

    _check_outputs(args)
    if args.cwru:
        items, name = cwru_manifest(args.cwru, channels=tuple(args.channels.split(","))), "cwru"
    elif args.folders:
        items, name = folder_manifest(args.folders), args.folders
    else:
        items, name = read_manifest(args.manifest), args.manifest
    report = run_fault_diagnosis(
        items,
        encoder=_encoder(args),
        name=str(name),
        test_size=args.test_size,
        runs=args.runs,
        seed=args.seed,
        k=args.k,
        window_s=args.window,
        segment_s=args.segment,
        resample_to=args.resample,
        curve=args.curve,
        cache_dir=args.cache,
        show_progress=not args.quiet,
    )
    return _emit(args, report, format_fd_report(report))
