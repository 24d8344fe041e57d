"""Up-front checks of the pretraining signals: every file must be readable and long enough.

Called once when a :class:`fisher.pretrain.Trainer` starts, so a bad file fails the run at once with its path
instead of hours later (or being silently skipped).
"""

from __future__ import annotations

from pathlib import Path

from fisher.pretrain.sources import Entry, SignalRef, index_signals, read_signal
from fisher.recipe.fisher_config import FisherConfig
from fisher.recipe.framing import num_frames

__all__ = ["checked_signals"]


def checked_signals(
    entries: list[Entry], *, npz_sr: float | None, config: FisherConfig, min_frames: int
) -> list[SignalRef]:
    """Index every channel of ``entries``; ``ValueError`` naming the files that cannot be read (with the reader's
    message) or whose channels have fewer than ``min_frames`` STFT frames at their native rate."""
    refs: list[SignalRef] = []
    unreadable: list[str] = []
    for e in entries:
        try:
            found = index_signals([e], npz_sr=npz_sr)
            for r in found:  # opening the index is not reading: read the first samples too
                read_signal(r, 0, min(r.n_samples, 16))
        except Exception as err:  # noqa: BLE001 - every reader error becomes one clear report
            unreadable.append(f"{Path(e.path)} ({type(err).__name__}: {err})")
            continue
        refs.extend(found)
    if unreadable:
        raise ValueError(
            f"{len(unreadable)} pretraining file(s) cannot be read: {'; '.join(unreadable[:10])}"
            + (" …" if len(unreadable) > 10 else "")
        )
    short = []
    for r in refs:
        frames = num_frames(r.n_samples, r.sr, config.win_ms, config.hop_ms) if r.sr > 0 else 0
        if frames < min_frames:
            short.append(f"{r.path} [{r.channel}] ({frames} frames = {r.n_samples / max(r.sr, 1):.3g} s)")
    if short:
        need = (min_frames - 1) * config.hop_ms / 1000 + config.win_ms / 1000
        raise ValueError(
            f"{len(short)} pretraining signal(s) are shorter than data.min_frames = {min_frames} STFT "
            f"frames (≈ {need:.3g} s): {'; '.join(short[:10])}"
            + (" …" if len(short) > 10 else "")
            + "; remove them from data.sources or lower data.min_frames (>= 32)"
        )
    return refs
