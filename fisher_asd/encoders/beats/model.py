"""BEATs audio encoder — own implementation with the official module names, API and numerics.

Mirrors the public API of microsoft/unilm ``beats/BEATs.py`` that BEATs users know::

    model = BEATs.from_pretrained("BEATs_iter3_plus_AS2M.pt").eval()
    features, mask = model.extract_features(wave, padding_mask=None)   # wave [B, N] float, 16 kHz, [-1, 1)

Pipeline (shapes for B clips, T fbank frames, P = (T // 16) · 8 patches, D = ``encoder_embed_dim``):
Kaldi fbank of ``wave · 2**15`` (128 mel, 25 / 10 ms, Povey) ``[B, T, 128]`` → ``(x − 15.41663) / (2 · 6.55582)`` →
16×16 patch conv ``[B, 512, T // 16, 8]`` → time-major patches ``[B, P, 512]`` → LayerNorm → Linear 512 → D →
``x + GELU(pos_conv(x))`` → LayerNorm (post-LN models) → layers with a relative position bias computed once →
``[B, P, D]``.

For shared-prefix inference the forward is split: :meth:`BEATs.forward_prefix` runs everything up to a given layer
and returns a :class:`BEATsHidden`; :meth:`BEATs.forward_suffix` finishes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..fbank import kaldi_fbank
from .beats_config import BEATsConfig
from .modules import BEATsLayer, WeightNormConv1d, gelu_fp32, grad_multiply

__all__ = [
    "FBANK_MEAN",
    "FBANK_STD",
    "MIN_SAMPLES",
    "BEATs",
    "BEATsHidden",
    "batchable_suffix",
    "forward_suffix_batched",
]

FBANK_MEAN = 15.41663
FBANK_STD = 6.55582
SAMPLE_RATE = 16000
NUM_MEL_BINS = 128
MIN_SAMPLES = 400 + 15 * 160  # 16 fbank frames = one row of patches (0.175 s at 16 kHz)


@dataclass
class BEATsHidden:
    """Encoder state between layers: ``x`` ``[B, P, D]``, patch ``padding_mask`` ``[B, P]`` (True = padded) or None,
    the ungated relative position bias ``[H, P, P]`` (or None) and the index of the next layer to run."""

    x: torch.Tensor
    padding_mask: torch.Tensor | None
    pos_bias: torch.Tensor | None
    next_layer: int


def _reduce_mask(mask: torch.Tensor, length: int) -> torch.Tensor:
    """Official mask reduction: drop ``L mod length`` trailing steps, group the rest and keep all-padded groups."""
    extra = mask.shape[1] % length
    if extra:
        mask = mask[:, :-extra]
    return mask.reshape(mask.shape[0], length, -1).all(-1)


class _Encoder(nn.Module):
    def __init__(self, cfg: BEATsConfig) -> None:
        super().__init__()
        dim = cfg.encoder_embed_dim
        self.pos_conv = nn.ModuleList([WeightNormConv1d(dim, cfg.conv_pos, cfg.conv_pos_groups)])
        self.even_kernel = cfg.conv_pos % 2 == 0
        self.layer_norm = nn.LayerNorm(dim)
        shared = nn.Embedding(cfg.num_buckets, cfg.encoder_attention_heads) if cfg.relative_position_embedding else None
        self.layers = nn.ModuleList([BEATsLayer(cfg, shared) for _ in range(cfg.encoder_layers)])


class BEATs(nn.Module):
    """BEATs encoder (pre-trained or AudioSet fine-tuned) built from a :class:`BEATsConfig`."""

    def __init__(self, cfg: BEATsConfig | dict | None = None) -> None:
        super().__init__()
        cfg = BEATsConfig() if cfg is None else cfg
        self.cfg = cfg if isinstance(cfg, BEATsConfig) else BEATsConfig.from_dict(cfg)
        self.cfg.validate()
        c = self.cfg
        p = c.input_patch_size
        self.patch_embedding = nn.Conv2d(1, c.embed_dim, kernel_size=p, stride=p, bias=c.conv_bias)
        self.layer_norm = nn.LayerNorm(c.embed_dim)
        self.post_extract_proj = (
            nn.Linear(c.embed_dim, c.encoder_embed_dim) if c.embed_dim != c.encoder_embed_dim else None
        )
        self.encoder = _Encoder(c)
        self.predictor = nn.Linear(c.encoder_embed_dim, c.predictor_class) if c.finetuned_model else None
        self.label_dict: dict | None = None

    # ----------------------------------------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(cls, path_or_hub_file: str, *, local_files_only: bool | None = None) -> BEATs:
        """Load an official ``{'cfg', 'model'}`` checkpoint (``.pt`` or ``.pt.xz``) from a local path or a hub file
        ``"hf-hub:org/repo/file.pt"``; strict, ``weights_only=True``, fp16 tensors upcast to float32; ``eval()``."""
        from .checkpoint import load_beats

        return load_beats(cls, path_or_hub_file, local_files_only=local_files_only)

    @property
    def output_dim(self) -> int:
        """Feature size D (``encoder_embed_dim``; ``predictor_class`` for fine-tuned models)."""
        return self.cfg.predictor_class if self.predictor is not None else self.cfg.encoder_embed_dim

    # ------------------------------------------------------------------------------------------ preprocessing
    @staticmethod
    def normalize_fbank(fbank: torch.Tensor) -> torch.Tensor:
        """``(fbank − 15.41663) / (2 · 6.55582)`` (note the factor 2, as in the official code)."""
        return (fbank - FBANK_MEAN) / (2 * FBANK_STD)

    def preprocess(self, wave: torch.Tensor) -> torch.Tensor:
        """Normalised Kaldi fbank ``[B, T, 128]`` of ``wave`` ``[B, N]`` (16 kHz, [-1, 1))."""
        raw = kaldi_fbank(wave.detach().float() * 2**15, sample_rate=SAMPLE_RATE, num_mel_bins=NUM_MEL_BINS)
        return self.normalize_fbank(raw)

    # ---------------------------------------------------------------------------------------------- forward
    def embed_patches(self, fbank: torch.Tensor) -> torch.Tensor:
        """Normalised fbank ``[B, T, F]`` → projected patch tokens ``[B, P, D]`` (time-major patch order)."""
        x = self.patch_embedding(fbank.unsqueeze(1))  # [B, E, T // p, F // p]
        x = self.layer_norm(x.flatten(2).transpose(1, 2))
        x = F.dropout(x, self.cfg.dropout_input, self.training)
        return self.post_extract_proj(x) if self.post_extract_proj is not None else x

    def _start(
        self, fbank: torch.Tensor, frame_mask: torch.Tensor | None, patch_mask: torch.Tensor | None = None
    ) -> BEATsHidden:
        x = self.embed_patches(fbank)
        if x.shape[1] == 0:
            raise ValueError(
                f"clip too short for BEATs: {fbank.shape[1]} fbank frames give no patch "
                f"(need >= {self.cfg.input_patch_size} frames = {MIN_SAMPLES} samples at 16 kHz)"
            )
        mask = _reduce_mask(frame_mask, x.shape[1]) if frame_mask is not None else patch_mask
        if mask is not None:
            x = x.masked_fill(mask.unsqueeze(-1), 0.0)
        enc = self.encoder
        conv = enc.pos_conv[0](x.transpose(1, 2))
        if enc.even_kernel:
            conv = conv[:, :, :-1]  # "same" padding for an even kernel drops the last step
        x = x + gelu_fp32(conv).transpose(1, 2)
        if not self.cfg.layer_norm_first:
            x = enc.layer_norm(x)
        x = F.dropout(x, self.cfg.dropout, self.training)
        pos_bias = None
        if self.cfg.relative_position_embedding:
            pos_bias = enc.layers[0].self_attn.position_bias(x.shape[1])
        return BEATsHidden(x, mask, pos_bias, 0)

    def run_layers(self, hidden: BEATsHidden, stop: int | None = None) -> BEATsHidden:
        """Run layers ``hidden.next_layer … stop − 1`` (all remaining when ``stop`` is None)."""
        layers = self.encoder.layers
        stop = len(layers) if stop is None else stop
        if not hidden.next_layer <= stop <= len(layers):
            raise ValueError(f"cannot run layers {hidden.next_layer}..{stop - 1} of a {len(layers)}-layer BEATs")
        x = hidden.x
        for i in range(hidden.next_layer, stop):
            x = grad_multiply(x, self.cfg.layer_wise_gradient_decay_ratio)
            if self.training and self.cfg.encoder_layerdrop > 0 and float(torch.rand(())) < self.cfg.encoder_layerdrop:
                continue
            x = layers[i](x, hidden.padding_mask, hidden.pos_bias)
        return replace(hidden, x=x, next_layer=stop)

    def _finish(self, hidden: BEATsHidden, predictor: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, mask = hidden.x, hidden.padding_mask
        if self.cfg.layer_norm_first:
            x = self.encoder.layer_norm(x)
        if self.predictor is None or not predictor:
            return x, mask
        logits = self.predictor(F.dropout(x, self.cfg.predictor_dropout, self.training))
        if mask is not None and bool(mask.any()):
            keep = (~mask).unsqueeze(-1).to(logits.dtype)
            logits = (logits * keep).sum(1) / keep.sum(1)
        else:
            logits = logits.mean(1)
        return torch.sigmoid(logits), mask

    def _frame_mask(self, wave: torch.Tensor, padding_mask: torch.Tensor | None, frames: int) -> torch.Tensor | None:
        if padding_mask is None:
            return None
        if not isinstance(padding_mask, torch.Tensor) or padding_mask.dtype != torch.bool:
            raise TypeError("padding_mask must be a bool tensor [B, N] (True = padded)")
        if padding_mask.shape != wave.shape:
            raise ValueError(f"padding_mask shape {tuple(padding_mask.shape)} != wave shape {tuple(wave.shape)}")
        return _reduce_mask(padding_mask, frames)

    def _aligned_mask(self, padding_mask: torch.Tensor | None, frames: int) -> torch.Tensor | None:
        """Patch mask that hides every patch row touching a padded fbank frame (``mask_mode="aligned"``)."""
        if padding_mask is None:
            return None
        valid = (~padding_mask).sum(1)
        positions = torch.arange(padding_mask.shape[1], device=padding_mask.device)
        if not torch.equal(padding_mask, positions[None, :] >= valid[:, None]):
            raise ValueError('mask_mode="aligned" needs trailing padding (each mask row: False… then True…)')
        p = self.cfg.input_patch_size
        valid_frames = torch.where(valid >= 400, (valid - 400) // 160 + 1, torch.zeros_like(valid))
        rows, cols = valid_frames // p, NUM_MEL_BINS // p
        row_of_patch = torch.arange((frames // p) * cols, device=padding_mask.device) // cols
        return row_of_patch[None, :] >= rows[:, None]

    def _check_wave(self, wave: torch.Tensor) -> None:
        if not isinstance(wave, torch.Tensor) or not wave.is_floating_point():
            raise TypeError("wave must be a float tensor [B, N] at 16 kHz in [-1, 1)")
        if wave.ndim != 2:
            raise ValueError(f"wave must be [B, N], got shape {tuple(wave.shape)}")
        if wave.shape[1] < MIN_SAMPLES:
            raise ValueError(
                f"clip too short for BEATs: {wave.shape[1]} samples (need >= {MIN_SAMPLES} at 16 kHz = 0.175 s)"
            )

    def forward_prefix(
        self,
        wave: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        *,
        layers: int = 0,
        mask_mode: str = "official",
    ) -> BEATsHidden:
        """Waveform ``[B, N]`` → state after the first ``layers`` encoder layers (0 = input of layer 0)."""
        self._check_wave(wave)
        if mask_mode not in ("official", "aligned"):
            raise ValueError(f"mask_mode must be 'official' or 'aligned', got {mask_mode!r}")
        fbank = self.preprocess(wave)
        frame_mask = self._frame_mask(wave, padding_mask, fbank.shape[1])
        if mask_mode == "aligned":
            hidden = self._start(fbank, None, self._aligned_mask(padding_mask, fbank.shape[1]))
        else:
            hidden = self._start(fbank, frame_mask)
        return self.run_layers(hidden, layers)

    def forward_suffix(
        self, hidden: BEATsHidden, *, predictor: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Finish a :class:`BEATsHidden`: remaining layers (+ final LayerNorm, + the AudioSet predictor of fine-tuned
        models unless ``predictor=False``) → ``(features, mask)``."""
        return self._finish(self.run_layers(hidden), predictor)

    def extract_features(
        self, wave: torch.Tensor, padding_mask: torch.Tensor | None = None, *, mask_mode: str = "official"
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``wave`` ``[B, N]`` float at 16 kHz in [-1, 1), ``padding_mask`` bool ``[B, N]`` (True = padded) →
        ``(features [B, P, D], patch padding_mask [B, P] | None)``; fine-tuned models return
        ``(probabilities [B, predictor_class], mask)``.

        ``mask_mode="official"`` reproduces the official patch mask, which is *not* time-aligned (patch ``(t, f)``
        is masked iff frames ``16t + 2f`` and ``16t + 2f + 1`` are padded), so padded content leaks into "valid"
        patches. ``mask_mode="aligned"`` (trailing padding only) masks every patch row that touches a padded frame:
        the valid patches then equal those of the unpadded clip run alone.
        """
        return self.forward_suffix(self.forward_prefix(wave, padding_mask, layers=0, mask_mode=mask_mode))

    def forward_fbank(
        self, fbank: torch.Tensor, frame_padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Same as :meth:`extract_features` from a *normalised* fbank ``[B, T, 128]`` (mask ``[B, T]``)."""
        return self._finish(self.run_layers(self._start(fbank, frame_padding_mask)))

    def forward(
        self, wave: torch.Tensor, padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Alias of :meth:`extract_features`."""
        return self.extract_features(wave, padding_mask)


_QKV_NAMES = ("self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj.")


def batchable_suffix(models: list[BEATs], start: int) -> bool:
    """True when the ``models`` can finish a shared state from layer ``start`` on as one batch: same configuration and,
    in every layer from ``start`` on, the very same parameter tensors except those of the q / k / v projections
    (e.g. LoRA streams made by ``fisher_asd.streams.mef.adapted_copy``), and the same final LayerNorm."""
    ref = models[0]
    for m in models[1:]:
        if m.cfg != ref.cfg or m.encoder.layer_norm.weight is not ref.encoder.layer_norm.weight:
            return False
        if len(m.encoder.layers) != len(ref.encoder.layers):
            return False
        for i in range(start, len(ref.encoder.layers)):
            mine = dict(m.encoder.layers[i].named_parameters())
            for name, p in ref.encoder.layers[i].named_parameters():
                if not name.startswith(_QKV_NAMES) and mine.get(name) is not p:
                    return False
    return True


def forward_suffix_batched(models: list[BEATs], hidden: BEATsHidden) -> list[torch.Tensor]:
    """Finish one shared state with each of ``models`` (inference; :func:`batchable_suffix` must hold) →
    ``[features [B, P, D]]`` per model, equal to ``[m.forward_suffix(hidden, predictor=False)[0] for m in models]``.

    The S models' copies of the state run as one batch ``[S · B, P, D]``: each model's own q / k / v projections
    act on its slice, everything else (gates, attention, output projection, norms, feed-forward) once for all."""
    ref, b = models[0], hidden.x.shape[0]
    if any(m.training for m in models):
        raise RuntimeError("forward_suffix_batched is for inference (eval mode)")
    count = len(models)
    x = hidden.x.repeat(count, 1, 1)
    mask = hidden.padding_mask.repeat(count, 1) if hidden.padding_mask is not None else None
    stop = len(ref.encoder.layers)
    for i in range(hidden.next_layer, stop):
        attns = [m.encoder.layers[i].self_attn for m in models]

        def project(h: torch.Tensor, attns=attns) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            parts = [a.project(c) for a, c in zip(attns, h.split(b))]
            q, k, v = (torch.cat(t) for t in zip(*parts))
            return q, k, v

        x = ref.encoder.layers[i](x, mask, hidden.pos_bias, project)
    out = ref._finish(replace(hidden, x=x, padding_mask=mask, next_layer=stop), predictor=False)[0]
    return list(out.split(b))
