"""Reduced-precision inference copies of a FISHER model (``precision="bf16" | "int8"``).

* ``"fp32"`` — the model itself (reference numerics).
* ``"bf16"`` — a bfloat16 copy of the whole model; inputs are cast to bf16 and outputs back to float32. Fast on CPUs
  with native bf16 matmul (AVX512-BF16 / AMX; e.g. Intel Cooper Lake, Sapphire Rapids and newer, AMD Zen 4+) and on
  GPUs; on CPUs without it bf16 is emulated and usually *slower* than fp32.
* ``"int8"`` — dynamic int8 quantisation of every ``nn.Linear`` (weights int8 per tensor, activations quantised on
  the fly; ``torch.ao.quantization.quantize_dynamic``). CPU only; fast with AVX512-VNNI / AVX-VNNI.

* ``"auto"`` — resolved by :func:`fisher.compute.capabilities.resolve_precision` before a copy is made: bf16 where it runs
  natively, else fp32 (``fisher.inference_capabilities()`` explains the choice).

Copies are cached on the model and rebuilt automatically when its weights change (in-place updates included).
"""

from __future__ import annotations

import copy
import warnings

import torch

__all__ = ["PRECISIONS", "inference_copy", "input_dtype"]

PRECISIONS = ("fp32", "bf16", "int8")  # concrete precisions; "auto" resolves to one of them


def _weights_key(model: torch.nn.Module) -> tuple:
    return tuple((t.data_ptr(), t._version, t.dtype, t.device) for t in model.state_dict().values())


def input_dtype(model: torch.nn.Module, precision: str) -> torch.dtype:
    """dtype of the band images fed to the copy for ``precision``."""
    if precision == "bf16":
        return torch.bfloat16
    if precision == "int8":
        return torch.float32
    return next(model.parameters()).dtype


def _quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    quantize = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantize is None or not hasattr(quantize, "quantize_dynamic"):
        raise ValueError(
            "precision='int8' needs torch.ao.quantization.quantize_dynamic, which this torch lacks; "
            "use precision='bf16' or 'fp32'"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notice of torch.ao.quantization
        return quantize.quantize_dynamic(copy.deepcopy(model).float(), {torch.nn.Linear}, dtype=torch.qint8)


def inference_copy(model: torch.nn.Module, precision: str, device: torch.device) -> torch.nn.Module:
    """The module to run for ``precision`` (``model`` itself for fp32), cached until the weights change."""
    if precision == "auto":
        from fisher.compute.capabilities import resolve_precision

        precision = resolve_precision(precision, device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {('auto', *PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return model
    if precision == "int8" and device.type != "cpu":
        raise ValueError(f"precision='int8' runs on the CPU only, not on {device}; use 'bf16' on accelerators")
    key = _weights_key(model)
    hit = model.__dict__.get("_inference_copies", {}).get(precision)
    if hit is not None and hit[0] == key:
        return hit[1]
    cache = model.__dict__.pop("_inference_copies", {})  # never deep-copy the cache into the copy
    try:
        with torch.no_grad():
            fast = copy.deepcopy(model).to(torch.bfloat16) if precision == "bf16" else _quantize_int8(model)
    finally:
        model.__dict__["_inference_copies"] = cache
    fast.eval()
    cache[precision] = (key, fast)
    return fast
