"""What this machine runs natively, and which precision ``precision="auto"`` therefore picks.

``precision="auto"`` must never be a trap: it picks

* ``"bf16"`` only where bfloat16 matmuls run natively — a CUDA device, or a CPU with AVX512-BF16 or AMX that oneDNN
  is allowed to use (``ONEDNN_MAX_CPU_ISA`` / ``DNNL_MAX_CPU_ISA`` are honoured, so an emulated AVX2 machine is
  treated as one);
* ``"int8"`` never, on the evidence so far: on the AMX machine it is slower than bf16 and less faithful, on an
  (emulated) AVX2 machine it is not reliably faster than fp32 (``benchmarks/embed_throughput.py``,
  ``docs/performance.md``);
* ``"fp32"`` otherwise.

Inspect the decision with ``fisher.inference_capabilities()``; every field states its reason.
"""

from __future__ import annotations

import os
import platform
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "InferenceCapabilities",
    "available_devices",
    "check_device",
    "cpu_flags",
    "inference_capabilities",
    "resolve_precision",
    "warn_if_emulated",
]

# oneDNN ISA names in increasing order (values of ONEDNN_MAX_CPU_ISA); ALL / DEFAULT mean "no cap".
ONEDNN_ISAS = (
    "SSE41",
    "AVX",
    "AVX2",
    "AVX2_VNNI",
    "AVX2_VNNI_2",
    "AVX512_CORE",
    "AVX512_CORE_VNNI",
    "AVX512_CORE_BF16",
    "AVX512_CORE_FP16",
    "AVX512_CORE_AMX",
    "AVX512_CORE_AMX_FP16",
)
_BF16_ISA = ONEDNN_ISAS.index("AVX512_CORE_BF16")
_WARNED: set[str] = set()


def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (Linux); empty where unavailable."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def _onednn_cap() -> tuple[str | None, int | None]:
    """``(value, rank)`` of ``ONEDNN_MAX_CPU_ISA`` (or ``DNNL_MAX_CPU_ISA``); rank ``None`` means no cap."""
    raw = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    if not raw:
        return None, None
    value = raw.strip().upper()
    if value in ("ALL", "DEFAULT"):
        return value, None
    return value, ONEDNN_ISAS.index(value) if value in ONEDNN_ISAS else None


