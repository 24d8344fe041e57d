"""An eager re-statement of the official FISHER inference code (``jianganbai/FISHER`` at ``60dd0c8``), for speed
comparisons only: the same operations in the same order as the official ``extract_features`` path described in
``../shared/spec/fisher.md`` (§1–§7), written from the spec, not copied.

* preprocessing clip by clip: float32 DC removal, ``torch.stft`` magnitude (torchaudio ``Spectrogram`` semantics),
  ``log(|X| + 1e-10)``, normalisation, first 1024 frames;
* band split with ``torch.split`` along frequency, bands of all clips stacked clip-major ``(B nb)``;
* 16×16 patch convolution, ``flatten(2).transpose(1, 2)``, positional table, CLS, LayerNorm;
* "AltBlock": ``qkv(x).reshape(B, N, 3, H, C // H).permute(2, 0, 3, 1, 4)``, SDPA, ``transpose(1, 2).reshape``,
  projection, post-norm residuals; the MLP branch output is computed (the official block returns it too);
* output: token 0 of every band, concatenated per clip.

``OfficialEager(model)`` shares the weights of a :class:`fisher.Fisher`; ``embed(clips, sr)`` is the batched mode
(one forward for all clips, as the official README batches), ``embed_per_clip`` the clip-by-clip mode.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


class OfficialEager:
    """The official forward, eagerly, on the weights of ``model`` (a :class:`fisher.Fisher`)."""

    def __init__(self, model) -> None:
        self.m = model
        self.c = model.config

    def _spectrogram(self, wave: torch.Tensor, sr: int) -> torch.Tensor:
        n_fft, hop = math.floor(self.c.win_ms * sr / 1000), math.floor(self.c.hop_ms * sr / 1000)
        wave = wave - wave.mean()
        window = torch.hann_window(n_fft)
        spec = torch.stft(wave, n_fft, hop, n_fft, window, center=False, return_complex=True).abs()
        spec = torch.log(spec.abs() + 1e-10).transpose(0, 1)
        spec = (spec - self.c.spec_mean) / (self.c.spec_std * self.c.spec_std_coeff)
        return spec[: self.c.max_frames]

    def _block(self, blk, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        h = blk.attn.num_heads
        qkv = blk.attn.qkv(x).reshape(b, n, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)
        x = blk.norm1(x + blk.attn.proj(a))
        ffn = blk.mlp.fc2(F.gelu(blk.mlp.fc1(x)))
        return blk.norm2(x + ffn)

    def _forward(self, specs: list[torch.Tensor]) -> torch.Tensor:
        w = self.c.band_width
        bands = []
        for s in specs:
            if s.shape[1] < w:
                s = F.pad(s, (0, w - s.shape[1]))
            bands.extend(t for t in torch.split(s, w, dim=1) if t.shape[1] == w)
        x = torch.stack(bands).unsqueeze(1)  # [(B nb), 1, T, W]
        x = self.m.patch_embed(x).flatten(2).transpose(1, 2)
        x = x + self.m.positions[: x.shape[1]].unsqueeze(0)
        x = torch.cat([self.m.cls_token.expand(x.shape[0], 1, -1), x], dim=1)
        x = self.m.context_norm(x)
        for blk in self.m.blocks:
            x = self._block(blk, x)
        nb = len(bands) // len(specs)
        return x[:, 0].reshape(len(specs), nb * self.c.embed_dim)

    @torch.no_grad()
    def embed(self, clips: np.ndarray, sr: int) -> np.ndarray:
        """``[B, N]`` → ``[B, nb·D]``, one forward for the whole batch."""
        specs = [self._spectrogram(torch.from_numpy(np.ascontiguousarray(c)), sr) for c in clips]
        return self._forward(specs).numpy()

    @torch.no_grad()
    def embed_per_clip(self, clips: np.ndarray, sr: int) -> np.ndarray:
        """``[B, N]`` → ``[B, nb·D]``, one forward per clip."""
        return np.concatenate([self.embed(c[None], sr) for c in clips])
