"""``fisher bench`` (issue 21 item 4): the measurement, the recommendation rules, the ONNX skip and the command line.

Everything runs a one-block tiny model on 1 s clips with a 1-2 s budget, so each case takes a few seconds.
"""

from __future__ import annotations

import json
import sys

import pytest
import torch

from fisher.bench import BenchResult, PathResult, format_report, recommend, run_bench
from fisher.bench.machine import analytic_flops, busy_warning, pass_tokens, window_tokens
from fisher.bench.paths import build_paths, onnx_missing
from fisher.cli import main
from fisher.model.network import Fisher
from fisher.recipe.fisher_config import FisherConfig

CONFIG = FisherConfig.preset("tiny", depth=1)
SR = 16000


def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def result() -> BenchResult:
    return run_bench(CONFIG, name="tiny depth 1", batch=2, seconds=1.0, sr=SR, threads=1, budget=2.0)


def test_result_fields_are_sane(result):
    names = [p.name for p in result.paths]
    assert names[:3] == ["fp32", "auto", "int8"]
    assert ("onnx-fp32" in names) == (onnx_missing() is None)
    assert ("onnx-fp32" in result.skipped) == (onnx_missing() is not None)
    for p in result.paths:
        assert p.seconds > 0 and p.clips_per_s > 0 and p.gflop_per_s > 0 and p.gemm_ratio > 0 and p.speedup > 0
        assert 0.99 < p.min_cosine <= 1.0 and p.max_abs_diff >= 0
    fp32 = result.path("fp32")
    assert fp32.min_cosine == 1.0 and fp32.max_abs_diff == 0.0 and fp32.speedup == 1.0
    assert result.path("int8").approximate and not fp32.approximate
    if "onnx-fp32" in names:
        assert result.path("onnx-fp32").max_abs_diff < 1e-4
    assert result.recommendation["path"] in names
    assert result.recommendation["line"].startswith("use: ")
    assert result.rounds >= 1 and result.gemm["gflop_per_s"] > 0
    assert result.workload["batch"] == 2 and result.workload["threads"] == 1
    assert result.machine["torch"] == torch.__version__ and result.machine["auto"] in ("fp32", "bf16")
    json.dumps(result.to_dict(), allow_nan=False)  # the --json object is plain JSON


def test_flops_analytic_and_counted(result):
    """A plain FlopCounterMode counts the linear layers, the patch convolution and — through the
    fisher::band_attention operator of the inference path — the attention exactly: the analytic count."""
    f = result.flops
    assert f["attention_gflop_per_clip"] > 0
    assert f["counted_gflop_per_clip"] == pytest.approx(f["analytic_gflop_per_clip"])
    assert f["counted_with_attention_gflop_per_clip"] == pytest.approx(f["analytic_gflop_per_clip"])
    assert "attention" in f["note"]


def test_analytic_flops_match_the_spec_table():
    """docs/performance.md: 10.56 GFLOP for a 10 s clip of tiny at 16 kHz; N = 373 tokens per band sequence."""
    tiny = FisherConfig.preset("tiny")
    assert window_tokens(tiny, SR, 10 * SR) == [373]
    assert analytic_flops(tiny, SR, 10 * SR)["total"] / 1e9 == pytest.approx(10.56, abs=0.005)
    assert pass_tokens(tiny, SR, 10 * SR, clips=8, batch_size=8) == 8 * 2 * 373
    assert len(window_tokens(tiny, SR, 25 * SR)) == 3  # long clips: one analysis window per 1024 frames


def test_report_is_an_aligned_table(result):
    lines = format_report(result).splitlines()
    header = next(line for line in lines if line.startswith("path "))
    column = header.index("note")
    for p in result.paths:
        row = next(line for line in lines if line.startswith(f"{p.name} "))
        assert row[column:].startswith(p.label), (header, row)
    text = "\n".join(lines)
    assert "FlopCounterMode" in text and "GEMM" in text and result.recommendation["line"] in lines
    assert lines.index(result.recommendation["line"]) >= len(lines) - 3


def test_onnx_skipped_cleanly_when_onnxruntime_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now raises ImportError
    assert "onnxruntime" in onnx_missing()
    torch.manual_seed(0)
    paths, skipped = build_paths(Fisher(CONFIG), SR, 2, 1, tmp_path)
    assert [p.name for p in paths] == ["fp32", "auto", "int8"]
    assert "onnxruntime not importable" in skipped["onnx-fp32"]
    assert not list(tmp_path.iterdir())  # nothing exported


def test_onnx_skipped_when_not_requested(tmp_path):
    paths, skipped = build_paths(Fisher(CONFIG), SR, 2, 1, tmp_path, onnx=False)
    assert "onnx-fp32" not in [p.name for p in paths] and "--no-onnx" in skipped["onnx-fp32"]