def _torch_cpu_bf16() -> bool:
    """Fallback when /proc/cpuinfo is unavailable: oneDNN's own bf16 check (does not see the env cap)."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (ImportError, AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class InferenceCapabilities:
    """Hardware facts behind ``precision="auto"``.

    Attributes:
        device: ``"cpu"`` or the CUDA device checked.
        cpu: processor description (``platform.processor()`` or the machine type).
        native_bf16: bf16 matmuls run natively (CUDA, or AVX512-BF16 / AMX usable by oneDNN).
        vnni: int8 dot-product instructions (AVX512-VNNI / AVX-VNNI) present.
        amx: AMX tiles present (and not capped away).
        onednn_max_isa: the ``ONEDNN_MAX_CPU_ISA`` cap in effect, or ``None``.
        auto: the precision ``precision="auto"`` resolves to on this device.
        reasons: one sentence per precision explaining the choice.
    """

    device: str
    cpu: str
    native_bf16: bool
    vnni: bool
    amx: bool
    onednn_max_isa: str | None
    auto: str
    reasons: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def inference_capabilities(device: str | torch.device | None = None) -> InferenceCapabilities:
    """Detect what ``device`` (default CPU; ``"cuda"``; other devices get fp32) runs natively and which precision
    ``"auto"`` picks there."""
    dev = str(device) if device is not None else "cpu"
    cap_name, cap_rank = _onednn_cap()
    if dev.startswith("cuda"):
        reasons = {
            "bf16": "CUDA devices run bf16 natively",
            "int8": "int8 (dynamic quantisation) is CPU-only",
            "fp32": "reference numerics",
        }
        return InferenceCapabilities(dev, "cuda", True, False, False, cap_name, "bf16", reasons)
    if dev != "cpu":  # other accelerators (mps, xpu …): no evidence about their bf16 speed here
        reasons = {
            "bf16": f"bf16 speed on {dev} is not known to this library",
            "int8": "int8 is CPU-only",
            "fp32": "reference numerics; the safe choice on an unmeasured device",
        }
        return InferenceCapabilities(dev, dev, False, False, False, cap_name, "fp32", reasons)
    flags = cpu_flags()
    capped = cap_rank is not None
    hw_bf16 = bool(flags & {"avx512_bf16", "amx_bf16"}) if flags else _torch_cpu_bf16()
    native_bf16 = hw_bf16 and (not capped or cap_rank >= _BF16_ISA)
    amx = "amx_bf16" in flags and (not capped or cap_rank >= ONEDNN_ISAS.index("AVX512_CORE_AMX"))
    vnni_isa = ONEDNN_ISAS.index("AVX2_VNNI") if "avx_vnni" in flags else ONEDNN_ISAS.index("AVX512_CORE_VNNI")
    vnni = bool(flags & {"avx512_vnni", "avx_vnni"}) and (not capped or cap_rank >= vnni_isa)
    cap_note = f" (capped by ONEDNN_MAX_CPU_ISA={cap_name})" if capped else ""
    if native_bf16:
        bf16 = "the CPU has " + ("AMX" if amx else "AVX512-BF16") + " usable by oneDNN: bf16 matmuls run natively"
    elif hw_bf16:
        bf16 = f"the CPU has native bf16 but oneDNN may not use it{cap_note}: bf16 is emulated and slower than fp32"
    else:
        bf16 = "the CPU has no AVX512-BF16/AMX: bf16 is emulated and several times slower than fp32"
    reasons = {
        "bf16": bf16,
        "int8": "never auto-selected: slower than native bf16 where bf16 exists, and not reliably faster than fp32 "
        "elsewhere (measured 0.9-1.2x on AVX2); request it explicitly after measuring on your CPU",
        "fp32": "reference numerics; chosen when bf16 is not native",
    }
    cpu = platform.processor() or platform.machine()
    return InferenceCapabilities(
        "cpu", cpu, native_bf16, vnni, amx, cap_name, "bf16" if native_bf16 else "fp32", reasons
    )


def resolve_precision(precision: str, device: str | torch.device | None = None) -> str:
    """``"auto"`` → the concrete precision for ``device``; other values pass through unchanged."""
    if precision != "auto":
        return precision
    return inference_capabilities(_device_kind(device)).auto


def _device_kind(device: str | torch.device | None) -> str:
    text = str(device) if device is not None else "cpu"
    return "cuda" if text.startswith("cuda") else "cpu" if text.startswith("cpu") else text


def warn_if_emulated(precision: str, device: str | torch.device | None = None) -> None:
    """Warn once per process when ``"bf16"`` is requested explicitly on a CPU that only emulates it."""
    if precision != "bf16" or _device_kind(device) != "cpu" or "bf16" in _WARNED:
        return
    caps = inference_capabilities("cpu")
    if not caps.native_bf16:
        _WARNED.add("bf16")
        warnings.warn(
            f"precision='bf16' on this CPU is likely slower than fp32: {caps.reasons['bf16']}. "
            "Use precision='auto' (see fisher.inference_capabilities()).",
            RuntimeWarning,
            stacklevel=3,
        )


def available_devices() -> list[str]:
    """Torch devices usable here: ``"cpu"``, then ``"cuda:0"`` … and ``"mps"`` when present."""
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device`` after checking this machine has it.

    Raises ``TypeError`` for a non-device value and ``ValueError`` naming the device, why it is unusable (e.g. CUDA
    is not available) and the available devices — instead of torch's ``AssertionError`` deep inside ``.to()``.
    """
    import torch

    if isinstance(device, bool) or not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str such as 'cpu' or 'cuda:0' or a torch.device, got {device!r}")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"device {device!r} is not a torch device name; available here: {available_devices()}"
        ) from None
    if dev.type == "cpu":
        return dev
    try:
        torch.empty(0, device=dev)
    except (AssertionError, RuntimeError) as err:
        why = "CUDA is not available" if dev.type == "cuda" else f"{dev.type} is not available"
        detail = (str(err).splitlines() or [""])[0][:120]
        raise ValueError(
            f"device {str(dev)!r} cannot be used: {why} ({detail}); available here: {available_devices()}"
        ) from None
    return dev
