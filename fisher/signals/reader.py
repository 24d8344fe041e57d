"""The one signal reader: every file format fisher accepts, with one set of rules for rate, scaling and channels.

Used by long-file embedding (:mod:`fisher.recipe.long_files`), the datasets and evaluation runners
(:mod:`fisher.eval.datasets`, :mod:`fisher.eval.rmis`), pretraining (:mod:`fisher.pretrain.sources`), the parallel
embedder and the detector's file lists.

Formats (:data:`SIGNAL_EXTENSIONS`): wav / flac / ogg / aiff / w64 / rf64 / caf through ``soundfile``; ``.npy``
(memory-mapped); ``.npz``; MATLAB ``.mat`` (``scipy.io.loadmat``, v5 files).

Rules:

* **Sampling rate** — the audio header; in an ``.npz`` / ``.mat`` file the first scalar numeric entry named in
  :data:`SR_KEYS`; an ``.npy`` file states none. ``sr=`` must agree with a stated rate (``ValueError`` otherwise:
  nothing is resampled silently); ``default_sr=`` is used only when the file states none; no rate at all is a
  ``ValueError``.
* **Samples** — float32. Integer arrays in *any* format are PCM, scaled by their dtype's full scale
  (:func:`fisher.signals.checks.pcm_to_float`: ``int16 / 2**15`` …); float arrays are used as stored (e.g. g).
* **Channels** — an audio file has channels ``0 .. C-1`` (its columns). In ``.npz`` / ``.mat`` every numeric array
  with at least 2 samples that is not a rate entry is a signal: 1-D (or 2-D with a singleton axis) → one channel
  named by its key; 2-D ``[a, b]`` → channels ``"key:0" …`` along the **shorter axis** (``a <= b``: rows are
  channels, else columns). An ``.npy`` file follows the same orientation rule with channels ``0 .. C-1``.
* **Selection** (:meth:`SignalFile.select`) — ``key=`` restricts to one ``.npz`` / ``.mat`` array (also matched as
  CWRU-style ``X105_DE_time`` for ``"DE"``). ``channel=None`` needs exactly one candidate channel; an ``int`` (or a
  numeric string, as read from a CSV manifest) indexes the candidates when they come from one array / one audio
  file; a name selects an array (``"DE"``) or one of its rows (``"key:1"``); ``"mean"`` averages the candidates.
* **Bounded memory** — :meth:`SignalFile.read` reads only the requested block of an audio or ``.npy`` file;
  ``.npz`` members and ``.mat`` files cannot be read partially and are loaded once per :class:`SignalFile`.
* **Damaged files** — a file that cannot be opened or decoded (truncated FLAC / OGG, corrupt zip …) raises a
  ``ValueError`` naming the file. A truncated WAV whose header declares more frames than the file holds is read
  as far as it goes, with a ``UserWarning`` naming the file and both frame counts. Integer arrays outside the PCM
  dtypes (``int64`` …) raise a ``TypeError`` naming the file. NaN / inf samples are *read* as stored (the
  embedding entry points refuse them, naming the file and the first bad sample).
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fisher.signals.checks import check_sr, pcm_to_float
from fisher.signals.headers import npz_headers, wav_declared_frames
from fisher.types import PathLike, SampleRate

if TYPE_CHECKING:
    import soundfile

__all__ = [
    "AUDIO_EXTENSIONS",
    "READER_VERSION",
    "SIGNAL_EXTENSIONS",
    "SR_KEYS",
    "ChannelId",
    "SignalFile",
    "read_signal",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".w64", ".rf64", ".caf")
SIGNAL_EXTENSIONS = AUDIO_EXTENSIONS + (".npy", ".npz", ".mat")
#: Bumped when a rule changes the values read (embedding caches key on it).
READER_VERSION = 2
SR_KEYS = ("fs", "sr", "fs_hz", "sample_rate", "sampling_rate", "samplerate")
ChannelId = int | str  # audio / .npy: column or row index; .npz / .mat: "key" or "key:row"


def _layout(shape: tuple[int, ...]) -> tuple[int, int, bool] | None:
    """``(channels, samples, rows_are_channels)`` of a signal array, or ``None`` when it is no signal."""
    if len(shape) == 1:
        return (1, shape[0], True) if shape[0] >= 2 else None
    if len(shape) != 2 or max(shape) < 2:
        return None
    rows_are_channels = shape[0] <= shape[1]
    return (shape[0], shape[1], True) if rows_are_channels else (shape[1], shape[0], False)


def _key_matches(key: str, name: str) -> bool:
    return key == name or key.endswith(f"_{name}_time")


class SignalFile:
    """One signal file opened for reading: ``.sr``, ``.channels``, ``length(channel)``, ``read(channel, start, stop)``.

    Args:
        path: a file of :data:`SIGNAL_EXTENSIONS`.
        sr: expected sampling rate in Hz; must agree with the file's when the file states one.
        default_sr: rate for files that state none (e.g. a pretraining config's ``npz_sr``); ignored otherwise.
    """

    def __init__(self, path: PathLike, *, sr: SampleRate | None = None, default_sr: SampleRate | None = None) -> None:
        self.path = Path(path)
        if sr is not None:
            check_sr(sr)  # the one sampling-rate rule (positive whole Hz) for a rate given by the caller
        if not self.path.is_file():
            raise FileNotFoundError(f"signal file not found: {self.path}")
        self.kind = self.path.suffix.lower()
        if self.kind not in SIGNAL_EXTENSIONS:
            raise ValueError(
                f"{self.path}: unsupported signal format {self.kind!r}; allowed: {', '.join(SIGNAL_EXTENSIONS)}"
            )
        self._sf: soundfile.SoundFile | None = None
        self._arrays: dict[str, np.ndarray] = {}  # loaded .npz members / .mat arrays / the .npy memory map
        self._layouts: dict[str, tuple[int, int, bool]] = {}  # array key -> (channels, samples, rows_are_channels)
        try:
            file_sr = self._open()
        except (RuntimeError, OSError, ValueError, TypeError, KeyError, NotImplementedError, zipfile.BadZipFile) as err:
            what = "audio file" if self.kind in AUDIO_EXTENSIONS else "signal file"
            raise ValueError(
                f"cannot read {what} {self.path}: {err}"
            ) from None  # soundfile / zip / MATLAB format errors
        if file_sr is not None and sr is not None and abs(check_sr(sr) - file_sr) > 1e-6:
            raise ValueError(
                f"{self.path}: the file says sr = {file_sr:g} Hz but {float(sr):g} Hz was given; "
                "resample it explicitly first (fisher never resamples silently)"
            )
        rate = file_sr if file_sr is not None else (sr if sr is not None else default_sr)
        if rate is None:
            raise ValueError(f"{self.path}: the file stores no sampling rate; pass sr=... (manifest column 'sr')")
        self.sr = check_sr(rate, name=f"sampling rate of {self.path}", integer=False)  # embedders refuse fractions
        if not self.channels:
            raise ValueError(f"{self.path}: holds no signal (no numeric array with at least 2 samples)")

    # ------------------------------------------------------------------ opening
    def _open(self) -> float | None:
        if self.kind in AUDIO_EXTENSIONS:
            import soundfile as sf

            self._sf = sf.SoundFile(str(self.path))
            self.channels: list[ChannelId] = list(range(self._sf.channels))
            self._audio_frames = int(self._sf.frames)
            declared = wav_declared_frames(self.path) if self.kind == ".wav" else None
            if declared is not None and declared > self._audio_frames:
                warnings.warn(
                    f"{self.path}: the WAV header declares {declared} frames but the file holds only "
                    f"{self._audio_frames} (truncated file?); reading the {self._audio_frames} frames present",
                    UserWarning,
                    stacklevel=3,
                )
            return float(self._sf.samplerate)
        if self.kind == ".npy":
            arr = np.load(self.path, mmap_mode="r", allow_pickle=False)
            layout = _layout(arr.shape) if arr.dtype.kind in "iuf" else None
            if layout is None:
                raise ValueError(f"expected a numeric 1-D signal or a 2-D [channels, N] array, got {arr.shape}")
            self._arrays[""], self._layouts[""] = arr, layout
            self.channels = list(range(layout[0]))
            return None
        if self.kind == ".npz":
            headers = npz_headers(self.path)
        else:
            from scipy.io import loadmat

            self._arrays = {k: v for k, v in loadmat(str(self.path)).items() if not k.startswith("__")}
            headers = {k: (np.shape(v), np.asarray(v).dtype) for k, v in self._arrays.items()}
        rate = None
        for key in SR_KEYS:
            if key in headers and int(np.prod(headers[key][0])) == 1 and headers[key][1].kind in "iuf":
                rate = float(np.asarray(self._array(key)).ravel()[0])
                break
        self.channels = []
        for key, (shape, dtype) in headers.items():
            layout = _layout(shape) if key not in SR_KEYS and dtype.kind in "iuf" else None
            if layout is None:
                continue
            self._layouts[key] = layout
            self.channels.extend([key] if layout[0] == 1 else [f"{key}:{c}" for c in range(layout[0])])
        return rate

    def _array(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            with np.load(self.path, allow_pickle=False) as z:
                self._arrays[key] = z[key]
        return self._arrays[key]

    def _split(self, channel: ChannelId) -> tuple[str, int]:
        if isinstance(channel, int):
            return ("", channel) if self.kind == ".npy" else ("<audio>", channel)
        key, _, row = channel.partition(":")
        return key, int(row or 0)

    # ------------------------------------------------------------------ queries
    def length(self, channel: ChannelId) -> int:
        """Number of samples of ``channel``."""
        key, _ = self._split(self._check(channel))
        return self._audio_frames if key == "<audio>" else self._layouts[key][1]

    def _check(self, channel: ChannelId) -> ChannelId:
        if channel not in self.channels:
            raise ValueError(f"{self.path}: no channel {channel!r}; available: {self.channels}")
        return channel

    def select(self, channel: ChannelId | None = None, *, key: str | None = None) -> list[ChannelId]:
        """The channel ids a ``channel`` / ``key`` request names (module rules); several only for ``"mean"``/arrays."""
        candidates = self.channels
        if key is not None:
            candidates = [c for c in candidates if isinstance(c, str) and _key_matches(self._split(c)[0], str(key))]
            if not candidates:
                raise ValueError(f"{self.path}: has no array {key!r}; signals: {self.channels}")
        if isinstance(channel, str) and channel.strip().lower() == "mean":
            if len({self.length(c) for c in candidates}) != 1:
                raise ValueError(f"{self.path}: channel='mean' needs channels of equal length")
            return list(candidates)
        if isinstance(channel, str) and channel.strip().isdigit():
            channel = int(channel)
        if channel is None:
            if len(candidates) != 1:
                raise ValueError(
                    f"{self.path}: has {len(candidates)} channels {candidates}; choose one with "
                    "channel=<index or name> (or channel='mean')"
                )
            return list(candidates)
        if isinstance(channel, (int, np.integer)) and not isinstance(channel, bool):
            arrays = {self._split(c)[0] for c in candidates}
            if len(arrays) > 1:
                raise ValueError(f"{self.path}: holds several signal arrays {sorted(arrays)}; pass key=... to name one")
            if not 0 <= channel < len(candidates):
                raise ValueError(
                    f"{self.path}: channel={channel} does not exist (the file has {len(candidates)} channel(s))"
                )
            return [candidates[int(channel)]]
        if isinstance(channel, str):
            name, _, row = channel.strip().partition(":")
            hits = [
                c
                for c in candidates
                if isinstance(c, str) and _key_matches(self._split(c)[0], name) and (not row or c.endswith(f":{row}"))
            ]
            if not hits or len({self._split(c)[0] for c in hits}) != 1:
                raise ValueError(f"{self.path}: no unique signal {channel!r}; available: {self.channels}")
            return hits
        raise TypeError(f"channel must be None, an index, a name or 'mean', got {type(channel).__name__}")

    # ------------------------------------------------------------------ reading
    def read(self, channel: ChannelId | list[ChannelId], start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``[start, stop)`` of ``channel`` (the mean of a list of channels) as float32 ``[stop - start]``."""
        ids = channel if isinstance(channel, list) else [channel]
        n = min(self.length(c) for c in ids)
        stop = n if stop is None else stop
        if not 0 <= start <= stop <= n:
            raise ValueError(f"range [{start}, {stop}) outside {self.path} channel {channel!r} ({n} samples)")
        columns = [self._read_one(c, start, stop) for c in ids]
        if len(columns) == 1:
            return columns[0]
        return np.stack(columns, axis=1).mean(axis=1, dtype=np.float32)

    def _read_one(self, channel: ChannelId, start: int, stop: int) -> np.ndarray:
        key, index = self._split(self._check(channel))
        if key == "<audio>":
            try:
                self._sf.seek(start)
                block = self._sf.read(stop - start, dtype="float32", always_2d=True)[:, index]
            except RuntimeError as err:  # soundfile.LibsndfileError: truncated / corrupt compressed stream
                raise ValueError(
                    f"cannot decode audio file {self.path} (samples {start}..{stop}): {err}; the file may be "
                    "truncated or corrupt: re-export or re-download it"
                ) from None
            if len(block) < stop - start:
                raise ValueError(
                    f"{self.path}: only {len(block)} of the {stop - start} frames from {start} could be read (the "
                    f"header declares {self._audio_frames}); the file may be truncated or corrupt"
                )
            return np.ascontiguousarray(block)
        arr = self._array(key)
        _, _, rows = self._layouts[key]
        arr = np.asarray(arr).reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
        block = arr[start:stop] if arr.ndim == 1 else (arr[index, start:stop] if rows else arr[start:stop, index])
        return np.array(
            pcm_to_float(np.asarray(block), str(self.path)), dtype=np.float32
        )  # a writable copy (mmap is read-only)

    def close(self) -> None:
        if self._sf is not None:
            self._sf.close()
            self._sf = None
        self._arrays.clear()


def read_signal(
    path: PathLike, *, channel: ChannelId | None = None, sr: SampleRate | None = None, key: str | None = None
) -> tuple[np.ndarray, float]:
    """Load one channel (or the ``"mean"`` of channels) of a signal file, whole.

    Args:
        path: a file of :data:`SIGNAL_EXTENSIONS`.
        channel: ``None`` (the file must hold one channel), an index, an array name / ``"key:row"``, or ``"mean"``.
        sr: sampling rate in Hz for files that state none; must agree with a stated rate.
        key: restrict to one ``.npz`` / ``.mat`` array.

    Returns:
        ``(x, sr)``: float32 ``[N]`` samples (integer PCM scaled to [-1, 1), floats as stored) and the rate in Hz.
    """
    f = SignalFile(path, sr=sr)
    try:
        ids = f.select(channel, key=key)
        if len(ids) > 1 and not (isinstance(channel, str) and channel.strip().lower() == "mean"):
            raise ValueError(f"{f.path}: {channel!r} names {len(ids)} channels {ids}; choose one ('key:row')")
        x = f.read(ids if len(ids) > 1 else ids[0])
    finally:
        f.close()
    if x.size == 0:
        raise ValueError(f"{f.path}: the signal is empty")
    return x, f.sr
