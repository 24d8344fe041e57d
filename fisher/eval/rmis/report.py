"""Plain-text tables of RMIS runner reports."""

from __future__ import annotations

from fisher.eval.dcase.report import format_result, format_table
from fisher.eval.rmis.runner import AdReport, FdReport

__all__ = ["format_ad_report", "format_fd_report"]


def format_ad_report(report: AdReport) -> str:
    """Per-subset DCASE tables and the RMIS dataset score."""
    parts = [f"RMIS anomaly detection - DCASE {report.year}, encoder {report.encoder}"]
    for sub, res in report.results.items():
        if res is None:
            parts.append(f"[{sub}] scores computed; no metrics (labels unknown - pass the ground truth)")
        else:
            parts.append(format_result(res, title=f"[{sub}]"))
    if report.dataset_score is not None:
        rule = "arithmetic" if report.year == 2020 else "harmonic"
        parts.append(
            f"RMIS dataset score ({rule} mean of subsets): {report.dataset_score:.4f} "
            f"(RMIS-rounded {report.rmis_score:.2f})"
        )
    return "\n\n".join(parts)


def format_fd_report(report: FdReport) -> str:
    """Per-run macro accuracy and the dataset score (percent)."""
    r = report.result
    rows = [[f"run {i}", str(seed), f"{acc:.2f}"] for i, (seed, acc) in enumerate(zip(r.seeds, r.accuracy))]
    rows.append(["mean", "", f"{r.score:.2f}"])
    out = [
        (
            f"RMIS fault diagnosis - {report.name}, encoder {report.encoder}: {report.n_items} items, "
            f"{report.n_groups} groups, classes {', '.join(map(str, r.classes))}"
        ),
        format_table(["run", "seed", "macro acc %"], rows),
        f"dataset score: {r.score:.4f} (RMIS-rounded {r.rmis_score:.2f})",
    ]
    if report.curve is not None:
        out.append(f"split-ratio curve area: {report.curve['area']:.2f}")
    return "\n".join(out)
