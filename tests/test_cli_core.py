"""The ``fisher`` command line: demo (offline main job), convert, models."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from fisher import Fisher, FisherConfig
from fisher.cli import main
from fisher.hub.keymap import to_official


def test_demo_offline_says_random(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("fisher.demo.weights.registry_names", lambda: ["tiny", "mini", "small"])  # no shipped demo
    roc = tmp_path / "roc.png"  # --roc is the old name of --figure
    assert main(["demo", "--clips", "2", "--seconds", "0.5", "--roc", str(roc)]) == 0
    out = capsys.readouterr().out
    assert "AUC" in out and "logstft" in out and "FISHER" in out and "RANDOM weights" in out
    for sr, bands, dim in (("8000", "1", "192"), ("16000", "2", "384"), ("48000", "6", "1152")):
        assert any(line.split()[:1] == [sr] and line.split()[2:4] == [bands, dim] for line in out.splitlines())
    assert "bank 2 normal clips; scored 2 normal + 2 faulty clips @ 48000 Hz" in out
    pytest.importorskip("matplotlib")
    assert roc.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"figure written to {roc}" in out


def test_demo_with_local_model(tmp_path, capsys):
    Fisher(FisherConfig.preset("small", depth=1)).save_pretrained(tmp_path / "m")
    assert (
        main(
            [
                "demo",
                "--model",
                str(tmp_path / "m"),
                "--rates",
                "16000",
                "--clips",
                "2",
                "--seconds",
                "0.5",
                "--figure",
                "",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"weights from {tmp_path / 'm'}" in out and "RANDOM" not in out
    assert any(line.split()[:4] == ["16000", "400/160", "4", "1536"] for line in out.splitlines())


def test_demo_bad_rates(capsys):
    with pytest.raises(SystemExit) as exc:  # an option value: an argparse error (exit 2), before any work
        main(["demo", "--rates", "abc", "--random-init"])
    assert exc.value.code == 2 and "--rates" in capsys.readouterr().err


def test_convert_round_trip(tmp_path, capsys):
    model = Fisher(FisherConfig.preset("tiny", depth=1))
    torch.save(
        {
            "cfg": {"model": {"depth": 1, "embed_dim": 192, "num_heads": 3, "band_width": 100}},
            "model": to_official(model.state_dict()),
        },
        tmp_path / "m.pt",
    )
    assert main(["convert", str(tmp_path / "m.pt"), str(tmp_path / "out")]) == 0
    assert "round-trip=bit-exact" in capsys.readouterr().out
    loaded = Fisher.from_pretrained(tmp_path / "out")
    assert torch.equal(loaded.patch_embed.weight, model.patch_embed.weight)


def test_convert_missing_file(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nope.pt"), str(tmp_path / "out")]) == 1
    assert "error" in capsys.readouterr().err


def test_models_json(capsys):
    assert main(["models", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == ["tiny", "mini", "small", "demo"]
    assert records[2]["config"]["band_width"] == 50 and records[2]["hub_repo"] == "jiangab/FISHER-small-0723"
    assert records[3]["hub_repo"] is None and records[3]["official"] is False
    assert records[3]["package_dir"] == "pretrained/demo"


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_console_entry_point(args):
    res = subprocess.run(
        [sys.executable, "-m", "fisher.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0 and ("fisher" in res.stdout)
