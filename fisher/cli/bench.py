"""``fisher bench``: measure this machine with a FISHER model (under a minute) and print which settings to use."""

from __future__ import annotations

import argparse
import json
import sys

from fisher.cli.options import add_allow_pickle
from fisher.clikit.limits import (
    MAX_BENCH_BATCH,
    MAX_BUDGET,
    MAX_RATE,
    MAX_SECONDS,
    MAX_THREADS,
    MIN_BUDGET,
    MIN_RATE,
    MIN_SECONDS,
    bounded_float,
    bounded_int,
)

SCALES = ("tiny", "mini", "small")
DEFAULTS = {"batch": 8, "seconds": 10.0, "budget": 45.0}  # --quick: QUICK
QUICK = {"batch": 2, "seconds": 2.0, "budget": 15.0}
MAX_BATCH_SAMPLES = 2**27  # all clips of one batch: 512 MB as float32


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure this machine: clips/s, GFLOP/s, fp32 vs auto vs int8 vs ONNX, and which to use",
        description="Embed a batch of synthetic clips with torch fp32, precision='auto', precision='int8' and ONNX "
        "Runtime fp32 (when onnxruntime and onnx are installed), round-robin until the time budget is used; print "
        "clips/s, GFLOP/s, the ratio to this machine's GEMM rate on the model's own linear layers, the speed-up "
        "over fp32, the accuracy of each path vs fp32, and the settings to use.",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--scale", choices=SCALES, help="random-weight model of this size (default tiny)")
    which.add_argument("--model", metavar="NAME_OR_PATH", help="a pretrained name (e.g. demo), hub id or directory")
    add_allow_pickle(p)
    p.add_argument(
        "--batch",
        type=bounded_int(1, MAX_BENCH_BATCH),
        help=f"clips per embed call, 1..{MAX_BENCH_BATCH} (default {DEFAULTS['batch']}; --quick {QUICK['batch']})",
    )
    p.add_argument(
        "--seconds",
        type=bounded_float(MIN_SECONDS, MAX_SECONDS, "s"),
        help=f"clip duration, {MIN_SECONDS:g}..{MAX_SECONDS:g} s (default {DEFAULTS['seconds']:g}; "
        f"--quick {QUICK['seconds']:g})",
    )
    p.add_argument(
        "--sr", type=bounded_int(MIN_RATE, MAX_RATE, "Hz"), default=16000, help="sampling rate in Hz (default 16000)"
    )
    p.add_argument(
        "--threads", type=bounded_int(1, MAX_THREADS), help="torch / ONNX Runtime threads (default: torch's)"
    )
    p.add_argument(
        "--budget",
        type=bounded_float(MIN_BUDGET, MAX_BUDGET, "s"),
        help=f"time budget of the whole measurement, {MIN_BUDGET:g}..{MAX_BUDGET:g} s (default "
        f"{DEFAULTS['budget']:g}; --quick {QUICK['budget']:g}); at least one round runs",
    )
    p.add_argument("--quick", action="store_true", help="a fast look: 2 clips x 2 s, 15 s budget")
    p.add_argument("--no-onnx", action="store_true", help="leave ONNX Runtime out")
    p.add_argument("--json", action="store_true", help="print one JSON object (machine, gemm, paths, recommendation)")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict[str, float]:
    """``--batch / --seconds / --budget``, defaulting to the --quick or the normal values; checks the batch size."""
    from fisher.clikit.limits import check_clip_samples

    base = QUICK if args.quick else DEFAULTS
    out = {k: base[k] if getattr(args, k) is None else getattr(args, k) for k in base}
    check_clip_samples(args.sr, out["seconds"])
    total = out["batch"] * round(out["seconds"] * args.sr)
    if total > MAX_BATCH_SAMPLES:
        raise ValueError(
            f"--batch {out['batch']} x --seconds {out['seconds']:g} at {args.sr} Hz is {total:,} samples, above the "
            f"supported maximum {MAX_BATCH_SAMPLES:,} per batch; use fewer or shorter clips"
        )
    return out


def run(args: argparse.Namespace) -> int:
    from fisher.bench import format_report, run_bench
    from fisher.model.network import Fisher
    from fisher.recipe.fisher_config import FisherConfig

    settings = _settings(args)
    if args.model:
        try:
            model, name = Fisher.from_pretrained(args.model, allow_pickle=args.allow_pickle), args.model
        except FileNotFoundError as err:
            raise FileNotFoundError(f"--model: {err.args[0] if err.args else err}") from None
    else:
        scale = args.scale or "tiny"
        model, name = FisherConfig.preset(scale), f"{scale} (random weights)"
    print(
        f"fisher bench: measuring {name}, {settings['batch']} clips x {settings['seconds']:g} s @ {args.sr} Hz, "
        f"budget {settings['budget']:g} s ...",
        file=sys.stderr,
        flush=True,
    )
    result = run_bench(
        model,
        name=name,
        batch=int(settings["batch"]),
        seconds=settings["seconds"],
        sr=args.sr,
        threads=args.threads,
        budget=settings["budget"],
        onnx=not args.no_onnx,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_report(result))
    return 0
