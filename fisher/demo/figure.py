"""The ``fisher demo`` figure: what the tokenizer sees, ROC curves and score distributions (needs matplotlib).

Panels: (a) FISHER's normalised log-magnitude spectrogram of one clip at each sampling rate, with the fixed-width
sub-band boundaries drawn and labelled "band 1..n" (the residual highest bins the model drops are hatched);
(b) ROC curves of the k-NN anomaly scores per encoder; (c) per encoder, the score distributions of the normal and
the anomalous test clips. The PNG (a 256-colour palette image, ~130 kB) is written atomically and without pyplot
(the user's backend is left alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fisher.eval.metrics import roc_curve
from fisher.model.bands import spectrogram
from fisher.model.framing import frame_params

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["demo_figure"]


def _spectrogram_panel(ax: Axes, wave: np.ndarray, sr: float, band_width: int, label: str) -> None:
    spec = spectrogram(wave, sr)  # [T, F], normalised as the model sees it
    n_fft, hop = frame_params(sr)
    bin_hz = sr / n_fft
    n_bins = spec.shape[1]
    t_end = (spec.shape[0] - 1) * hop / sr + n_fft / sr
    ax.imshow(
        spec.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        interpolation="nearest",
        extent=(0, t_end, -bin_hz / 2 / 1000, (n_bins - 0.5) * bin_hz / 1000),
    )
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
    ax.set(
        title=f"(a) {label} @ {sr / 1000:g} kHz: {n_bands} band{'s' if n_bands > 1 else ''}",
        xlabel="time (s)",
        ylabel="frequency (kHz)",
    )
    ax.title.set_fontsize(9)


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
) -> Path:
    """Write the demo figure as PNG.

    Args:
        path: output file. spectra: ``[(sr_hz, wave [n] float32)]`` — one clip per sampling rate for panel (a).
        band_width: the model's sub-band width in STFT bins. scores: ``{encoder: [M] test scores}`` (higher =
            more anomalous). labels: ``[M]`` 0/1 of the test clips. classes: ``[M]`` class names for panel (c)
            (default "normal" / "anomalous"). clip_label: what panel (a) shows. title: figure title.
    Raises:
        ImportError: matplotlib is not installed (``pip install 'fisher-signal[plot]'``).
    """
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
    fig = Figure(figsize=(3.6 * max(n_top, n_bottom), 7.0), dpi=80, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 0.9))
    for ax, (sr, wave) in zip(np.atleast_1d(top.subplots(1, n_top)), spectra):
        _spectrogram_panel(ax, wave, sr, band_width, clip_label)
    axes = np.atleast_1d(bottom.subplots(1, n_bottom))
    roc_ax = axes[0]
    for name, s in scores.items():
        fpr, tpr = roc_curve(y, s)
        roc_ax.plot(fpr, tpr, label=name)
    roc_ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
    roc_ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title="(b) ROC (k-NN scores)",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    roc_ax.legend(loc="lower right", fontsize=8)
    order = ["normal"] + [c for c in dict.fromkeys(names) if c != "normal"]
    for ax, (name, s) in zip(axes[1:], scores.items()):
        s = np.asarray(s, dtype=float)
        bins = np.linspace(s.min(), s.max() + 1e-12, 16)
        for c in order:
            ax.hist(
                s[[n == c for n in names]],
                bins=bins,
                histtype="stepfilled" if c == "normal" else "step",
                alpha=0.45 if c == "normal" else 1.0,
                linewidth=1.5,
                label=c,
            )
        ax.set(xlabel="anomaly score (cosine distance)", ylabel="test clips", title=f"(c) scores: {name}")
        ax.legend(fontsize=8)
    for ax in axes:
        ax.title.set_fontsize(9)
    if title:
        fig.suptitle(title, fontsize=10)
    return atomic_write(Path(path), lambda fh: fh.write(_png_bytes(fig)), binary=True)


def _png_bytes(fig: Figure) -> bytes:
    """The figure as PNG, reduced to a 256-colour palette when Pillow (a matplotlib dependency) is importable."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - matplotlib requires Pillow
        return buf.getvalue()
    small = io.BytesIO()
    Image.open(io.BytesIO(buf.getvalue())).convert("RGB").quantize(colors=256).save(small, format="png", optimize=True)
    return small.getvalue()