def _path(name, seconds, cos=1.0, *, label=None, approximate=False, same_as=None) -> PathResult:
    return PathResult(
        name=name,
        label=label or name,
        seconds=seconds,
        clips_per_s=1 / seconds,
        gflop_per_s=1.0,
        gemm_ratio=0.1,
        speedup=1.0 / seconds,
        min_cosine=cos,
        max_abs_diff=0.0,
        approximate=approximate,
        note="",
        same_as=same_as,
    )


ONNX = "OnnxFisher (fp32)"


@pytest.mark.parametrize(
    ("paths", "chosen", "words"),
    [
        ([_path("fp32", 1.0), _path("onnx-fp32", 0.5, label=ONNX)], "onnx-fp32", "use: OnnxFisher (fp32), 2.00x fp32"),
        ([_path("fp32", 1.0), _path("onnx-fp32", 0.98)], "fp32", "(the default)"),  # within the 5 % noise margin
        ([_path("fp32", 1.0), _path("auto", 0.5, same_as="fp32")], "fp32", "(the default)"),  # auto is fp32 here
        ([_path("fp32", 1.0), _path("auto", 0.5, cos=0.9998)], "fp32", "(the default)"),  # not exact
        ([_path("fp32", 1.0), _path("int8", 0.5, cos=0.9995, approximate=True)], "int8", "approximate"),
        ([_path("fp32", 1.0), _path("int8", 0.5, cos=0.998, approximate=True)], "fp32", "(the default)"),
        ([_path("fp32", 1.0), _path("auto", 0.5, label='precision="auto" (bf16)')], "auto", '"auto" (bf16), 2.00x'),
    ],
)
def test_recommendation_rules(paths, chosen, words):
    rec = recommend(paths)
    assert rec["path"] == chosen and words in rec["line"], rec


def test_busy_warning():
    assert busy_warning(None, 2) is None and busy_warning(0.4, 2) is None
    assert "load average 3.0" in busy_warning(3.0, 2)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    return Fisher(CONFIG).save_pretrained(tmp_path_factory.mktemp("bench") / "tiny1")


def test_cli_json(capsys, model_dir):
    argv = ["bench", "--model", model_dir, "--batch", 1, "--seconds", 1, "--budget", 1, "--threads", 1, "--no-onnx"]
    code, out, err = run_cli(capsys, [*argv, "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert {"machine", "workload", "flops", "gemm", "paths", "recommendation", "skipped"} <= set(data)
    assert [p["name"] for p in data["paths"]] == ["fp32", "auto", "int8"]
    assert data["workload"]["model"] == str(model_dir) and data["workload"]["depth"] == 1
    assert data["recommendation"]["path"] in {"fp32", "auto", "int8"}
    assert "measuring" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--batch", "0"], "--batch: 0 is below the supported minimum 1"),
        (["--batch", "abc"], "--batch: 'abc' is not a whole number"),
        (["--batch", "100000"], "--batch: 100000 is above the supported maximum"),
        (["--seconds", "0.1"], "--seconds: 0.1 s is below the supported minimum"),
        (["--seconds", "nan"], "--seconds: nan is not a finite number"),
        (["--sr", "500"], "--sr: 500 Hz is below the supported minimum 1000 Hz"),
        (["--sr", "16000.5"], "--sr: '16000.5' is not a whole number"),
        (["--threads", "0"], "--threads: 0 is below the supported minimum 1"),
        (["--budget", "0"], "--budget: 0 s is below the supported minimum 1 s"),
        (["--budget", "1e9"], "--budget: 1000000000 s is above the supported maximum"),
        (["--scale", "huge"], "--scale: invalid choice: 'huge'"),
        (["--scale", "tiny", "--model", "demo"], "not allowed with argument"),
    ],
)
def test_bad_option_values_exit_2(capsys, args, words):
    code, out, err = run_cli(capsys, ["bench", *args])
    assert code == 2 and out == ""
    assert words in err, err


def test_too_many_samples_exit_1(capsys):
    code, _, err = run_cli(capsys, ["bench", "--batch", "256", "--seconds", "600", "--sr", "16000"])
    assert code == 1 and "per batch" in err and "--batch 256" in err


def test_missing_model_is_a_clear_error(capsys, tmp_path):
    missing = tmp_path / "no-such-model"
    code, out, err = run_cli(capsys, ["bench", "--model", missing, "--budget", "1"])
    assert code == 1 and out == ""
    assert err.startswith("fisher bench: error: --model:") and str(missing) in err and "neither an existing path" in err
