"""Plain-text tables of a :class:`fisher.eval.dcase.DcaseResult` (values printed in percent)."""

from __future__ import annotations

import math

from fisher.eval.dcase.metrics import DcaseResult

__all__ = ["format_result", "format_table"]

_TITLES = {
    "auc": "AUC",
    "pauc": "pAUC",
    "auc_source": "AUC_s",
    "auc_target": "AUC_t",
    "pauc_source": "pAUC_s",
    "pauc_target": "pAUC_t",
}


def _pct(x: float | None) -> str:
    if x is None:
        return "-"
    return "nan" if math.isnan(x) else f"{100 * x:.2f}"


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Left-align the first column, right-align the others."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for j, row in enumerate([header, *rows]):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_result(result: DcaseResult, title: str | None = None) -> str:
    """Per-section table, per-metric means and the official score of one subset (percent)."""
    names = list(result.metrics)
    header = ["machine", "section", *[_TITLES[n] for n in names]]
    rows = [[r["machine"], f"{r['section']:02d}", *[_pct(r[n]) for n in names]] for r in result.per_section]
    rows.append(["arithmetic mean", "", *[_pct(result.amean[n]) for n in names]])
    rows.append(["harmonic mean", "", *[_pct(result.hmean[n]) for n in names]])
    out = [title or f"DCASE {result.year} Task 2", format_table(header, rows)]
    if result.official_score is not None:
        out.append(f"official score (harmonic mean of all values): {_pct(result.official_score)}")
    else:
        out.append("official score: none for 2020 (the evaluator reports per-machine averages only)")
    if result.macro3 is not None:
        out.append(f"macro(3) (MEF report): {_pct(result.macro3)}")
    return "\n".join(out)
