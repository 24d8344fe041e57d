"""Embedding long recordings from disk in bounded memory.

``Fisher.embed_file(path)`` reads a recording block by block through the one reader
(:mod:`fisher.signals.reader`: wav/flac/ogg, memory-mapped ``.npy``; ``.npz`` members and ``.mat`` files are loaded
whole because they cannot be read partially), embeds consecutive
1024-frame windows — the same windows as ``embed(..., long="chunk")`` — and returns per-window embeddings with
their time stamps plus the pooled (mean) embedding. Two passes: the first computes the recording's DC offset
(float64 running sum), the second embeds, so the result equals ``embed(whole_recording)`` up to the float32
rounding of the mean (≤ 1e-5) while peak memory depends only on ``batch_size``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.inference.embed import WindowEncoder, pool_bands
from fisher.model.framing import check_min_length, check_options, parse_summary, window_spans
from fisher.signals.checks import first_non_finite
from fisher.signals.reader import SignalFile

__all__ = ["DC_BLOCK", "FileEmbedding", "SignalReader", "embed_file", "iter_file_windows"]

DC_BLOCK = 1 << 20  # samples per read when computing the DC offset


class SignalReader:
    """One channel of a recording for block reads: ``.sr``, ``.n_samples``, ``.read(start, stop) -> [n] float32``.

    A view of :class:`fisher.signals.reader.SignalFile` (formats, rate, PCM and channel rules are the reader's).

    Args:
        path: any file of :data:`fisher.signals.reader.SIGNAL_EXTENSIONS`.
        channel: channel index (audio column; row / column of a 2-D array) or name (``"DE"``, ``"key:1"``).
        key: array name inside an ``.npz`` / ``.mat`` (required when it holds several signal arrays, e.g. ``"DE"``).
        sr: sampling rate in Hz; required when the file does not state it; when it does, a different ``sr`` raises
            (nothing is resampled).
    """

    def __init__(self, path: str | Path, *, channel: int | str = 0, key: str | None = None, sr: float | None = None):
        if isinstance(channel, bool) or (isinstance(channel, int) and channel < 0):
            raise ValueError(f"channel must be a non-negative integer or a name, got {channel!r}")
        self._file = SignalFile(path, sr=sr)
        ids = self._file.select(channel, key=key)
        if len(ids) != 1:
            self._file.close()
            raise ValueError(f"{path}: channel {channel!r} names {len(ids)} channels {ids}; choose one")
        self.path, self.sr, self.channel = self._file.path, self._file.sr, channel
        self._id = ids[0]
        self.channels = len(self._file.channels)
        self.n_samples = self._file.length(self._id)

    def read(self, start: int, stop: int) -> torch.Tensor:
        """Samples ``[start, stop)`` of the selected channel as float32 (integer PCM scaled to [-1, 1))."""
        return torch.from_numpy(self._file.read(self._id, start, stop))

    def mean(self, block: int = DC_BLOCK) -> float:
        """DC offset of the channel (float64 running sum over blocks).

        Raises ``ValueError`` naming the file, the channel and the first NaN / inf sample (the rule of
        ``Fisher.embed``, applied block by block).
        """
        total = 0.0
        for s in range(0, self.n_samples, block):
            samples = self.read(s, min(s + block, self.n_samples))
            bad = first_non_finite(samples.numpy())
            if bad is not None:
                index = s + bad
                raise ValueError(
                    f"{self.path} (channel {self.channel!r}) contains NaN or infinite samples (or values beyond "
                    f"float32), the first at sample {index} ({index / self.sr:.3f} s); clean the file or cut that "
                    "part before embedding"
                )
            total += float(samples.double().sum())
        return total / self.n_samples

    def close(self) -> None:
        self._file.close()


@dataclass
class FileEmbedding:
    """Per-window and pooled embeddings of one channel of a recording.

    Attributes:
        windows: ``[W, dim]`` float32 (``[W, bands, d]`` for ``pool="none"``, ``d`` the width of one band's
            summary), one row per 1024-frame window.
        times: ``[W, 2]`` float64 start / end of each window in seconds.
        embedding: mean over windows, ``[dim]`` — equals ``Fisher.embed(recording, sr)``.
        sr: sampling rate in Hz. path / channel: the source.
    """

    windows: np.ndarray
    times: np.ndarray
    embedding: np.ndarray
    sr: float
    path: str
    channel: int


def _iter_reader(
    model: torch.nn.Module,
    reader: SignalReader,
    pool: str,
    batch_size: int,
    precision: str,
    device: Any,
    summary: str | None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    cfg = model.config
    encoder = WindowEncoder(model, reader.sr, precision=precision, device=device, summary=summary)
    check_min_length(reader.n_samples, reader.sr, cfg.win_ms, cfg.hop_ms, where=reader.path.name)
    dc = torch.tensor(reader.mean(), dtype=torch.float32)
    spans = window_spans(reader.n_samples, encoder.n_fft, encoder.hop, cfg.max_frames)
    for b in range(0, len(spans), batch_size):
        group = spans[b : b + batch_size]
        offset = group[0][0]
        block = reader.read(offset, group[-1][1]) - dc
        specs = [encoder.spectrogram(block[s - offset : e - offset]) for s, e in group]
        full = [x for x in specs if len(x) == len(specs[0])]  # only the file's last window can be shorter
        vecs = encoder.encode(full)
        if len(full) < len(specs):
            vecs = torch.cat([vecs, encoder.encode(specs[len(full) :])])
        times = np.array([(s / reader.sr, e / reader.sr) for s, e in group], dtype=np.float64)
        yield times, pool_bands(vecs, pool).numpy()


@contextmanager
def _open_reader(
    path: str | Path,
    channel: int | str,
    key: str | None,
    sr: float | None,
    pool: str,
    batch_size: int,
    summary: str | None,
) -> Iterator[SignalReader]:
    """Check the options of :func:`iter_file_windows` / :func:`embed_file`, then open the reader (closed on exit)."""
    check_options(pool, "chunk", False, batch_size)
    if summary is not None:
        parse_summary(summary)
    reader = SignalReader(path, channel=channel, key=key, sr=sr)
    try:
        yield reader
    finally:
        reader.close()


def iter_file_windows(
    model: torch.nn.Module,
    path: str | Path,
    *,
    channel: int = 0,
    key: str | None = None,
    sr: float | None = None,
    pool: str = "concat",
    batch_size: int = 8,
    precision: str = "fp32",
    device: Any = None,
    summary: str | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(times [w, 2] in s, embeddings [w, dim])`` for consecutive batches of windows of a recording.

    Arguments as :class:`SignalReader` (``channel``, ``key``, ``sr``) and :meth:`Fisher.embed` (``pool``,
    ``batch_size`` = windows per forward pass and per read block, ``precision``, ``device``, ``summary`` = per-band
    summary, default ``model.config.summary``).
    """
    with _open_reader(path, channel, key, sr, pool, batch_size, summary) as reader:
        yield from _iter_reader(model, reader, pool, batch_size, precision, device, summary)


def embed_file(
    model: torch.nn.Module,
    path: str | Path,
    *,
    channel: int = 0,
    key: str | None = None,
    sr: float | None = None,
    pool: str = "concat",
    batch_size: int = 8,
    precision: str = "fp32",
    device: Any = None,
    summary: str | None = None,
) -> FileEmbedding:
    """Embed a whole recording window by window (bounded memory); see :func:`iter_file_windows`.

    ``summary`` (default ``model.config.summary``) is the per-band summary of :meth:`Fisher.embed`; the pooled
    ``embedding`` equals ``embed(recording, sr, summary=summary)``.
    """
    with _open_reader(path, channel, key, sr, pool, batch_size, summary) as reader:
        parts = list(_iter_reader(model, reader, pool, batch_size, precision, device, summary))
    windows = np.concatenate([w for _, w in parts])
    mean = windows.astype(np.float64).mean(axis=0).astype(np.float32)
    return FileEmbedding(
        windows=windows,
        times=np.concatenate([t for t, _ in parts]),
        embedding=mean,
        sr=reader.sr,
        path=str(path),
        channel=channel,
    )
