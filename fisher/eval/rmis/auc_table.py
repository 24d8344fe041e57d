"""A compact k-NN anomaly-score comparison of several encoders (used by ``fisher demo``), with an optional ROC plot.

For every encoder: memory bank = the embeddings marked ``"train"`` (normal clips), score of a test clip = mean cosine
distance to its ``k`` nearest bank entries, then AUC and McClish pAUC over the test clips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fisher.eval.dcase.report import format_table
from fisher.eval.metrics import as_binary_labels, partial_auc, roc_auc, roc_curve
from fisher.eval.rmis.distances import as_embeddings, knn_mean_distance

__all__ = ["AucTable", "DemoTable", "auc_table", "demo_table", "plot_roc"]


@dataclass
class AucTable:
    """``rows``: one dict per encoder (``encoder``, ``dim``, ``auc``, ``pauc``); ``text``: printable table;
    ``scores``: test scores per encoder; ``png``: written ROC plot or None; ``notes``: messages (e.g. no matplotlib)."""

    rows: list[dict[str, Any]]
    text: str
    scores: dict[str, np.ndarray]
    png: Path | None = None
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text


def plot_roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path, *, title: str = "ROC") -> Path:
    """Write a ROC plot (one line per ``name -> (fpr, tpr)``) as PNG. Needs matplotlib (``pip install
    'fisher-signal[plot]'``); raises ``ImportError`` with that hint otherwise."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("the ROC plot needs matplotlib: pip install 'fisher-signal[plot]'") from None
    from fisher.files import atomic_write

    fig = Figure(figsize=(4.5, 4.5), dpi=100)  # no pyplot: leaves the user's backend alone
    ax = fig.subplots()
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"), binary=True)
    return path


def auc_table(
    embeddings: Mapping[str, Any],
    labels: Sequence[Any],
    split: Sequence[str],
    *,
    k: int = 1,
    max_fpr: float = 0.1,
    roc_png: str | Path | None = None,
    title: str = "k-NN anomaly scores",
) -> AucTable:
    """Score and compare encoders on one small labelled set.

    Args:
        embeddings: ``{encoder name: [N, D] array}`` (same ``N`` rows for every encoder; ``D`` may differ).
        labels: ``[N]`` 0/1 or "normal"/"anomaly" (train rows must be normal).
        split: ``[N]`` "train" (memory bank) or "test".
        roc_png: if given, write the ROC curves there (skipped with a note when matplotlib is missing).
    """
    if not embeddings:
        raise ValueError("give at least one encoder's embeddings")
    y = as_binary_labels(labels)
    is_train = np.array([str(s).lower() == "train" for s in split])
    if len(split) != y.size or not {str(s).lower() for s in split} <= {"train", "test"}:
        raise ValueError("split must give 'train' or 'test' for every row of labels")
    if y[is_train].any():
        raise ValueError("train rows (the memory bank) must all be normal")
    rows, scores, curves = [], {}, {}
    for name, emb in embeddings.items():
        x = as_embeddings(emb, f"embeddings[{name!r}]")
        if x.shape[0] != y.size:
            raise ValueError(f"embeddings[{name!r}] has {x.shape[0]} rows, labels have {y.size}")
        s = knn_mean_distance(x[~is_train], x[is_train], k)
        yt = y[~is_train]
        scores[name] = s
        rows.append(
            {"encoder": name, "dim": x.shape[1], "auc": roc_auc(yt, s), "pauc": partial_auc(yt, s, max_fpr=max_fpr)}
        )
        curves[name] = roc_curve(yt, s)
    table = format_table(
        ["encoder", "dim", "AUC", f"pAUC@{max_fpr:g}"],
        [[r["encoder"], str(r["dim"]), f"{100 * r['auc']:.2f}", f"{100 * r['pauc']:.2f}"] for r in rows],
    )
    n_bank, n_test = int(is_train.sum()), int((~is_train).sum())
    text = f"{title} (bank {n_bank} normal clips, {n_test} test clips, k={k}; percent)\n{table}"
    result = AucTable(rows, text, scores)
    if roc_png is not None:
        try:
            result.png = plot_roc(curves, roc_png, title=title)
        except ImportError as err:
            result.notes.append(f"ROC plot skipped: {err}")
    return result


# Former names (0.2), kept as aliases: the table is a general k-NN AUC / pAUC report, not only the demo's.
DemoTable = AucTable
demo_table = auc_table
