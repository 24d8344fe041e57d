"""Torch-free FISHER inference with ONNX Runtime: :class:`OnnxFisher`.

Needs only numpy, scipy, soundfile and onnxruntime (``pip install "fisher-signal[onnx]"``; torch is not imported).
The file comes from :func:`fisher.export_onnx` / ``fisher export onnx``. ``OnnxFisher.embed`` has the same contract
as ``Fisher.embed`` — same input validation (:mod:`fisher.signals.checks`, :mod:`fisher.model.framing`), same windows, DC
removal, batching and pooling — with the spectrogram computed by :mod:`fisher.deploy.spectrogram`. Features agree
with ``Fisher.embed`` within 1e-4 (tests/test_onnx.py).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fisher.deploy.spectrogram import log_spectrogram_np, pool_bands_np, split_bands_np
from fisher.model.config import FisherConfig
from fisher.model.framing import BandShapes, check_min_length, check_options, frame_params, window_spans
from fisher.signals.checks import as_arrays, check_sr

__all__ = ["OnnxFisher"]

METADATA_KEY = "fisher_config"  # same as fisher.deploy.export.METADATA_KEY (that module imports torch)


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError('OnnxFisher needs onnxruntime: pip install "fisher-signal[onnx]"') from err
    return onnxruntime


class OnnxFisher(BandShapes):
    """A FISHER encoder exported to ONNX, run with ONNX Runtime on numpy input (no torch).

    Args:
        path: an ``.onnx`` file written by :func:`fisher.export_onnx` (fp32, or int8 from
            :func:`fisher.deploy.quantize.quantize_onnx_int8`).
        threads: intra-op threads (default: ``OMP_NUM_THREADS`` if set, else ONNX Runtime's default).
        providers: ONNX Runtime execution providers (default ``["CPUExecutionProvider"]``).
    """

    def __init__(self, path: str | Path, *, threads: int | None = None, providers: list[str] | None = None) -> None:
        ort = _import_ort()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such ONNX file: {path}")
        options = ort.SessionOptions()
        if threads is None and os.environ.get("OMP_NUM_THREADS", "").isdigit():
            threads = int(os.environ["OMP_NUM_THREADS"])
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
                raise ValueError(f"threads must be a positive integer, got {threads!r}")
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers or ["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types for unreadable files
            raise ValueError(f"{path} is not a loadable ONNX model (or corrupt): {err}") from err
        meta = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in meta:
            raise ValueError(f"{path} has no '{METADATA_KEY}' metadata: export it with fisher.export_onnx")
        data = json.loads(meta[METADATA_KEY])
        data.pop("model_type", None)
        self.config = FisherConfig.from_dict(data)
        self.path = path
        self._input = self.session.get_inputs()[0].name

    # ------------------------------------------------------------------ shapes (embed_dim, band_width, num_bands: BandShapes)
    def embedding_dim(self, sr: float, pool: str = "concat") -> int:
        """Size of the last axis of :meth:`embed`'s output: ``bands·D`` for ``"concat"``, ``D`` otherwise."""
        check_options(pool, "chunk", False, 1)
        return self.num_bands(sr) * self.embed_dim if pool == "concat" else self.embed_dim

    # ------------------------------------------------------------------ inference
    def __call__(self, bands: np.ndarray) -> np.ndarray:
        """Band images ``[S, T, W]`` float32 (normalised log-magnitude, ``16 ≤ T ≤ 1024``) → CLS ``[S, D]``."""
        bands = np.asarray(bands, dtype=np.float32)
        c = self.config
        if bands.ndim != 3 or bands.shape[-1] != c.band_width or not c.patch_size <= bands.shape[1] <= c.max_frames:
            raise ValueError(
                f"expected band images [S, {c.patch_size}..{c.max_frames}, {c.band_width}], got {bands.shape}"
            )
        return self.session.run(None, {self._input: bands})[0]

    def embed(
        self,
        wave: Any,
        sr: float,
        *,
        pool: str = "concat",
        long: str = "chunk",
        pad_frames: bool = False,
        batch_size: int = 8,
    ) -> np.ndarray:
        """Embed clips exactly like :meth:`fisher.Fisher.embed` (numpy in → numpy out).

        Args:
            wave: ``[N]`` (one clip), ``[B, N]`` or a list of 1-D clips of any lengths; float in [-1, 1) or
                integer PCM. Each clip needs ≥ 16 STFT frames (0.175 s at 16 kHz).
            sr: sampling rate in Hz (a whole number; never resampled).
            pool: ``"concat"`` (``bands·D``), ``"mean"`` (``D``) or ``"none"`` (``[bands, D]``).
            long: ``"chunk"`` (average 1024-frame windows) or ``"truncate"`` (first window only).
            pad_frames: zero-pad each window to 1024 frames (RMIS recipe).
            batch_size: windows per ONNX Runtime call (memory knob; results do not depend on it).
        Returns:
            float32 ``[dim]`` for one clip, ``[B, dim]`` for a batch (``[.., bands, D]`` for ``pool="none"``).
        """
        check_options(pool, long, pad_frames, batch_size)
        sr = check_sr(sr)
        batch = as_arrays(wave)
        c = self.config
        nb = self.num_bands(sr)
        groups: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
        n_windows = [0] * len(batch.clips)
        for i, spec in self.window_spectrograms(batch.clips, sr, long=long, pad_frames=pad_frames, single=batch.single):
            groups[spec.shape[0]].append((i, spec))
            n_windows[i] += 1

        sums = np.zeros((len(batch.clips), nb, c.embed_dim), dtype=np.float64)
        for items in groups.values():
            for s in range(0, len(items), batch_size):
                chunk = items[s : s + batch_size]
                bands = np.concatenate([split_bands_np(spec, c.band_width) for _, spec in chunk])
                cls = self(bands).reshape(len(chunk), nb, c.embed_dim)
                for (i, _), vec in zip(chunk, cls):
                    sums[i] += vec
        per_band = (sums / np.asarray(n_windows, dtype=np.float64)[:, None, None]).astype(np.float32)
        out = pool_bands_np(per_band, pool)
        return out[0] if batch.single else out

    def window_spectrograms(
        self, clips: list[np.ndarray], sr: float, *, long: str = "chunk", pad_frames: bool = False, single: bool = False
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(clip index, [T_w, F] normalised spectrogram)`` for every analysis window of validated clips.

        The front end of :meth:`embed` (per-clip DC removal, 1024-frame windows, optional time padding); also
        the source of calibration data for :func:`fisher.deploy.quantize.quantize_onnx_int8`.
        """
        c = self.config
        n_fft, hop = frame_params(sr, c.win_ms, c.hop_ms)
        for i, clip in enumerate(clips):
            check_min_length(clip.size, sr, c.win_ms, c.hop_ms, where="waveform" if single else f"clip {i}")
            spans = window_spans(clip.size, n_fft, hop, c.max_frames, long)
            centred = clip[: spans[-1][1]] - clip.mean(dtype=np.float32)  # per-clip DC removal over the whole clip
            for start, stop in spans:
                spec = log_spectrogram_np(
                    centred[start:stop], n_fft, hop, mean=c.spec_mean, std=c.spec_std, std_coeff=c.spec_std_coeff
                )
                if pad_frames and spec.shape[0] < c.max_frames:
                    spec = np.pad(spec, ((0, c.max_frames - spec.shape[0]), (0, 0)))
                yield i, spec

    def __repr__(self) -> str:
        c = self.config
        return f"OnnxFisher({str(self.path)!r}, embed_dim={c.embed_dim}, depth={c.depth}, band_width={c.band_width})"
