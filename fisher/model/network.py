"""The FISHER encoder: sub-band images → 16×16 patches → post-norm ViT → one CLS vector per band.

Data flow for one analysis window of a clip (``T ≤ 1024`` frames, ``F`` bins)::

    spec [T, F] --split_bands--> [nb, T, W] --patch conv--> [nb, N, D] (+ first N rows of the sin-cos table)
      --prepend CLS, LayerNorm--> [nb, N+1, D] --blocks--> CLS [nb, D]

Every band is an independent sequence (no cross-band attention, no band embedding); bands are ordered low → high.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from einops import rearrange
from torch import nn
from tqdm.auto import tqdm

from fisher.model.backend import TorchBackend
from fisher.model.inference_path import TOKEN_BUDGET, encode_chunked
from fisher.model.vit import Block, sincos_table
from fisher.recipe.fisher_config import FisherConfig
from fisher.recipe.framing import BandShapes, check_options, frame_params, parse_summary, summary_dim
from fisher.recipe.long_files import FileEmbedding, embed_reader, iter_reader_windows, open_reader
from fisher.recipe.plan import EmbeddingRecipe, embed_clips
from fisher.signals.validate import as_clips

__all__ = ["Fisher"]


class Fisher(BandShapes, nn.Module):
    """FISHER encoder (tiny / mini / small or any depth/width from a config).

    Build with random weights via ``Fisher(FisherConfig.preset("tiny"))`` or load with :meth:`from_pretrained`.
    The module is put in eval mode at construction; the encoder has no dropout, so train/eval only matter for
    user-added layers.

    ``inference_chunk_tokens`` (class default 1536; set it on an instance to change it): under
    ``torch.inference_mode`` the blocks run on chunks of about this many tokens, all blocks per chunk
    (:mod:`fisher.model.inference_path`; same outputs, bounded activations). ``None`` runs the whole batch
    layer by layer (the module path used for training).
    """

    inference_chunk_tokens: int | None = TOKEN_BUDGET

    def __init__(self, config: FisherConfig) -> None:
        super().__init__()
        if not isinstance(config, FisherConfig):
            raise TypeError(f"config must be a FisherConfig, got {type(config).__name__}")
        self.config = config
        d, p = config.embed_dim, config.patch_size
        self.patch_embed = nn.Conv2d(1, d, kernel_size=p, stride=p)
        self.cls_token = nn.Parameter(torch.zeros(d))
        table = sincos_table(d, config.max_length, config.max_freq)
        if table.shape[0] < config.max_tokens:
            raise ValueError(
                f"positional table has {table.shape[0]} rows (max_length·max_freq) but a full window has "
                f"{config.max_tokens} patch tokens"
            )
        self.register_buffer("positions", table, persistent=True)
        self.context_norm = nn.LayerNorm(d, eps=config.norm_eps)
        self.blocks = nn.ModuleList(
            Block(d, config.num_heads, config.mlp_dim, eps=config.norm_eps) for _ in range(config.depth)
        )
        self._init_weights()
        self.eval()

    def _init_weights(self) -> None:
        nn.init.xavier_uniform_(self.patch_embed.weight.view(self.config.embed_dim, -1))
        nn.init.normal_(self.cls_token)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    # ------------------------------------------------------------------ shapes (embed_dim, band_width, num_bands: BandShapes)
    def embedding_dim(self, sr: float, pool: str = "concat", summary: str | None = None) -> int:
        """Size of the last axis of :meth:`embed`'s output: ``bands·d`` for ``"concat"``, ``d`` otherwise, with
        ``d`` the width of one band's ``summary`` (default ``config.summary``; ``D`` for ``"cls"``)."""
        d = summary_dim(self.config.summary if summary is None else summary, self.embed_dim, self.config.freq_patches)
        if pool == "concat":
            return self.num_bands(sr) * d
        if pool in ("mean", "none"):
            frame_params(sr)  # validates sr
            return d
        raise ValueError(f"pool must be 'concat', 'mean' or 'none', got {pool!r}")

    # ------------------------------------------------------------------ model
    def patch_tokens(self, bands: torch.Tensor) -> torch.Tensor:
        """``[S, T, W]`` band images → patch tokens with positional code ``[S, N, D]``, ``N = (T//16)·(W//16)``."""
        x = rearrange(self.patch_embed(bands.unsqueeze(1)), "s d t f -> s (t f) d")
        return x + self.positions[: x.shape[1]].to(x.dtype)

    def encode_tokens(
        self, tokens: torch.Tensor, return_layer_ffn: bool = False, padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Patch tokens ``[S, N, D]`` → last block output ``[S, N+1, D]`` (token 0 = CLS).

        With ``return_layer_ffn=True`` also returns every block's MLP-branch output ``[S, N+1, D]`` (first block
        first), the per-layer pretraining targets; the block outputs are identical in both modes.
        ``padding_mask`` ``[S, N]`` (bool, ``True`` = padding token; pretraining only) keeps padding tokens out of
        every attention; inference never passes one (the official model has no padding mask).
        Under ``torch.inference_mode`` (``embed``) the blocks run chunk by chunk
        (:mod:`fisher.model.inference_path`, same outputs).
        """
        budget = self.inference_chunk_tokens
        if budget and padding_mask is None and not return_layer_ffn and torch.is_inference_mode_enabled():
            return encode_chunked(self.blocks, self.context_norm, self.cls_token, tokens, budget)
        cls = self.cls_token.to(tokens.dtype).expand(tokens.shape[0], 1, -1)
        x = self.context_norm(torch.cat([cls, tokens], dim=1))
        kpm = None
        if padding_mask is not None:
            kpm = torch.cat([padding_mask.new_zeros(padding_mask.shape[0], 1), padding_mask.bool()], dim=1)
        if not return_layer_ffn:
            for block in self.blocks:
                x = block(x, kpm)
            return x
        ffn = []
        for block in self.blocks:
            x, branch = block.forward_with_ffn(x, kpm)
            ffn.append(branch)
        return x, ffn

    def summarise(self, out: torch.Tensor, summary: str) -> torch.Tensor:
        """Last block output ``[S, 1 + Tp·Fp, D]`` → per-band summary ``[S, d]`` (parts concatenated in the order
        cls, mean, freq): ``cls`` = token 0; ``mean`` = mean of the patch outputs; ``freq`` = for each of the Fp
        frequency patches (low → high) the mean over the Tp time patches, flattened ``[Fp·D]``."""
        parts = parse_summary(summary)
        if parts == ("cls",):
            return out[:, 0]
        patches = out[:, 1:]
        pieces = []
        for part in parts:
            if part == "cls":
                pieces.append(out[:, 0])
            elif part == "mean":
                pieces.append(patches.mean(dim=1))
            else:
                grid = rearrange(patches, "s (t f) d -> s t f d", f=self.config.freq_patches)
                pieces.append(grid.mean(dim=1).flatten(1))
        return torch.cat(pieces, dim=-1)

    def forward(self, bands: torch.Tensor, summary: str | None = None) -> torch.Tensor:
        """Band images ``[S, T, W]`` (normalised log-magnitude, ``16 ≤ T ≤ 1024``) → per-band summaries ``[S, d]``
        (``summary`` default ``config.summary``; ``"cls"``: the CLS vectors ``[S, D]``, the paper's output)."""
        if bands.ndim != 3 or bands.shape[-1] != self.config.band_width:
            raise ValueError(f"expected band images [S, T, {self.config.band_width}], got {tuple(bands.shape)}")
        t = bands.shape[1]
        if not self.config.patch_size <= t <= self.config.max_frames:
            raise ValueError(f"band images need {self.config.patch_size}..{self.config.max_frames} frames, got {t}")
        summary = self.config.summary if summary is None else summary
        budget = self.inference_chunk_tokens
        if budget and summary == "cls" and torch.is_inference_mode_enabled():  # CLS only: last block for CLS alone
            return encode_chunked(
                self.blocks, self.context_norm, self.cls_token, self.patch_tokens(bands), budget, True
            )
        return self.summarise(self.encode_tokens(self.patch_tokens(bands)), summary)

    # ------------------------------------------------------------------ public API
    @torch.inference_mode()
    def embed(
        self,
        wave: Any,
        sr: float,
        *,
        pool: str = "concat",
        long: str = "chunk",
        pad_frames: bool = False,
        batch_size: int = 8,
        device: str | torch.device | None = None,
        precision: str = "fp32",
        summary: str | None = None,
        show_progress: bool = False,
    ) -> np.ndarray | torch.Tensor:
        """Embed one clip or a batch of clips at sampling rate ``sr`` (Hz, required; never resampled).

        The recipe (windows of long clips, DC removal, batching, pooling) is :mod:`fisher.recipe.plan`, shared with
        :meth:`fisher.OnnxFisher.embed`.

        Args:
            wave: ``[N]`` (one clip), ``[B, N]`` or a list of 1-D clips of any lengths; float in [-1, 1) or integer
                PCM (scaled by its dtype's full scale). Each clip needs ≥ 16 STFT frames (0.175 s at 16 kHz).
            pool: ``"concat"`` band summaries low → high (``bands·d``, official), ``"mean"`` over bands (``d`` at
                every rate) or ``"none"`` (``[bands, d]``).
            long: ``"chunk"`` (average consecutive 1024-frame windows) or ``"truncate"`` (first window only).
            pad_frames: zero-pad each window to 1024 frames (RMIS recipe).
            batch_size: windows per forward pass (memory knob; results do not depend on it).
            device: run on this device (default: the model's).
            precision: ``"fp32"`` (reference), ``"bf16"`` or ``"int8"`` (faster, approximate; see
                :mod:`fisher.compute.precision`), or ``"auto"``: bf16 where it runs natively, else fp32
                (:func:`fisher.inference_capabilities` shows the choice and why).
            summary: what each band contributes (default ``config.summary``, ``"cls"`` for the official models):
                ``"cls"`` its CLS output (``D``, the paper's), ``"mean"`` the mean of its final patch outputs
                (``D``), ``"freq"`` the time-pooled grid of frequency patches (``Fp·D``, the "temporal pooling" of
                EAT/BEATs-based DCASE systems), or a ``+``-joined combination (``"cls+mean"``; order cls, mean, freq).
            show_progress: tqdm bar over forward passes.
        Returns:
            float32 ``[dim]`` / ``[B, dim]`` (``[.., bands, d]`` for ``pool="none"``; ``dim`` =
            ``embedding_dim(sr, pool, summary)``); numpy, or torch for torch input.
        """
        recipe = EmbeddingRecipe.build(
            self.config, sr, pool=pool, long=long, pad_frames=pad_frames, batch_size=batch_size, summary=summary
        )
        batch = as_clips(wave)
        backend = TorchBackend(self, recipe, precision=precision, device=device)
        progress = None
        if show_progress:

            def progress(jobs: list) -> Any:
                return tqdm(jobs, desc="fisher embed", unit="batch")

        out = embed_clips(recipe, backend, batch.clips, single=batch.single, progress=progress)
        if batch.single:
            out = out[0]
        return torch.from_numpy(out).to(batch.clips[0].device) if batch.torch_input else out

    def embed_file(
        self,
        path: str | Path,
        *,
        channel: int | str = 0,
        key: str | None = None,
        sr: float | None = None,
        pool: str = "concat",
        batch_size: int = 8,
        precision: str = "fp32",
        device: str | torch.device | None = None,
        summary: str | None = None,
    ) -> FileEmbedding:
        """Embed a whole recording window by window in bounded memory (:mod:`fisher.recipe.long_files`).

        Args:
            path: the recording (any format of :mod:`fisher.signals.reader`).
            channel: channel index or name (:class:`fisher.recipe.long_files.SignalReader`).
            key: array name inside an ``.npz`` / ``.mat`` file.
            sr: sampling rate in Hz when the file does not state it.
            pool: as :meth:`embed`.
            batch_size: windows per forward pass and per read block.
            precision: as :meth:`embed`.
            device: as :meth:`embed`.
            summary: as :meth:`embed`.
        Returns:
            :class:`~fisher.recipe.long_files.FileEmbedding`: per-window rows with times, and the pooled
            ``embedding`` that equals ``embed(recording, sr, summary=summary)`` up to float rounding (≤ 1e-5).
        """
        check_options(pool, "chunk", False, batch_size)
        if summary is not None:
            parse_summary(summary)
        with open_reader(path, channel=channel, key=key, sr=sr) as reader:
            recipe = EmbeddingRecipe.build(self.config, reader.sr, pool=pool, batch_size=batch_size, summary=summary)
            backend = TorchBackend(self, recipe, precision=precision, device=device)
            return embed_reader(recipe, backend, reader, path)

    def iter_file_windows(
        self,
        path: str | Path,
        *,
        channel: int | str = 0,
        key: str | None = None,
        sr: float | None = None,
        pool: str = "concat",
        batch_size: int = 8,
        precision: str = "fp32",
        device: str | torch.device | None = None,
        summary: str | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(times [w, 2] in s, embeddings [w, dim])`` for consecutive batches of ``batch_size`` windows of a
        recording (arguments as :meth:`embed_file`); memory stays bounded by one batch."""
        check_options(pool, "chunk", False, batch_size)
        if summary is not None:
            parse_summary(summary)
        with open_reader(path, channel=channel, key=key, sr=sr) as reader:
            recipe = EmbeddingRecipe.build(self.config, reader.sr, pool=pool, batch_size=batch_size, summary=summary)
            backend = TorchBackend(self, recipe, precision=precision, device=device)
            yield from iter_reader_windows(recipe, backend, reader)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        *,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        local_files_only: bool | None = None,
        allow_pickle: bool = False,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> Fisher:
        """Load a model: ``"tiny"|"mini"|"small"``, a hub id ``org/repo`` (``hf-hub:org/repo@rev``), a local
        directory (``config.json`` + ``model.safetensors``) or an official ``.pt`` file (also ``.pt.xz``).

        Weights always load strictly. ``allow_pickle=True`` is the explicit opt-in for trusted official ``.pt``
        files that ``torch.load(weights_only=True)`` refuses.
        """
        from fisher.hub.checkpoint import load_model

        return load_model(
            cls,
            name_or_path,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            allow_pickle=allow_pickle,
            device=device,
            dtype=dtype,
        )

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``model.safetensors`` atomically into ``directory``; returns the directory."""
        from fisher.hub.checkpoint import save_model

        return save_model(self, directory)

    def extra_repr(self) -> str:
        c = self.config
        return f"embed_dim={c.embed_dim}, depth={c.depth}, heads={c.num_heads}, band_width={c.band_width}"
