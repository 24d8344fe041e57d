"""precision="auto": hardware detection (honouring ONEDNN_MAX_CPU_ISA), the inspectable decision, bf16 warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import fisher
from fisher import Fisher, FisherConfig
from fisher.compute import capabilities

AMX = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"})
AVX2 = frozenset({"avx2", "fma"})


@pytest.fixture()
def flags(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(capabilities, "_WARNED", set())

    def use(value):
        monkeypatch.setattr(capabilities, "cpu_flags", lambda: value)

    return use


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return Fisher(FisherConfig.preset("tiny", depth=1))


def test_amx_cpu_picks_bf16(flags):
    flags(AMX)
    caps = fisher.inference_capabilities()
    assert caps.native_bf16 and caps.amx and caps.vnni and caps.auto == "bf16"
    assert "AMX" in caps.reasons["bf16"] and set(caps.reasons) == {"bf16", "int8", "fp32"}
    assert capabilities.resolve_precision("auto") == "bf16"
    assert capabilities.resolve_precision("int8") == "int8"  # explicit choices pass through


def test_avx2_cpu_picks_fp32(flags):
    flags(AVX2)
    caps = fisher.inference_capabilities()
    assert not caps.native_bf16 and not caps.vnni and caps.auto == "fp32"
    assert "no AVX512-BF16/AMX" in caps.reasons["bf16"]


@pytest.mark.parametrize(
    "cap,auto",
    [
        ("AVX2", "fp32"),
        ("avx512_core_vnni", "fp32"),
        ("AVX512_CORE_BF16", "bf16"),
        ("AVX512_CORE_AMX", "bf16"),
        ("ALL", "bf16"),
    ],
)
def test_onednn_isa_cap_is_honoured(flags, monkeypatch, cap, auto):
    flags(AMX)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    caps = fisher.inference_capabilities()
    assert caps.auto == auto and caps.onednn_max_isa == cap.upper()
    if auto == "fp32":
        assert "ONEDNN_MAX_CPU_ISA" in caps.reasons["bf16"]


def test_cuda_and_other_devices(flags):
    flags(AVX2)
    assert fisher.inference_capabilities("cuda:0").auto == "bf16"
    assert fisher.inference_capabilities("mps").auto == "fp32"  # unmeasured accelerators: the safe choice


def test_auto_embeds_with_the_resolved_precision(flags, tiny):
    x = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    flags(AVX2)
    np.testing.assert_array_equal(tiny.embed(x, 8000, precision="auto"), tiny.embed(x, 8000))
    flags(AMX)
    np.testing.assert_array_equal(tiny.embed(x, 8000, precision="auto"), tiny.embed(x, 8000, precision="bf16"))
    assert not np.array_equal(tiny.embed(x, 8000, precision="auto"), tiny.embed(x, 8000))


def test_explicit_bf16_warns_once_without_native_bf16(flags, tiny):
    x = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    flags(AVX2)
    with pytest.warns(RuntimeWarning, match="slower than fp32"):
        tiny.embed(x, 8000, precision="bf16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny.embed(x, 8000, precision="bf16")  # once per process
        tiny.embed(x, 8000, precision="auto")  # auto never warns


def test_no_warning_where_bf16_is_native(flags, tiny):
    flags(AMX)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny.embed(np.zeros(8000, np.float32), 8000, precision="bf16")


def test_real_machine_report_is_consistent():
    caps = fisher.inference_capabilities()
    assert caps.auto == ("bf16" if caps.native_bf16 else "fp32")
    assert caps.to_dict()["auto"] == caps.auto
