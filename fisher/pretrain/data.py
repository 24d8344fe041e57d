"""Deterministic multi-rate batch stream for pretraining.

Rates: the candidate batch rates are, by ``data.rate_set``, ``"paper"``: every harmonic ``k·f_base`` below ``f_max``
(``k = 1, 2, …``; the FISHER paper: "sr_batch is randomly selected from all the harmonics of f_base that are less
than f_max"; tiny: 4, 8, …, 28 kHz) or ``"whole_band"``: ``2·k·f_base ≤ f_max`` (the Nyquist frequency is a
harmonic of ``f_base``, so a batch has exactly ``k`` full sub-bands); or the explicit list ``data.rates``. A signal *supports* the
candidates not above its native rate (we never upsample; a signal below every candidate supports only its own
rate). Each batch first draws its rate ``r`` with probability ``Σ_i [signal i supports r] / (#rates i supports)`` —
every signal spreads one unit of weight evenly over the rates it supports — and then takes its items from the
sub-stream of the signals that support ``r``, all resampled to ``r``.

Order: every rate's sub-stream visits its signals (channels) in epochs, epoch ``e`` a permutation seeded by
``(seed, r, e)``. Batches are numbered by ``(step, rank)``; the ``j``-th batch (in that order) that drew rate ``r``
takes items ``j·B … j·B + B - 1`` of ``r``'s sub-stream. Rate draws come from a hash of ``(seed, step, rank)`` and
crop offsets from a generator seeded by ``(seed, step, rank)``. So a batch is a pure function of ``(seed, step,
rank, world size)``: the *data position* of a run is its step counter and a resumed run sees exactly the batches an
uninterrupted run would.

Resampler: :func:`fisher.signals.resample.resample` with ``method="polyphase"`` (= ``scipy.signal.resample_poly``: polyphase FIR, Kaiser window β = 5, ``up/down`` = the reduced ratio of
the two integer rates), applied to the crop plus a context margin of ≥ 10·max(up, down)/up input samples on each
side (inside the signal), which is then trimmed, so the crop edges see real neighbouring samples where they exist.

Length: a fixed grid. Every batch has ``T = crop_frames`` frames (a multiple of 16); item ``i`` has
``valid_frames[i] = min(T, its frames at the batch rate)`` floored to a multiple of 16 real frames and the rest is
padding (the official remnants keep a fixed 1024-frame grid with a padding mask). Signals with fewer than
``min_frames`` frames at their native rate are skipped here (the Trainer refuses them up front,
:mod:`fisher.pretrain.validate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from fisher.model.bands import log_spectrogram, split_bands
from fisher.pretrain.sources import SignalRef, read_signal
from fisher.recipe.fisher_config import FisherConfig
from fisher.recipe.framing import frame_params, num_frames
from fisher.signals.resample import ratio, resample

__all__ = ["RATE_SETS", "Batch", "SignalStream", "candidate_rates", "harmonic_rates", "resample_crop"]


@dataclass
class Batch:
    """``waves`` ``[B, n]`` float32 at ``sr`` Hz (``n`` samples = exactly ``frames`` STFT frames); item ``i`` is real
    for its first ``valid_frames[i]`` frames (its samples after them are zero)."""

    waves: np.ndarray
    sr: int
    frames: int
    refs: list[SignalRef]
    valid_frames: np.ndarray | None = None

    def valid(self) -> np.ndarray:
        """Real frames per item ``[B]`` (all ``frames`` when the batch is unpadded)."""
        if self.valid_frames is None:
            return np.full(len(self.refs), self.frames, dtype=np.int64)
        return self.valid_frames


def candidate_rates(f_base: float, f_max: float) -> list[int]:
    """``2·k·f_base`` for ``k = 1, 2, …`` while ``≤ f_max`` (tiny: 8, 16, 24, 32 kHz)."""
    rates = [int(2 * k * f_base) for k in range(1, int(f_max // (2 * f_base)) + 1)]
    if not rates:
        raise ValueError(f"f_max {f_max} Hz is below 2·f_base = {2 * f_base} Hz")
    return rates


def harmonic_rates(f_base: float, f_max: float) -> list[int]:
    """The paper's set: ``k·f_base`` for ``k = 1, 2, …`` while ``< f_max`` (tiny: 4, 8, …, 28 kHz)."""
    rates = [int(k * f_base) for k in range(1, int(f_max // f_base) + 1) if k * f_base < f_max]
    if not rates:
        raise ValueError(f"f_max {f_max} Hz is not above f_base = {f_base} Hz")
    return rates


RATE_SETS = {"paper": harmonic_rates, "whole_band": candidate_rates}


def resample_crop(ref: SignalRef, target_sr: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of ``n_out`` samples at ``target_sr`` of one signal (float32 ``[n_out]``)."""
    up, down = ratio(ref.sr, target_sr)
    need = math.ceil(n_out * down / up)  # native samples covering the output
    if need > ref.n_samples:
        raise ValueError(f"{ref.path} is too short for {n_out} samples at {target_sr} Hz")
    if up == down == 1:
        a = int(rng.integers(0, ref.n_samples - need + 1))
        return read_signal(ref, a, a + need)
    # crop start on the multiples of `down`, so the output sample of native sample `a` is an integer index
    a = down * int(rng.integers(0, (ref.n_samples - need) // down + 1))
    margin = down * math.ceil(10 * max(up, down) / (up * down))
    lo, hi = max(0, a - margin), min(ref.n_samples, a + need + margin)
    # polyphase: the context margins above assume resample_poly's filter (and results were computed with it)
    out = resample(read_signal(ref, lo, hi), ref.sr, target_sr, method="polyphase", who="pretrain")
    first = (a - lo) * up // down
    seg = out[first : first + n_out]
    if seg.shape[0] < n_out:  # right edge of the signal: pad the last fraction of a sample with zeros
        seg = np.pad(seg, (0, n_out - seg.shape[0]))
    return seg.astype(np.float32)


_MASK = (1 << 64) - 1


def _mix(z: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit integer hash."""
    z = (z + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _unit(*parts: int) -> float:
    """A uniform number in [0, 1) determined by the integers ``parts``."""
    h = 0
    for p in parts:
        h = _mix(h ^ (int(p) & _MASK))
    return (h >> 11) / float(1 << 53)


class SignalStream:
    """Batches for step ``s`` on rank ``rank`` of ``world_size`` (see the module docstring for the contract)."""

    def __init__(
        self,
        signals: list[SignalRef],
        config: FisherConfig,
        *,
        batch_size: int,
        crop_frames: int = 1024,
        min_frames: int = 64,
        rates: list[int] | None = None,
        f_max: float = 32000,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        rate_set: str = "paper",
        gain_db: float = 0.0,
    ) -> None:
        self.config, self.batch_size, self.seed = config, batch_size, seed
        self.gain_db = float(gain_db)
        self.rank, self.world_size = rank, world_size
        self.crop_frames = min(crop_frames, config.max_frames)
        f_base = config.band_width * 1000.0 / config.win_ms  # bins per band × bin spacing (40 Hz)
        if rate_set not in RATE_SETS:
            raise ValueError(f"rate_set must be one of {sorted(RATE_SETS)}, got {rate_set!r}")
        candidates = sorted(int(r) for r in rates) if rates else RATE_SETS[rate_set](f_base, f_max)
        self.signals = [s for s in signals if num_frames(s.n_samples, s.sr, config.win_ms, config.hop_ms) >= min_frames]
        if not self.signals:
            raise ValueError(f"no signal has the {min_frames} frames needed (of {len(signals)} found)")
        supports = [[r for r in candidates if r <= s.sr] or [int(s.sr)] for s in self.signals]
        self.rates = sorted({r for sup in supports for r in sup})
        weight = {r: 0.0 for r in self.rates}
        for sup in supports:
            for r in sup:
                weight[r] += 1.0 / len(sup)
        self.rate_probs = np.array([weight[r] for r in self.rates]) / len(self.signals)
        self._cum = np.cumsum(self.rate_probs)
        self.members = {r: [i for i, sup in enumerate(supports) if r in sup] for r in self.rates}
        self._perm: dict[int, tuple[int, np.ndarray]] = {}
        self._counts: tuple[int, np.ndarray] = (0, np.zeros(len(self.rates), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.signals)

    def _draw(self, step: int, rank: int) -> int:
        """Index into ``self.rates`` of the rate of batch ``(step, rank)``."""
        u = _unit(self.seed, step, rank, 0x5EED)
        return min(int(np.searchsorted(self._cum, u * self._cum[-1], side="right")), len(self.rates) - 1)

    def _position(self, step: int, rank: int) -> tuple[int, int]:
        """``(rate index, j)``: batch ``(step, rank)`` is the ``j``-th batch of its rate (0-based)."""
        done, counts = self._counts
        if step < done:
            done, counts = 0, np.zeros_like(counts)
        counts = counts.copy()
        for s in range(done, step):
            for r in range(self.world_size):
                counts[self._draw(s, r)] += 1
        self._counts = (step, counts)
        k = self._draw(step, rank)
        return k, int(counts[k]) + sum(self._draw(step, r) == k for r in range(rank))

    def item(self, rate: int, g: int) -> SignalRef:
        """Signal at position ``g`` of the sub-stream of ``rate`` (epoch-wise permutations)."""
        members = self.members[rate]
        epoch, pos = divmod(g, len(members))
        cached = self._perm.get(rate)
        if cached is None or cached[0] != epoch:
            cached = (epoch, np.random.default_rng([self.seed, rate, epoch, 7]).permutation(len(members)))
            self._perm[rate] = cached
        return self.signals[members[int(cached[1][pos])]]

    def batch(self, step: int) -> Batch:
        k, j = self._position(step, self.rank)
        sr = self.rates[k]
        refs = [self.item(sr, j * self.batch_size + i) for i in range(self.batch_size)]
        rng = np.random.default_rng([self.seed, step, self.rank, 11])
        c = self.config
        n_fft, hop = frame_params(sr, c.win_ms, c.hop_ms)
        frames = (self.crop_frames // c.patch_size) * c.patch_size
        avail = np.array([num_frames(int(r.n_samples * sr // r.sr), sr, c.win_ms, c.hop_ms) for r in refs])
        valid = (np.minimum(avail, frames) // c.patch_size) * c.patch_size
        if (valid < c.patch_size).any():
            short = refs[int(np.argmin(valid))]
            raise ValueError(f"{short.path} is shorter than one patch ({c.patch_size} frames) at {sr} Hz")
        n = n_fft + (frames - 1) * hop
        waves = np.zeros((len(refs), n), dtype=np.float32)
        for i, r in enumerate(refs):
            m = n_fft + (int(valid[i]) - 1) * hop
            waves[i, :m] = resample_crop(r, sr, m, rng)
        if self.gain_db > 0:  # drawn after the crops: gain_db = 0 leaves the stream bit-identical
            gains = 10.0 ** (rng.uniform(-self.gain_db, self.gain_db, size=len(refs)) / 20.0)
            waves *= gains.astype(np.float32)[:, None]
        return Batch(waves, sr, frames, refs, valid.astype(np.int64))

    def bands(self, batch: Batch) -> torch.Tensor:
        """Normalised log spectrogram sub-bands ``[B·nb, T, W]`` (clip-major, bands low → high); the frames after
        an item's ``valid_frames`` are zero (padding, to be masked)."""
        c = self.config
        n_fft, hop = frame_params(batch.sr, c.win_ms, c.hop_ms)
        out = []
        for w, v in zip(batch.waves, batch.valid()):
            m = n_fft + (int(v) - 1) * hop
            spec = log_spectrogram(
                torch.from_numpy(w[:m]),
                n_fft,
                hop,
                max_frames=int(v),
                mean=c.spec_mean,
                std=c.spec_std,
                std_coeff=c.spec_std_coeff,
            )
            if spec.shape[0] < batch.frames:
                spec = torch.nn.functional.pad(spec, (0, 0, 0, batch.frames - spec.shape[0]))
            out.append(split_bands(spec, c.band_width))
        return torch.cat(out)
