"""The ``fisher demo`` figure: what the tokenizer sees, ROC curves and score distributions (needs matplotlib).

Panels, lettered in reading order so every label is unique: (a), (b), … FISHER's normalised log-magnitude
spectrogram of one clip at each sampling rate, with a colorbar, the fixed-width sub-band boundaries drawn and
labelled "band 1..n" (the residual highest bins the model drops are hatched) and, when the clip is longer than
:data:`DISPLAY_SECONDS`, "first 10.0 s of 30.0 s" in the title; then the ROC curves of the k-NN anomaly scores with
each encoder's AUC in the legend; then, per encoder, the score distributions of the normal and the anomalous test
clips. An optional caveat (too few test clips for a meaningful AUC) is written in red under the bottom row.

The format follows the file suffix (:data:`FIGURE_FORMATS`; a PNG is a 256-colour palette image, ~150 kB). The file
is written atomically and without pyplot (the user's backend is left alone).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fisher.eval.metrics import roc_auc, roc_curve
from fisher.model.bands import spectrogram
from fisher.recipe.framing import frame_params

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DISPLAY_SECONDS", "FIGURE_FORMATS", "demo_figure", "figure_format"]

FIGURE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".pdf": "pdf", ".svg": "svg"}
DISPLAY_SECONDS = 10.0  # longer clips are cut for the spectrogram panels (the title says so)


def figure_format(path: str | Path) -> str:
    """The matplotlib format of ``path`` from its suffix (:data:`FIGURE_FORMATS`); ``ValueError`` for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FIGURE_FORMATS:
        shown = repr(suffix) if suffix else "no suffix"
        raise ValueError(
            f"figure {str(path)!r} has {shown}; the figure can be written as {', '.join(FIGURE_FORMATS)} "
            "(the format follows the suffix)"
        )
    return FIGURE_FORMATS[suffix]


def _spectrogram_panel(
    ax: Axes, wave: np.ndarray, sr: float, band_width: int, label: str, *, letter: str = "a", total_s: float = 0.0
) -> None:
    """Panel of one clip: spectrogram with colorbar, band boundaries and labels; ``total_s`` > shown → "first x s"."""
    spec = spectrogram(wave, sr)  # [T, F], normalised as the model sees it
    n_fft, hop = frame_params(sr)
    bin_hz = sr / n_fft
    n_bins = spec.shape[1]
    t_end = (spec.shape[0] - 1) * hop / sr + n_fft / sr
    image = ax.imshow(
        spec.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        interpolation="nearest",
        extent=(0, t_end, -bin_hz / 2 / 1000, (n_bins - 0.5) * bin_hz / 1000),
    )
    colorbar = ax.figure.colorbar(image, ax=ax, pad=0.02, fraction=0.06)
    colorbar.set_label("normalised log-magnitude", fontsize=7)
    colorbar.ax.tick_params(labelsize=7)
    n_bands = max(n_bins, band_width) // band_width
    for b in range(n_bands):
        lo, hi = b * band_width * bin_hz / 1000, min((b + 1) * band_width, n_bins) * bin_hz / 1000
        if b:
            ax.axhline(lo - bin_hz / 2000, color="cyan", linewidth=1.2)
        ax.text(
            0.98 * t_end,
            (lo + hi) / 2,
            f"band {b + 1}",
            color="cyan",
            fontsize=7,
            ha="right",
            va="center",
            fontweight="bold",
            bbox={"facecolor": "black", "alpha": 0.5, "pad": 1, "linewidth": 0},
        )
    dropped = n_bins - n_bands * band_width
    if dropped > 0:
        ax.axhspan(
            (n_bins - dropped - 0.5) * bin_hz / 1000,
            (n_bins - 0.5) * bin_hz / 1000,
            facecolor="none",
            edgecolor="white",
            hatch="///",
            linewidth=0,
        )
    shown_s = len(wave) / sr
    cut = f"\nfirst {shown_s:.1f} s of {total_s:.1f} s" if total_s > shown_s + 1e-9 else ""
    ax.set(
        title=f"({letter}) {label} @ {sr / 1000:g} kHz: {n_bands} band{'s' if n_bands > 1 else ''}{cut}",
        xlabel="time (s)",
        ylabel="frequency (kHz)",
    )
    ax.title.set_fontsize(9)


def _roc_panel(ax: Axes, y: np.ndarray, scores: Mapping[str, np.ndarray], letter: str) -> None:
    for name, s in scores.items():
        fpr, tpr = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc(y, s):.2f})")
    ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1, label="chance (AUC 0.50)")
    ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title=f"({letter}) ROC of the k-NN anomaly scores",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="lower right", fontsize=8)


