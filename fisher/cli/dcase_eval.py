"""``fisher dcase-eval SCORES_DIR --year YEAR [--ground-truth CSV] [--json]``: the official DCASE Task 2 metrics of a
folder of ``anomaly_score_*.csv`` files (one subset)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from fisher.clikit.limits import bounded_float, year_arg

__all__ = ["json_safe", "register", "run"]


def json_safe(value: Any) -> Any:
    """Replace NaN / inf floats by ``None`` recursively (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dcase-eval",
        help="official DCASE Task 2 metrics of a folder of score files",
        description="Compute per-section AUC / pAUC with the year's domain convention, the official score "
        "(harmonic mean with the epsilon floor), per-metric means and macro(3) for one subset.",
    )
    p.add_argument("scores_dir", metavar="SCORES_DIR", help="folder with anomaly_score_<machine>_..._test.csv files")
    p.add_argument("--year", type=year_arg, required=True, help="DCASE year 2020-2026 (selects names and conventions)")
    p.add_argument("--ground-truth", metavar="CSV", help="eval_data_list CSV for anonymised evaluation clip names")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--max-fpr", type=bounded_float(0, 1, open_lo=True), default=0.1, help="pAUC max FPR, in (0, 1] (default 0.1)"
    )
    p.add_argument("--nan", action="store_true", help="report undefined metrics as NaN (null) instead of failing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fisher.eval.dcase.report import format_result
    from fisher.eval.dcase.submission import evaluate_submission, load_submission

    undefined = "nan" if args.nan else "raise"
    if args.ground_truth:
        from fisher.eval.dcase.ground_truth import read_ground_truth

        gt = read_ground_truth(args.ground_truth)
        missing = load_submission(args.scores_dir, args.year, ground_truth=gt).missing
        if missing:
            shown = ", ".join(f"{m} {s:02d}" for m, s in missing[:5])
            print(
                f"warning: {len(missing)} ground-truth machine-section(s) have no score file: {shown}", file=sys.stderr
            )
    else:
        gt = None
    result = evaluate_submission(args.scores_dir, args.year, ground_truth=gt, max_fpr=args.max_fpr, undefined=undefined)
    if args.json:
        print(json.dumps(json_safe(result.to_dict()), indent=2))
    else:
        print(format_result(result))
    return 0
