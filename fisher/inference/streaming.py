"""Embedding long recordings from disk in bounded memory.

``Fisher.embed_file(path)`` reads a recording block by block (``soundfile`` for wav/flac/ogg, memory-mapped
``.npy``; ``.npz`` members are loaded whole because zip members cannot be memory-mapped), embeds consecutive
1024-frame windows — the same windows as ``embed(..., long="chunk")`` — and returns per-window embeddings with
their time stamps plus the pooled (mean) embedding. Two passes: the first computes the recording's DC offset
(float64 running sum), the second embeds, so the result equals ``embed(whole_recording)`` up to the float32
rounding of the mean (≤ 1e-5) while peak memory depends only on ``batch_size``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fisher.inference.embed import WindowEncoder, check_options, pool_bands, window_spans
from fisher.model.bands import check_min_length
from fisher.signals.validate import check_sr, pcm_to_float

__all__ = ["DC_BLOCK", "FileEmbedding", "SignalReader", "embed_file", "iter_file_windows"]

DC_BLOCK = 1 << 20  # samples per read when computing the DC offset
SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".w64", ".rf64", ".caf"}


class SignalReader:
    """Random access to one channel of a recording: ``.sr``, ``.n_samples``, ``.read(start, stop) -> [n] float32``.

    Args:
        path: wav/flac/ogg/... (any soundfile format), ``.npy`` (1-D, or 2-D ``[channels, N]``) or ``.npz``.
        channel: channel index (soundfile: column; ``.npy`` 2-D: row).
        key: array name inside an ``.npz`` (required when it holds several signal arrays, e.g. CWRU ``"DE"``).
        sr: sampling rate in Hz; required for ``.npy`` and for ``.npz`` without an ``fs``/``sr`` entry; when the
            file states its rate, a different ``sr`` raises (nothing is resampled).
    """

    def __init__(self, path: str | Path, *, channel: int = 0, key: str | None = None, sr: float | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no such signal file: {self.path}")
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            raise ValueError(f"channel must be a non-negative integer, got {channel!r}")
        suffix = self.path.suffix.lower()
        self._sf = None
        if suffix in SOUNDFILE_SUFFIXES:
            import soundfile as sf

            self._sf = sf.SoundFile(str(self.path))
            file_sr, channels, self.n_samples = float(self._sf.samplerate), self._sf.channels, self._sf.frames
            self._array = None
        elif suffix in (".npy", ".npz"):
            file_sr, self._array = self._open_numpy(suffix, key)
            channels = 1 if self._array.ndim == 1 else self._array.shape[0]
            self.n_samples = self._array.shape[-1]
        else:
            raise ValueError(f"unsupported signal file {self.path.name}: use wav/flac/ogg (soundfile), .npy or .npz")
        if channel >= channels:
            raise ValueError(f"{self.path.name} has {channels} channel(s); channel={channel} does not exist")
        self.channel, self.channels = channel, channels
        if sr is not None and file_sr is not None and check_sr(sr) != file_sr:
            raise ValueError(f"{self.path.name} is sampled at {file_sr:g} Hz but sr={sr} was given; resample it "
                             "explicitly first (fisher never resamples silently)")
        if file_sr is None and sr is None:
            raise ValueError(f"{self.path.name} does not state its sampling rate: pass sr=...")
        self.sr = check_sr(file_sr if file_sr is not None else sr)

    def _open_numpy(self, suffix: str, key: str | None) -> tuple[float | None, np.ndarray]:
        if suffix == ".npy":
            arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
            file_sr = None
        else:
            with np.load(self.path, allow_pickle=False) as z:
                signal_keys = [k for k in z.files if z[k].ndim in (1, 2) and z[k].size > 1]
                if key is None:
                    if len(signal_keys) != 1:
                        raise ValueError(f"{self.path.name} holds several arrays {signal_keys}; pass key=...")
                    key = signal_keys[0]
                if key not in z.files:
                    raise ValueError(f"{self.path.name} has no array {key!r}; available: {z.files}")
                arr = z[key]
                rate = next((z[k] for k in ("fs", "sr", "sample_rate") if k in z.files), None)
                file_sr = float(rate) if rate is not None else None
        if arr.ndim not in (1, 2):
            raise ValueError(f"{self.path.name}: expected a 1-D signal or [channels, N], got shape {arr.shape}")
        return file_sr, arr

    def read(self, start: int, stop: int) -> torch.Tensor:
        """Samples ``[start, stop)`` of the selected channel as float32 (integer PCM scaled to [-1, 1))."""
        if self._sf is not None:
            self._sf.seek(start)
            block = self._sf.read(stop - start, dtype="float32", always_2d=True)[:, self.channel]
        else:
            block = self._array[start:stop] if self._array.ndim == 1 else self._array[self.channel, start:stop]
            block = pcm_to_float(np.asarray(block))
        return torch.from_numpy(np.array(block, dtype=np.float32))  # a writable copy (mmap blocks are read-only)

    def mean(self, block: int = DC_BLOCK) -> float:
        """DC offset of the channel (float64 running sum over blocks)."""
        total = 0.0
        for s in range(0, self.n_samples, block):
            total += float(self.read(s, min(s + block, self.n_samples)).double().sum())
        return total / self.n_samples

    def close(self) -> None:
        if self._sf is not None:
            self._sf.close()


@dataclass
class FileEmbedding:
    """Per-window and pooled embeddings of one channel of a recording.

    Attributes:
        windows: ``[W, dim]`` float32 (``[W, bands, D]`` for ``pool="none"``), one row per 1024-frame window.
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


def _iter_reader(model: torch.nn.Module, reader: SignalReader, pool: str, batch_size: int, precision: str,
                 device: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    cfg = model.config
    encoder = WindowEncoder(model, reader.sr, precision=precision, device=device)
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


def iter_file_windows(model: torch.nn.Module, path: str | Path, *, channel: int = 0, key: str | None = None,
                      sr: float | None = None, pool: str = "concat", batch_size: int = 8,
                      precision: str = "fp32", device: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(times [w, 2] in s, embeddings [w, dim])`` for consecutive batches of windows of a recording.

    Arguments as :class:`SignalReader` (``channel``, ``key``, ``sr``) and :meth:`Fisher.embed` (``pool``,
    ``batch_size`` = windows per forward pass and per read block, ``precision``, ``device``).
    """
    check_options(pool, "chunk", False, batch_size)
    reader = SignalReader(path, channel=channel, key=key, sr=sr)
    try:
        yield from _iter_reader(model, reader, pool, batch_size, precision, device)
    finally:
        reader.close()


def embed_file(model: torch.nn.Module, path: str | Path, *, channel: int = 0, key: str | None = None,
               sr: float | None = None, pool: str = "concat", batch_size: int = 8, precision: str = "fp32",
               device: Any = None) -> FileEmbedding:
    """Embed a whole recording window by window (bounded memory); see :func:`iter_file_windows`."""
    check_options(pool, "chunk", False, batch_size)
    reader = SignalReader(path, channel=channel, key=key, sr=sr)
    try:
        parts = list(_iter_reader(model, reader, pool, batch_size, precision, device))
    finally:
        reader.close()
    windows = np.concatenate([w for _, w in parts])
    mean = windows.astype(np.float64).mean(axis=0).astype(np.float32)
    return FileEmbedding(windows=windows, times=np.concatenate([t for t, _ in parts]), embedding=mean,
                         sr=reader.sr, path=str(path), channel=channel)