def _score_panel(ax: Axes, name: str, s: np.ndarray, names: list[str], letter: str) -> None:
    from matplotlib.ticker import MaxNLocator

    s = np.asarray(s, dtype=float)
    bins = np.linspace(s.min(), s.max() + 1e-12, 16)
    for c in ["normal"] + [c for c in dict.fromkeys(names) if c != "normal"]:
        ax.hist(
            s[[n == c for n in names]],
            bins=bins,
            histtype="stepfilled" if c == "normal" else "step",
            alpha=0.45 if c == "normal" else 1.0,
            linewidth=1.5,
            label=c,
        )
    ax.set(xlabel="anomaly score (cosine distance)", ylabel="test clips", title=f"({letter}) test-clip scores: {name}")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)


def demo_figure(
    path: str | Path,
    *,
    spectra: Sequence[tuple[float, np.ndarray]],
    band_width: int,
    scores: Mapping[str, np.ndarray],
    labels: Sequence[int],
    classes: Sequence[str] | None = None,
    clip_label: str = "one clip",
    title: str = "",
    caveat: str | None = None,
    display_seconds: float = DISPLAY_SECONDS,
) -> Path:
    """Write the demo figure in the format of ``path``'s suffix (:data:`FIGURE_FORMATS`), atomically.

    Args:
        path: output file (``.png``, ``.jpg`` / ``.jpeg``, ``.pdf`` or ``.svg``).
        spectra: ``[(sr_hz, wave [n] float32)]`` — one clip per sampling rate for the spectrogram panels; clips
            longer than ``display_seconds`` are cut and the panel title says "first x s of y s".
        band_width: the model's sub-band width in STFT bins. scores: ``{encoder: [M] test scores}`` (higher =
            more anomalous). labels: ``[M]`` 0/1 of the test clips. classes: ``[M]`` class names for the score
            panels (default "normal" / "anomalous"). clip_label: what the spectrogram panels show. title: figure
            title. caveat: a warning printed in red under the bottom row (e.g. too few clips for a stable AUC).
    Raises:
        ValueError: an unknown suffix, no spectrogram or no scores.
        ImportError: matplotlib is not installed (``pip install 'fisher-signal[plot]'``).
    """
    fmt = figure_format(path)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("the demo figure needs matplotlib: pip install 'fisher-signal[plot]'") from None
    from fisher.files import atomic_write

    y = np.asarray(labels, dtype=int)
    names = list(classes) if classes is not None else ["anomalous" if v else "normal" for v in y]
    if not spectra or not scores:
        raise ValueError("the demo figure needs at least one spectrogram and one encoder's scores")
    n_top, n_bottom = len(spectra), 1 + len(scores)
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    fig = Figure(figsize=(4.0 * max(n_top, n_bottom), 7.4), dpi=80, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 0.9))
    for ax, (sr, wave) in zip(np.atleast_1d(top.subplots(1, n_top)), spectra):
        shown = wave[: int(min(len(wave), round(display_seconds * sr)))]
        _spectrogram_panel(ax, shown, sr, band_width, clip_label, letter=next(letters), total_s=len(wave) / sr)
    axes = np.atleast_1d(bottom.subplots(1, n_bottom))
    _roc_panel(axes[0], y, scores, next(letters))
    for ax, (name, s) in zip(axes[1:], scores.items()):
        _score_panel(ax, name, s, names, next(letters))
    for ax in axes:
        ax.title.set_fontsize(9)
    if title:
        fig.suptitle(title, fontsize=10)
    if caveat:
        width = max(60, int(13 * 4.0 * max(n_top, n_bottom)))  # ~13 characters per inch at 9 pt
        bottom.supxlabel(textwrap.fill(f"Caution: {caveat}", width), color="firebrick", fontsize=9, fontweight="bold")
    data = _png_bytes(fig) if fmt == "png" else _bytes(fig, fmt)
    return atomic_write(Path(path), lambda fh: fh.write(data), binary=True)


def _bytes(fig: Figure, fmt: str) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


def _png_bytes(fig: Figure) -> bytes:
    """The figure as PNG, reduced to a 256-colour palette when Pillow (a matplotlib dependency) is importable."""
    import io

    png = _bytes(fig, "png")
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - matplotlib requires Pillow
        return png
    small = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256).save(small, format="png", optimize=True)
    return small.getvalue()
