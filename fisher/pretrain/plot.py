"""``fisher pretrain plot RUN_DIR``: the curves of a pretraining run's ``log.jsonl`` in one PNG (needs matplotlib).

Panels (each only when its keys are logged; ``val_``-prefixed keys are drawn dashed with markers): losses, gradient
norm and clip ratio, learning rate, spread indicators, cosine / effective rank, LayerNorm γ norm, validation probe
accuracies. See ``docs/pretraining.md``, "Collapse diagnostics".
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["PANELS", "plot_run", "read_log"]

# Panel: title, y label, log y, keys [(key, legend label)], reference lines [(y, label)], optional right axis (keys,
# label, lines), fixed y limits.
PANELS: list[dict[str, Any]] = [
    {
        "title": "Losses",
        "ylabel": "loss (log scale)",
        "log": True,
        "keys": [("loss", "total"), ("loss_patch", "patch term"), ("loss_band", "band (CLS) term")],
    },
    {
        "title": "Gradient norm (before clipping) and clip ratio",
        "ylabel": "gradient L2 norm",
        "log": True,
        "keys": [("grad_norm", "grad norm")],
        "right": [("clip_ratio", "clip ratio, right axis")],
        "right_label": "share of clipped steps",
    },
    {"title": "Learning rate", "ylabel": "learning rate", "keys": [("lr", "lr")]},
    {
        "title": "Spread indicators (falling to 0 = collapse)",
        "ylabel": "relative spread / std (log scale)",
        "log": True,
        "keys": [
            ("cls_spread", "CLS spread"),
            ("mean_spread", "mean-patch spread"),
            ("cls_patch_gap", "CLS-patch gap"),
            ("cls_std", "CLS std (train batch)"),
            ("pred_std", "prediction std"),
            ("target_std", "target std"),
            ("band_target_std", "band target std"),
        ],
        "lines": [(0.02, "spread threshold 0.02")],
    },
    {
        "title": "Pairwise cosine (rising to 1) and effective rank (falling to 1) = collapse",
        "ylabel": "mean pairwise cosine",
        "keys": [("cls_cos", "CLS cosine"), ("mean_cos", "mean-patch cosine")],
        "lines": [(0.995, "cosine threshold 0.995")],
        "right": [("cls_rank", "CLS effective rank, right axis")],
        "right_lines": [(1.5, "rank threshold 1.5, right axis")],
        "right_label": "effective rank",
    },
    {
        "title": "Output LayerNorm γ norm (last block norm2)",
        "ylabel": "‖γ‖₂",
        "keys": [("gamma_norm", "γ norm")],
    },
    {
        "title": "Validation probe: sealed k-NN macro accuracy",
        "ylabel": "accuracy",
        "keys": [("probe_cls", "CLS"), ("probe_mean", "mean patch")],
        "ylim": (0.0, 1.02),
    },
]


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The JSON records of a ``log.jsonl``; ``ValueError`` when missing, empty or corrupt (an unfinished last line,
    still being written, is ignored)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no training log at {path} (expected <run_dir>/log.jsonl)")
    lines = [(i, line) for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    records = []
    for n, (i, line) in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            if n == len(lines) - 1:
                break
            raise ValueError(f"{path}:{i}: not a JSON line ({err})") from None
        if not isinstance(rec, dict):
            raise ValueError(f"{path}:{i}: expected a JSON object, got {type(rec).__name__}")  # noqa: TRY004 - a bad file
        records.append(rec)
    if not records:
        raise ValueError(f"the training log {path} is empty")
    return records


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    """``(steps, values)`` of the finite numeric values of ``key``, by step (a repeated step keeps its last value)."""
    points: dict[float, float] = {}
    for i, rec in enumerate(records):
        value = rec.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        step = rec.get("step", i + 1)
        points[float(step) if isinstance(step, (int, float)) else float(i + 1)] = float(value)
    steps = sorted(points)
    return steps, [points[s] for s in steps]


def _draw(ax: Any, records: list[dict[str, Any]], keys: list[tuple[str, str]], log: bool, style: int) -> int:
    drawn = 0
    for j, (key, label) in enumerate(keys):
        for prefix, dashed in (("", False), ("val_", True)):
            steps, values = _series(records, prefix + key)
            if log:
                pts = [(s, v) for s, v in zip(steps, values) if v > 0]  # a log axis shows positive values only
                steps, values = [s for s, _ in pts], [v for _, v in pts]
            if not steps:
                continue
            ax.plot(
                steps,
                values,
                color=f"C{(j + style) % 10}",
                linestyle="--" if dashed else "-",
                marker="o" if dashed or len(steps) == 1 else None,
                markersize=3,
                linewidth=1.2,
                label=f"{label} (validation)" if dashed else label,
            )
            drawn += 1
    return drawn


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Plot ``<run_dir>/log.jsonl`` into one PNG (default ``<run_dir>/curves.png``, written atomically) and return
    its path. Keys that are not logged are skipped; ``ValueError`` when the log is missing, empty or holds none of the
    plotted keys."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'fisher-signal[plot]'") from None
    from fisher.files import atomic_write

    run_dir = Path(run_dir)
    records = read_log(run_dir / "log.jsonl")

    def present(keys: list[tuple[str, str]]) -> bool:
        return any(_series(records, p + k)[0] for k, _ in keys for p in ("", "val_"))

    panels = [p for p in PANELS if present(p["keys"]) or present(p.get("right", []))]
    if not panels:
        known = sorted({k for p in PANELS for k, _ in p["keys"] + p.get("right", [])})
        raise ValueError(f"{run_dir / 'log.jsonl'} holds none of the plotted keys ({', '.join(known)})")
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(7 * cols, 3.6 * rows), dpi=100)  # no pyplot: leaves the user's backend alone
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    steps = [s for k in {k for rec in records for k in rec} for s in _series(records, k)[0]]
    xlim = (min(steps), max(steps)) if min(steps) < max(steps) else (min(steps) - 1, max(steps) + 1)
    for ax, panel in zip(axes, panels):
        log = panel.get("log", False)
        n = _draw(ax, records, panel["keys"], log, 0)
        if log and n:
            ax.set_yscale("log")
        for y, label in panel.get("lines", []):
            ax.axhline(y, color="0.4", linestyle=":", linewidth=1, label=label)
        handles, labels = ax.get_legend_handles_labels()
        if panel.get("right") and present(panel["right"]):
            twin = ax.twinx()
            _draw(twin, records, panel["right"], False, len(panel["keys"]))
            for y, label in panel.get("right_lines", []):
                twin.axhline(y, color="0.4", linestyle="-.", linewidth=1, label=label)
            twin.set_ylabel(panel["right_label"])
            h2, l2 = twin.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        if "ylim" in panel:
            ax.set_ylim(*panel["ylim"])
        ax.set(title=panel["title"], xlabel="training step", ylabel=panel["ylabel"], xlim=xlim)
        if panel["keys"][0][0] == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        ax.grid(True, alpha=0.3)
        if handles:
            ax.legend(handles, labels, fontsize=7, loc="best")
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    last = records[-1].get("step", len(records))
    fig.suptitle(f"pretraining run {run_dir.resolve().name!r}: {len(records)} log records, last step {last}")
    top = 1 - 1.0 / (3.6 * rows)  # room for the suptitle; fixed margins (tight_layout costs a full extra draw)
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.5 / (3.6 * rows), top=top, hspace=0.45, wspace=0.32)
    out = run_dir / "curves.png" if out is None else Path(out)
    atomic_write(out, lambda fh: fig.savefig(fh, format="png"), binary=True)
    return out
