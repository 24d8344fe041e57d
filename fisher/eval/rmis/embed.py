"""Embed signal files with any encoder: read -> (resample) -> (segment) -> windows -> mean over windows, with an
on-disk cache so that re-runs are instant.

Cache layout: ``<cache_dir>/<encoder cache_key>/<sha256>.npy``, one ``[S, dim]`` float32 array per file (``S``
segments, 1 without segmentation). The hash covers the file's absolute path, size and modification time, the channel,
the sampling-rate override and every windowing / resampling setting, so a changed file or setting is recomputed.
Files are written atomically. Encoders without a ``cache_key`` attribute are never cached.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from fisher.eval.rmis.windows import rmis_windows, segments
from fisher.files import atomic_write
from fisher.signals.reader import READER_VERSION, read_signal
from fisher.signals.resample import DEFAULT_METHOD, resample

if TYPE_CHECKING:
    from fisher.eval.encoders import Encoder

__all__ = ["embed_files", "embed_signal"]


def embed_signal(
    x: np.ndarray, sr: float, encoder: Encoder, *, window_s: float = 10.0, segment_s: float | None = None
) -> np.ndarray:
    """``[S, dim]`` float32: per segment (whole signal if ``segment_s`` is None) the mean of its window embeddings."""
    pad = bool(getattr(encoder, "pad_windows", False))
    parts = [x] if segment_s is None else segments(x, sr, segment_s)
    out = []
    for part in parts:
        windows = rmis_windows(part, sr, window_s, pad=pad)
        emb = np.asarray(encoder.embed(windows if len(windows) > 1 else windows[0], sr), dtype=np.float32)
        out.append(emb.reshape(len(windows), -1).mean(axis=0, dtype=np.float64))
    return np.stack(out).astype(np.float32)


def _cache_file(cache_dir: Path, encoder_key: str, path: Path, settings: dict[str, Any]) -> Path:
    stat = path.stat()
    ident = repr((str(path.resolve()), stat.st_size, stat.st_mtime_ns, sorted(settings.items())))
    folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", encoder_key)[:100]
    return cache_dir / folder / (hashlib.sha256(ident.encode()).hexdigest() + ".npy")


def embed_files(
    sources: list[Any],
    encoder: Encoder,
    *,
    window_s: float = 10.0,
    segment_s: float | None = None,
    resample_to: float | None = None,
    cache_dir: str | Path | None = None,
    show_progress: bool = False,
    desc: str = "embedding",
    single_sr: bool = True,
) -> list[np.ndarray]:
    """Embed every source (an object with ``path`` and optional ``channel`` / ``sr``: a
    :class:`fisher.eval.datasets.SignalItem`, :class:`fisher.eval.dcase.DcaseClip`, ...).

    Returns:
        One float32 ``[S_i, dim]`` array per source (``S_i = 1`` without ``segment_s``). All must share ``dim`` and,
        with ``single_sr``, one sampling rate (else ``ValueError``; use ``resample_to``).
    """
    key = getattr(encoder, "cache_key", None)
    cache = Path(cache_dir) if cache_dir is not None and key else None
    out, rates = [], {}
    for src in tqdm(sources, desc=desc, unit="file", disable=not show_progress):
        path = Path(src.path)
        channel, sr_override = getattr(src, "channel", None), getattr(src, "sr", None)
        settings = {
            "channel": str(channel),
            "sr": sr_override,
            "window_s": window_s,
            "segment_s": segment_s,
            "resample_to": resample_to,
            "resampler": DEFAULT_METHOD,
            "reader": READER_VERSION,
        }
        cfile = _cache_file(cache, key, path, settings) if cache is not None else None
        if cfile is not None and cfile.is_file():
            out.append(np.load(cfile))
            continue
        x, sr = read_signal(path, channel=channel, sr=sr_override)
        if resample_to is not None:
            x, sr = resample(x, sr, float(resample_to), who="rmis"), float(resample_to)
        rates.setdefault(sr, path)
        if single_sr and len(rates) > 1:
            (r1, p1), (r2, p2) = list(rates.items())[:2]
            raise ValueError(
                f"mixed sampling rates: {p1.name} is {r1:g} Hz but {p2.name} is {r2:g} Hz; one rate is "
                "required (embedding sizes depend on it): resample (resample_to=) or split the dataset"
            )
        emb = embed_signal(x, sr, encoder, window_s=window_s, segment_s=segment_s)
        if cfile is not None:
            atomic_write(cfile, lambda fh, arr=emb: np.save(fh, arr), binary=True)
        out.append(emb)
    dims = {e.shape[1] for e in out}
    if len(dims) > 1:
        raise ValueError(f"embeddings have different sizes {sorted(dims)} (mixed sampling rates?); use resample_to=")
    return out
