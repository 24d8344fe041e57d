"""Embedding long recordings from disk in bounded memory.

``Fisher.embed_file(path)`` / ``OnnxFisher.embed_file(path)`` read a recording block by block through the one reader
(:mod:`fisher.signals.reader`: wav/flac/ogg, memory-mapped ``.npy``; ``.npz`` members and ``.mat`` files are loaded
whole because they cannot be read partially), embeds consecutive
1024-frame windows — the same windows as ``embed(..., long="chunk")`` — and returns per-window embeddings with
their time stamps plus the pooled (mean) embedding. Two passes: the first computes the recording's DC offset
(float64 running sum), the second embeds, so the result equals ``embed(whole_recording)`` up to the float32
rounding of the mean (≤ 1e-5) while peak memory depends only on ``batch_size``. Torch-free: the windows go to
any :class:`fisher.recipe.plan.BandBackend`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fisher.recipe.plan import BandBackend, EmbeddingRecipe
from fisher.signals.checks import first_non_finite
from fisher.signals.reader import SignalFile

__all__ = ["DC_BLOCK", "FileEmbedding", "SignalReader", "embed_reader", "iter_reader_windows", "open_reader"]

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

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of the selected channel as float32 numpy (integer PCM scaled to [-1, 1))."""
        return self._file.read(self._id, start, stop)

    def mean(self, block: int = DC_BLOCK) -> float:
        """DC offset of the channel (float64 running sum over blocks).

        Raises ``ValueError`` naming the file, the channel and the first NaN / inf sample (the rule of
        ``Fisher.embed``, applied block by block).
        """
        total = 0.0
        for s in range(0, self.n_samples, block):
            samples = self.read(s, min(s + block, self.n_samples))
            bad = first_non_finite(samples)
            if bad is not None:
                index = s + bad
                raise ValueError(
                    f"{self.path} (channel {self.channel!r}) contains NaN or infinite samples (or values beyond "
                    f"float32), the first at sample {index} ({index / self.sr:.3f} s); clean the file or cut that "
                    "part before embedding"
                )
            total += float(samples.sum(dtype=np.float64))
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


def iter_reader_windows(
    recipe: EmbeddingRecipe, backend: BandBackend, reader: SignalReader
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(times [w, 2] in s, pooled embeddings [w, dim])`` for consecutive batches of ``recipe.batch_size``
    windows (``long="chunk"`` windows; the block read per batch bounds the memory)."""
    spans = recipe.windows(reader.n_samples, where=reader.path.name, long="chunk")
    dc = np.float32(reader.mean())
    for b in range(0, len(spans), recipe.batch_size):
        group = spans[b : b + recipe.batch_size]
        offset = group[0][0]
        block = reader.read(offset, group[-1][1]) - dc
        specs = [backend.spectrogram(block[s - offset : e - offset]) for s, e in group]
        full = [x for x in specs if len(x) == len(specs[0])]  # only the file's last window can be shorter
        vecs = backend.encode(full)
        if len(full) < len(specs):
            vecs = np.concatenate([vecs, backend.encode(specs[len(full) :])])
        times = np.array([(s / reader.sr, e / reader.sr) for s, e in group], dtype=np.float64)
        yield times, recipe.pool_windows(vecs)


@contextmanager
def open_reader(
    path: str | Path, *, channel: int | str = 0, key: str | None = None, sr: float | None = None
) -> Iterator[SignalReader]:
    """Open one channel of a recording for block reads (closed on exit); see :class:`SignalReader`."""
    reader = SignalReader(path, channel=channel, key=key, sr=sr)
    try:
        yield reader
    finally:
        reader.close()


def embed_reader(
    recipe: EmbeddingRecipe, backend: BandBackend, reader: SignalReader, path: str | Path | None = None
) -> FileEmbedding:
    """A whole recording window by window: per-window rows, their times and the mean over windows (``path``: the
    name to record, default the reader's)."""
    parts = list(iter_reader_windows(recipe, backend, reader))
    windows = np.concatenate([w for _, w in parts])
    mean = windows.astype(np.float64).mean(axis=0).astype(np.float32)
    return FileEmbedding(
        windows=windows,
        times=np.concatenate([t for t, _ in parts]),
        embedding=mean,
        sr=reader.sr,
        path=str(reader.path if path is None else path),
        channel=reader.channel,
    )
