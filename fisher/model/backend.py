"""The torch backend of the embedding recipe: samples → log-STFT → sub-bands → ViT → per-band summaries.

:class:`TorchBackend` implements :class:`fisher.recipe.plan.BandBackend` for a :class:`fisher.Fisher` at one
precision and device; :meth:`fisher.Fisher.embed` and :meth:`fisher.Fisher.embed_file` drive it with the recipe.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from fisher.compute.capabilities import check_device, resolve_precision, warn_if_emulated
from fisher.compute.precision import inference_copy, input_dtype
from fisher.model.bands import log_spectrogram, split_bands
from fisher.recipe.plan import EmbeddingRecipe

__all__ = ["TorchBackend"]


class TorchBackend:
    """Encodes window spectrograms with one model copy at one ``precision`` (``"fp32"``, ``"bf16"``, ``"int8"``
    or ``"auto"``) on one ``device`` (default: the model's; the model is moved there).

    Args:
        model: a :class:`fisher.Fisher` (anything with ``config``, ``parameters()`` and ``model(bands, summary)``).
        recipe: the :class:`~fisher.recipe.plan.EmbeddingRecipe` for the input's sampling rate.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        recipe: EmbeddingRecipe,
        *,
        precision: str = "fp32",
        device: str | torch.device | None = None,
    ) -> None:
        self.cfg, self.recipe = model.config, recipe
        param = next(model.parameters())
        self.device = check_device(device) if device is not None else param.device
        if self.device != param.device:
            model.to(self.device)
        if precision == "auto" or precision == "bf16":
            warn_if_emulated(precision, self.device)
            precision = resolve_precision(precision, self.device)
        self.precision = precision
        self.runner = inference_copy(model, precision, self.device)
        self.dtype = input_dtype(model, precision)

    def centre(self, clip: torch.Tensor, stop: int) -> torch.Tensor:
        """``clip[:stop]`` minus the clip's float32 mean (the official per-clip DC removal)."""
        return clip[:stop] - clip.mean()

    def spectrogram(self, window: Any) -> torch.Tensor:
        """Centred samples ``[n]`` (torch or numpy) → normalised ``[T_w, F]`` (padded to max_frames if asked)."""
        c = self.cfg
        window = torch.from_numpy(window) if isinstance(window, np.ndarray) else window
        spec = log_spectrogram(
            window, self.recipe.n_fft, self.recipe.hop, remove_dc=False, mean=c.spec_mean, std=c.spec_std,
            std_coeff=c.spec_std_coeff,
        )  # fmt: skip
        if self.recipe.pad_frames and spec.shape[0] < c.max_frames:
            spec = torch.nn.functional.pad(spec, (0, 0, 0, c.max_frames - spec.shape[0]))
        return spec

    @torch.inference_mode()
    def encode(self, specs: list[torch.Tensor]) -> np.ndarray:
        """Equal-length window spectrograms → ``[len(specs), bands, d]`` float32 numpy (bands low → high)."""
        bands = torch.cat([split_bands(s, self.cfg.band_width) for s in specs])
        bands = bands.to(device=self.device, dtype=self.dtype)
        out = self.runner(bands, self.recipe.summary)  # explicit: "cls" must not fall back to a config default
        return out.float().cpu().reshape(len(specs), self.recipe.bands, self.recipe.band_dim).numpy()
