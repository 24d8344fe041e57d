"""The machine side of ``fisher bench``: CPU facts, the FLOPs of one embed call and the GEMM reference rate.

FLOPs are counted two ways (1 multiply-add = 2 FLOPs):

* **analytic** (:func:`analytic_flops`, docs/performance.md and the spec's compute-cost section): per band sequence of
  ``N`` tokens (CLS included) and layer, linear layers ``8·N·D² + 4·N·D·H`` (qkv, output projection, MLP of width
  ``H``) and attention ``4·N²·D``; once per band the patch embedding ``2·(N−1)·p²·D``; summed over the analysis
  windows of a clip. Element-wise work (LayerNorm, GELU, softmax) is not counted.
* **counted** while the embed call runs (:func:`counted_flops`): ``torch.utils.flop_counter.FlopCounterMode`` sees
  the linear layers, the patch convolution and the attention of ``embed``'s inference path, which runs as the
  operator ``fisher::band_attention`` with a registered FLOP formula (:mod:`fisher.compute.attention`); it has no
  formula for ``aten._scaled_dot_product_flash_attention_for_cpu``, which the module path (layer by layer,
  ``inference_chunk_tokens=None``) calls — :func:`fisher.compute.flops.flop_counter` adds that one. Both counts then
  equal the analytic one. Rates use the analytic count.

The GEMM reference (:func:`gemm_reference`) runs ``F.linear`` over every linear layer of the model itself (its weights
and shapes) on as many tokens as one forward pass of the embed call: how fast this machine multiplies the model's own
matrices, with no attention, normalisation or front end around them.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fisher.compute.capabilities import cpu_flags, inference_capabilities
from fisher.recipe.fisher_config import FisherConfig
from fisher.recipe.plan import EmbeddingRecipe

__all__ = [
    "ENV_VARS",
    "ISA_FLAGS",
    "analytic_flops",
    "busy_warning",
    "counted_flops",
    "cpu_model_name",
    "gemm_reference",
    "load_average",
    "machine_facts",
    "pass_tokens",
    "window_tokens",
]

# /proc/cpuinfo flags that decide which kernels run (fp32 GEMM, bf16, int8 dot products, AMX tiles).
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")
# Environment variables that cap or steer the kernels (reported when set).
ENV_VARS = (
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
    "MKL_ENABLE_INSTRUCTIONS",
    "ATEN_CPU_CAPABILITY",
    "OMP_NUM_THREADS",
)


def cpu_model_name() -> str:
    """The processor's marketing name (``model name`` of ``/proc/cpuinfo``), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _onnxruntime_version() -> str | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def load_average() -> float | None:
    """The 1-minute load average (runnable processes), ``None`` where the OS does not report it."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def busy_warning(load: float | None, cpus: int | None) -> str | None:
    """A warning when other processes already kept half the CPUs busy before the measurement started."""
    if load is None or not cpus or load < max(1.0, 0.5 * cpus):
        return None
    return (
        f"load average {load:.1f} on {cpus} logical CPUs before the start: other processes compete for the CPU, "
        "so the timings are noisy and multi-threaded torch can collapse; re-run on a quiet machine, or compare "
        "with --threads 1"
    )


def machine_facts() -> dict[str, Any]:
    """CPU name, logical CPUs, the relevant ISA flags, torch / ONNX Runtime versions, torch threads, the kernel
    environment variables that are set, and what ``precision="auto"`` resolves to here (with its reason)."""
    caps = inference_capabilities("cpu")
    flags = cpu_flags()
    return {
        "cpu": cpu_model_name(),
        "logical_cpus": os.cpu_count(),
        "isa": [f for f in ISA_FLAGS if f in flags],
        "torch": torch.__version__,
        "onnxruntime": _onnxruntime_version(),
        "threads": torch.get_num_threads(),
        "env": {k: os.environ[k] for k in ENV_VARS if os.environ.get(k)},
        "auto": caps.auto,
        "auto_reason": caps.reasons.get("bf16", ""),
    }


def window_tokens(config: FisherConfig, sr: float, n_samples: int) -> list[int]:
    """Tokens ``N = Tp·Fp + 1`` (CLS included) of one band sequence, for each analysis window of a clip."""
    recipe = EmbeddingRecipe.build(config, sr)
    frames = [recipe.frames(a, b) for a, b in recipe.windows(n_samples)]
    return [(f // config.patch_size) * config.freq_patches + 1 for f in frames]


def analytic_flops(config: FisherConfig, sr: float, n_samples: int, cls_only: bool = False) -> dict[str, float]:
    """FLOPs of embedding one clip of ``n_samples``: ``{"linear", "attention", "patch", "total"}``.

    ``cls_only``: the last block is computed for the CLS token alone (what ``embed`` does for ``summary="cls"``):
    its q/k/v projection still runs on every token, attention, projection and MLP on one row."""
    d, h, p = config.embed_dim, config.mlp_dim, config.patch_size
    bands = EmbeddingRecipe.build(config, sr).bands
    full = config.depth - 1 if cls_only else config.depth
    linear = attention = patch = 0.0
    for n in window_tokens(config, sr, n_samples):
        linear += bands * full * (8 * n * d * d + 4 * n * d * h)
        attention += bands * full * 4 * n * n * d
        if cls_only:
            linear += bands * (6 * n * d * d + 2 * d * d + 4 * d * h)
            attention += bands * 4 * n * d
        patch += bands * 2 * (n - 1) * p * p * d
    return {"linear": linear, "attention": attention, "patch": patch, "total": linear + attention + patch}


def counted_flops(model: nn.Module, clip: np.ndarray, sr: float) -> dict[str, float]:
    """FLOPs of ``model.embed(clip, sr)`` counted while it runs once in fp32: ``{"torch", "with_attention"}``.

    ``"torch"`` is what a plain ``torch.utils.flop_counter.FlopCounterMode`` reports: attention run as
    ``fisher::band_attention`` (the chunked inference path) is counted, attention run by torch's CPU SDPA kernel
    directly (the layer-by-layer path) counts as zero; ``"with_attention"`` also counts that kernel
    (:func:`fisher.compute.flops.flop_counter`) and equals the analytic count."""
    from fisher.compute.flops import flop_counter

    counter = flop_counter()
    with counter:
        model.embed(clip, sr)
    total = float(counter.get_total_flops())
    ops = counter.get_flop_counts().get("Global", {})
    unseen = float(sum(n for op, n in ops.items() if "scaled_dot_product" in str(op)))  # torch's counter: 0
    return {"torch": total - unseen, "with_attention": total}


def pass_tokens(config: FisherConfig, sr: float, n_samples: int, clips: int, batch_size: int) -> int:
    """Token rows of the largest forward pass of ``embed`` on ``clips`` clips of ``n_samples`` (``batch_size``
    windows per pass): ``min(batch_size, windows) · bands · N`` of the first (longest) window."""
    tokens = window_tokens(config, sr, n_samples)
    bands = EmbeddingRecipe.build(config, sr).bands
    return min(batch_size, clips * len(tokens)) * bands * tokens[0]


def gemm_reference(model: nn.Module, rows: int) -> tuple[Callable[[], None], float, int]:
    """``(run, flops, layers)``: ``run()`` applies ``F.linear`` with the weights of every ``nn.Linear`` of ``model``
    (fp32, CPU) to a ``[rows, in_features]`` input; ``flops`` is the work of one ``run()``."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("the model has no linear layers to measure the GEMM reference with")
    weights = [
        (m.weight.detach().float().cpu(), None if m.bias is None else m.bias.detach().float().cpu()) for m in layers
    ]
    gen = torch.Generator().manual_seed(0)
    inputs = {w.shape[1]: torch.randn(rows, w.shape[1], generator=gen) for w, _ in weights}
    flops = float(sum(2 * rows * w.shape[0] * w.shape[1] for w, _ in weights))

    def run() -> None:
        with torch.inference_mode():
            for w, b in weights:
                F.linear(inputs[w.shape[1]], w, b)

    return run, flops, len(layers)
