"""Torch-free FISHER inference with ONNX Runtime: :class:`OnnxFisher`.

Needs only numpy, scipy, soundfile and onnxruntime (``pip install "fisher-signal[onnx]"``; torch is not imported).
The file comes from :func:`fisher.export_onnx` / ``fisher export onnx``. ``OnnxFisher.embed`` has the same contract
as ``Fisher.embed`` — the same recipe (:mod:`fisher.recipe.plan`: validation, windows, DC removal, batching, pooling)
with this module's :class:`OnnxBackend` (spectrogram by :mod:`fisher.deploy.spectrogram`, bands by ONNX Runtime). The graph returns
the last block's output tokens; the per-band ``summary`` (``"cls"``, ``"mean"``, ``"freq"``, ``"cls+mean"`` …) is
computed from them in numpy (:func:`summarise_tokens`, the numpy twin of :meth:`fisher.Fisher.summarise`). Features
agree with ``Fisher.embed`` within 1e-4 (tests/test_onnx.py).

Files exported by older versions (no ``fisher_outputs`` metadata) return only the CLS vectors ``[S, D]``: they load
and work for ``summary="cls"``; any other summary raises ``ValueError`` asking for a re-export.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fisher.deploy.spectrogram import log_spectrogram_np, split_bands_np
from fisher.recipe.fisher_config import FisherConfig
from fisher.recipe.framing import (
    TOKEN_BUDGET,
    BandShapes,
    check_options,
    frame_params,
    parse_summary,
    sequences_per_chunk,
    summary_dim,
)
from fisher.recipe.long_files import FileEmbedding, embed_reader, open_reader
from fisher.recipe.plan import EmbeddingRecipe, embed_clips
from fisher.signals.checks import as_arrays

__all__ = ["OnnxBackend", "OnnxFisher", "summarise_tokens"]

METADATA_KEY = "fisher_config"  # same as fisher.deploy.export.METADATA_KEY (that module imports torch)
OUTPUTS_KEY = "fisher_outputs"  # fisher.deploy.export.OUTPUTS_KEY; absent in older files (CLS output only)


def summarise_tokens(tokens: np.ndarray, summary: str, freq_patches: int) -> np.ndarray:
    """Last block output ``[S, 1 + Tp·Fp, D]`` → per-band summary ``[S, d]`` float32, as :meth:`fisher.Fisher.summarise`:
    parts in the order cls, mean, freq; ``cls`` = token 0, ``mean`` = mean of the patch tokens, ``freq`` = for each of
    the ``freq_patches`` frequency patches (low → high) the mean over the time patches, flattened ``[Fp·D]``."""
    parts = parse_summary(summary)
    if tokens.ndim != 3 or (tokens.shape[1] - 1) % freq_patches:
        raise ValueError(f"expected tokens [S, 1 + Tp*{freq_patches}, D], got {tokens.shape}")
    if parts == ("cls",):
        return np.ascontiguousarray(tokens[:, 0], dtype=np.float32)
    patches = tokens[:, 1:]
    s, n, d = patches.shape
    pieces = []
    for part in parts:
        if part == "cls":
            pieces.append(tokens[:, 0])
        elif part == "mean":
            pieces.append(patches.mean(axis=1))
        else:
            grid = patches.reshape(s, n // freq_patches, freq_patches, d)  # time-major patch order
            pieces.append(grid.mean(axis=1).reshape(s, freq_patches * d))
    return np.concatenate(pieces, axis=-1).astype(np.float32, copy=False)


class OnnxBackend:
    """The ONNX Runtime backend of the recipe (:class:`fisher.recipe.plan.BandBackend`), numpy only."""

    def __init__(self, model: OnnxFisher, recipe: EmbeddingRecipe) -> None:
        self.model, self.recipe, self.cfg = model, recipe, model.config

    def centre(self, clip: np.ndarray, stop: int) -> np.ndarray:
        """``clip[:stop]`` minus the clip's float32 mean (per-clip DC removal)."""
        return clip[:stop] - clip.mean(dtype=np.float32)

    def spectrogram(self, window: np.ndarray) -> np.ndarray:
        """Centred samples → normalised ``[T_w, F]`` float32 (time-padded to max_frames if the recipe asks)."""
        c, r = self.cfg, self.recipe
        spec = log_spectrogram_np(window, r.n_fft, r.hop, mean=c.spec_mean, std=c.spec_std, std_coeff=c.spec_std_coeff)
        if r.pad_frames and spec.shape[0] < c.max_frames:
            spec = np.pad(spec, ((0, c.max_frames - spec.shape[0]), (0, 0)))
        return spec

    def encode(self, specs: list[np.ndarray]) -> np.ndarray:
        """Equal-length window spectrograms → ``[len(specs), bands, d]`` float32."""
        bands = np.concatenate([split_bands_np(spec, self.cfg.band_width) for spec in specs])
        tokens = (bands.shape[1] // self.cfg.patch_size) * self.cfg.freq_patches + 1
        step = sequences_per_chunk(tokens, self.model.chunk_tokens) if self.model.chunk_tokens else len(bands)
        out = np.concatenate(
            [self.model(bands[i : i + step], self.recipe.summary) for i in range(0, len(bands), step)]
        )  # chunks of ~chunk_tokens tokens: activations stay in cache (fisher.recipe.framing.sequences_per_chunk)
        return out.reshape(len(specs), self.recipe.bands, self.recipe.band_dim)


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

    ``chunk_tokens`` (class default 1536, as :attr:`fisher.Fisher.inference_chunk_tokens`): band sequences go to the
    session in runs of about this many tokens; ``None`` sends each batch of windows in one run. Same outputs.
    """

    chunk_tokens: int | None = TOKEN_BUDGET

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
        self.legacy = OUTPUTS_KEY not in meta  # exported before 0.3: CLS output, no outputs metadata
        self.outputs = self._output_kind(meta.get(OUTPUTS_KEY))

    def _output_kind(self, raw: str | None) -> str:
        """``"tokens"`` (``[S, 1 + N, D]``, the default export) or ``"cls"`` (``[S, D]``: ``outputs="cls"`` exports
        and files of older versions)."""
        rank = len(self.session.get_outputs()[0].shape)
        if raw is None:
            kind = "cls"
        else:
            info = json.loads(raw)
            kind = info.get("outputs")
            if kind not in ("tokens", "cls"):
                raise ValueError(
                    f"{self.path} has outputs {kind!r}, unknown to this fisher-signal version; upgrade fisher-signal"
                )
            if info.get("freq_patches", self.config.freq_patches) != self.config.freq_patches:
                raise ValueError(f"{self.path}: '{OUTPUTS_KEY}' metadata disagrees with its config (freq_patches)")
        if rank != (3 if kind == "tokens" else 2):
            raise ValueError(f"{self.path}: output of rank {rank} does not match its metadata ({kind!r})")
        return kind

    def resolve_summary(self, summary: str | None = None) -> str:
        """``summary`` (default: the file's ``config.summary``) validated and in canonical order; ``ValueError`` for a
        summary other than ``"cls"`` on a file of an older version (CLS output only)."""
        name = "+".join(parse_summary(self.config.summary if summary is None else summary))
        if self.outputs == "cls" and name != "cls" and not self.legacy:
            raise ValueError(
                f"{self.path} was exported with outputs='cls' and holds only the CLS output, so summary={name!r} is "
                "unavailable (only 'cls'); export with fisher.export_onnx(model, path) (outputs='tokens', the "
                "default) to get every summary"
            )
        if self.outputs == "cls" and name != "cls":
            raise ValueError(
                f"{self.path} was exported by an older fisher-signal version and holds only the CLS output, so "
                f"summary={name!r} is unavailable (only 'cls'); re-export it with fisher.export_onnx(model, path) "
                "or `fisher export onnx SRC DST` to get every summary"
            )
        return name

    # ------------------------------------------------------------------ shapes (embed_dim, band_width, num_bands: BandShapes)
    def embedding_dim(self, sr: float, pool: str = "concat", summary: str | None = None) -> int:
        """Size of the last axis of :meth:`embed`'s output: ``bands·d`` for ``"concat"``, ``d`` otherwise, with ``d``
        the width of one band's ``summary`` (default ``config.summary``; ``D`` for ``"cls"``)."""
        check_options(pool, "chunk", False, 1)
        d = summary_dim(self.resolve_summary(summary), self.embed_dim, self.config.freq_patches)
        if pool == "concat":
            return self.num_bands(sr) * d
        frame_params(sr)  # validates sr
        return d

    # ------------------------------------------------------------------ inference
    def _run(self, bands: np.ndarray) -> np.ndarray:
        bands = np.asarray(bands, dtype=np.float32)
        c = self.config
        if bands.ndim != 3 or bands.shape[-1] != c.band_width or not c.patch_size <= bands.shape[1] <= c.max_frames:
            raise ValueError(
                f"expected band images [S, {c.patch_size}..{c.max_frames}, {c.band_width}], got {bands.shape}"
            )
        return self.session.run(None, {self._input: bands})[0]

    def tokens(self, bands: np.ndarray) -> np.ndarray:
        """Band images ``[S, T, W]`` float32 → last block output tokens ``[S, 1 + N, D]`` (token 0 = CLS)."""
        if self.outputs != "tokens":
            self.resolve_summary("mean")  # raises: an older file has no tokens
        return self._run(bands)

    def __call__(self, bands: np.ndarray, summary: str | None = None) -> np.ndarray:
        """Band images ``[S, T, W]`` float32 (normalised log-magnitude, ``16 ≤ T ≤ 1024``) → per-band summaries
        ``[S, d]`` (``summary`` default ``config.summary``; ``"cls"``: the CLS vectors ``[S, D]``)."""
        name = self.resolve_summary(summary)
        out = self._run(bands)
        return out if self.outputs == "cls" else summarise_tokens(out, name, self.config.freq_patches)

    def embed(
        self,
        wave: Any,
        sr: float,
        *,
        pool: str = "concat",
        long: str = "chunk",
        pad_frames: bool = False,
        batch_size: int = 8,
        summary: str | None = None,
    ) -> np.ndarray:
        """Embed clips exactly like :meth:`fisher.Fisher.embed` (numpy in → numpy out).

        Args:
            wave: ``[N]`` (one clip), ``[B, N]`` or a list of 1-D clips of any lengths; float in [-1, 1) or
                integer PCM. Each clip needs ≥ 16 STFT frames (0.175 s at 16 kHz).
            sr: sampling rate in Hz (a whole number; never resampled).
            pool: ``"concat"`` (``bands·d``), ``"mean"`` (``d``) or ``"none"`` (``[bands, d]``).
            long: ``"chunk"`` (average 1024-frame windows) or ``"truncate"`` (first window only).
            pad_frames: zero-pad each window to 1024 frames (RMIS recipe).
            batch_size: windows per ONNX Runtime call (memory knob; results do not depend on it).
            summary: per-band summary as in :meth:`fisher.Fisher.embed` (``"cls"``, ``"mean"``, ``"freq"`` or a
                ``+``-joined combination; default the exported model's ``config.summary``). Files of older
                versions support ``"cls"`` only (``ValueError`` otherwise: re-export).
        Returns:
            float32 ``[dim]`` for one clip, ``[B, dim]`` for a batch (``[.., bands, d]`` for ``pool="none"``; ``dim``
            = ``embedding_dim(sr, pool, summary)``).
        """
        self.resolve_summary(summary)  # older files: "cls" only
        recipe = EmbeddingRecipe.build(
            self.config, sr, pool=pool, long=long, pad_frames=pad_frames, batch_size=batch_size, summary=summary
        )
        batch = as_arrays(wave)
        out = embed_clips(recipe, OnnxBackend(self, recipe), batch.clips, single=batch.single)
        return out[0] if batch.single else out

    def embed_file(
        self,
        path: str | Path,
        *,
        channel: int | str = 0,
        key: str | None = None,
        sr: float | None = None,
        pool: str = "concat",
        batch_size: int = 8,
        summary: str | None = None,
    ) -> FileEmbedding:
        """A whole recording window by window in bounded memory, exactly like :meth:`fisher.Fisher.embed_file`."""
        check_options(pool, "chunk", False, batch_size)
        self.resolve_summary(summary)
        with open_reader(path, channel=channel, key=key, sr=sr) as reader:
            recipe = EmbeddingRecipe.build(self.config, reader.sr, pool=pool, batch_size=batch_size, summary=summary)
            return embed_reader(recipe, OnnxBackend(self, recipe), reader, path)

    def window_spectrograms(
        self, clips: list[np.ndarray], sr: float, *, long: str = "chunk", pad_frames: bool = False, single: bool = False
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(clip index, [T_w, F] normalised spectrogram)`` for every analysis window of validated clips.

        The front end of :meth:`embed` (per-clip DC removal, 1024-frame windows, optional time padding), in clip
        order; also the calibration data of :func:`fisher.deploy.quantize.quantize_onnx_int8`.
        """
        recipe = EmbeddingRecipe.build(self.config, sr, long=long, pad_frames=pad_frames, summary="cls")
        backend = OnnxBackend(self, recipe)
        for i, clip in enumerate(clips):
            spans = recipe.windows(clip.size, where="waveform" if single else f"clip {i}")
            centred = backend.centre(clip, spans[-1][1])
            for start, stop in spans:
                yield i, backend.spectrogram(centred[start:stop])

    def __repr__(self) -> str:
        c = self.config
        return (
            f"OnnxFisher({str(self.path)!r}, embed_dim={c.embed_dim}, depth={c.depth}, band_width={c.band_width}, "
            f"summary={c.summary!r}, outputs={self.outputs!r})"
        )
