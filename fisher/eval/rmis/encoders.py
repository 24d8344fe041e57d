"""Encoders for the RMIS runners: anything with ``embed(windows, sr) -> [W, dim]`` plus a cache identity.

:func:`resolve_encoder` accepts

* ``"logstft"`` - the weight-free :class:`fisher.eval.baseline.LogSTFT` baseline;
* ``"random-tiny"`` / ``"random-mini"`` / ``"random-small"`` - FISHER with random weights (``torch.manual_seed(0)``),
  for smoke tests and as a no-pretraining reference;
* a FISHER name / hub id / directory / ``.pt`` file (:meth:`fisher.Fisher.from_pretrained`);
* any FISHER spec above with ``@bf16`` / ``@int8`` appended: the same model at reduced inference precision
  (:mod:`fisher.inference.precision`), e.g. ``"random-tiny@bf16"``;
* a :class:`fisher.Fisher` instance or any object with ``embed(wave, sr)`` (give it a ``cache_key`` attribute to
  enable embedding caches).

FISHER runs with the RMIS recipe: one embedding per window (``long="truncate"``, ``pad_frames=True`` - the normalised
spectrogram is zero-padded to 1024 frames), bands concatenated. The baseline does not zero-pad short clips (a padded
window would add log(1e-10) frames to its averages).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

__all__ = ["FisherEncoder", "resolve_encoder", "weights_fingerprint"]


def weights_fingerprint(module: Any) -> str:
    """16 hex digits of a SHA-256 over a torch module's state dict (names, shapes, dtypes and values)."""
    import torch

    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


class FisherEncoder:
    """Wrap a :class:`fisher.Fisher` model for the runners (RMIS recipe, see the module doc)."""

    pad_windows = True

    def __init__(self, model: Any, name: str = "fisher", *, pool: str = "concat", batch_size: int = 8,
                 precision: str = "fp32") -> None:
        from fisher.inference.precision import PRECISIONS

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.model = model.eval()
        self.name = name
        self.pool = pool
        self.batch_size = batch_size
        self.precision = precision
        suffix = "" if precision == "fp32" else f"-{precision}"
        self.cache_key = f"fisher-{weights_fingerprint(model)}-{pool}-rmis{suffix}"

    def embed(self, wave: Any, sr: float) -> np.ndarray:
        """``[W, dim]`` float32 window embeddings (``[dim]`` for one 1-D window)."""
        return self.model.embed(wave, sr, pool=self.pool, long="truncate", pad_frames=True, batch_size=self.batch_size,
                                precision=self.precision)

    def __repr__(self) -> str:
        return f"FisherEncoder({self.name!r}, key={self.cache_key!r})"


def resolve_encoder(spec: Any, *, allow_pickle: bool = False) -> Any:
    """Turn an encoder name / path / object into an encoder (see the module doc)."""
    if not isinstance(spec, str):
        from fisher.model.network import Fisher

        if isinstance(spec, Fisher):
            return FisherEncoder(spec)
        if not callable(getattr(spec, "embed", None)):
            raise TypeError(f"an encoder needs an embed(wave, sr) method; got {type(spec).__name__}")
        return spec
    from fisher.inference.precision import PRECISIONS

    head, _, tail = spec.rpartition("@")
    spec, precision = (head, tail) if head and tail in PRECISIONS else (spec, "fp32")  # "@rev" of hub ids stays
    if spec == "logstft":
        if precision != "fp32":
            raise ValueError("the logstft baseline has no reduced-precision variant")
        from fisher.eval.baseline import LogSTFT

        return LogSTFT()
    if spec.startswith("random-"):
        import torch

        from fisher import Fisher, FisherConfig

        scale = spec[len("random-") :]
        cfg = FisherConfig.preset(scale)  # raises for unknown scales
        torch.manual_seed(0)
        return FisherEncoder(Fisher(cfg), name=f"fisher-{scale}-random", precision=precision)
    from fisher import Fisher

    return FisherEncoder(Fisher.from_pretrained(spec, allow_pickle=allow_pickle), name=f"fisher:{spec}",
                         precision=precision)
