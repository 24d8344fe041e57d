"""Read one signal channel from a file: WAV / FLAC / OGG (soundfile), ``.npz`` (numpy) or ``.mat`` (MATLAB).

Channel selection (``channel=``):

* ``None`` - the file must hold exactly one channel (one signal array for npz / mat), otherwise ``ValueError``.
* an ``int`` - that channel of an audio file (0-based).
* ``"mean"`` - the average of the channels of an audio file.
* a name (npz / mat) - the array with that key; for MATLAB files a key ending in ``_<name>_time`` also matches
  (CWRU style ``X105_DE_time`` for ``"DE"``).

The sampling rate comes from the audio header, from an ``fs`` / ``sr`` entry of an npz / mat file, or from ``sr=``;
when both exist they must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["AUDIO_EXTENSIONS", "SIGNAL_EXTENSIONS", "read_signal"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
SIGNAL_EXTENSIONS = AUDIO_EXTENSIONS + (".npz", ".mat")
_SR_KEYS = ("fs", "sr", "fs_hz", "sample_rate", "sampling_rate")


def _pick_channel(data: np.ndarray, channel: Any, path: Path) -> np.ndarray:
    n_ch = data.shape[1]
    if channel is None:
        if n_ch != 1:
            raise ValueError(f"{path}: has {n_ch} channels; choose one with channel=<index> or channel='mean'")
        return data[:, 0]
    if isinstance(channel, str) and channel.strip().lower() == "mean":
        return data.mean(axis=1)
    try:
        index = int(channel)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: channel must be an index or 'mean' for audio files, got {channel!r}") from None
    if not 0 <= index < n_ch:
        raise ValueError(f"{path}: channel {index} does not exist (the file has {n_ch} channel(s))")
    return data[:, index]


def _read_audio(path: Path, channel: Any) -> tuple[np.ndarray, float]:
    import soundfile as sf

    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as err:  # soundfile.LibsndfileError is a RuntimeError
        raise ValueError(f"cannot read audio file {path}: {err}") from None
    return _pick_channel(data, channel, path), float(sr)


def _arrays(path: Path, channel: Any) -> dict[str, Any]:
    """The arrays of an npz / mat file (npz: only the sampling-rate entries and the requested channel if given)."""
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = z.files
                if channel is not None:
                    name = str(channel)
                    names = [k for k in names if k in _SR_KEYS or k == name or k.endswith(f"_{name}_time")]
                return {k: z[k] for k in names}
        from scipy.io import loadmat

        return {k: v for k, v in loadmat(str(path)).items() if not k.startswith("__")}
    except (OSError, ValueError, TypeError, KeyError, NotImplementedError) as err:  # zip / MATLAB format errors
        raise ValueError(f"cannot read {path}: {err}") from None


def _read_arrays(path: Path, channel: Any) -> tuple[np.ndarray, float | None]:
    arrays = _arrays(path, channel)
    sr = None
    for key in _SR_KEYS:
        if key in arrays and np.size(arrays[key]) == 1:
            sr = float(np.asarray(arrays[key]).ravel()[0])
            break
    signals = {k: v for k, v in arrays.items() if np.asarray(v).dtype.kind in "iuf" and np.size(v) > 1}
    if channel is None:
        if len(signals) != 1:
            raise ValueError(f"{path}: holds signals {sorted(signals)}; choose one with channel=<name>")
        key = next(iter(signals))
    else:
        name = str(channel)
        hits = [k for k in signals if k == name or k.endswith(f"_{name}_time")]
        if len(hits) != 1:
            raise ValueError(f"{path}: no unique signal {name!r}; available: {sorted(signals)}")
        key = hits[0]
    x = np.asarray(signals[key]).squeeze()
    if x.ndim != 1:
        raise ValueError(f"{path}: signal {key!r} has shape {np.shape(signals[key])}, expected a 1-D vector")
    return x.astype(np.float32), sr


def read_signal(path: str | Path, *, channel: Any = None, sr: float | None = None) -> tuple[np.ndarray, float]:
    """Load one channel of a signal file.

    Returns:
        ``(x, sr)``: float32 ``[N]`` samples (audio scaled to [-1, 1); npz / mat values as stored, e.g. g for
        accelerometers) and the sampling rate in Hz.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"signal file not found: {path}")
    ext = path.suffix.lower()
    if ext in AUDIO_EXTENSIONS:
        x, file_sr = _read_audio(path, channel)
    elif ext in (".npz", ".mat"):
        x, file_sr = _read_arrays(path, channel)
    else:
        raise ValueError(f"{path}: unsupported signal format {ext!r}; allowed: {', '.join(SIGNAL_EXTENSIONS)}")
    if file_sr is not None and sr is not None and abs(float(sr) - file_sr) > 1e-6:
        raise ValueError(f"{path}: the file says sr = {file_sr:g} Hz but {float(sr):g} Hz was given")
    rate = file_sr if file_sr is not None else sr
    if rate is None:
        raise ValueError(f"{path}: the file stores no sampling rate; give it (manifest column 'sr' or sr=)")
    if x.size == 0:
        raise ValueError(f"{path}: the signal is empty")
    return x, float(rate)
