"""The packaged self-pretrained ``demo`` model: registered, offline, documented as not official (issue 11)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import shared_dir

import fisher
from fisher import Fisher
from fisher.hub.registry import get_record, packaged_path

REPO = Path(__file__).resolve().parents[1]


def test_demo_is_registered_and_says_it_is_not_official() -> None:
    models = fisher.list_models()
    assert "demo" in models and "tiny" in models and "nope" not in models
    rec = get_record("demo")
    assert rec.hub_repo is None and not rec.official and rec.package_dir == "pretrained/demo"
    assert "NOT the official FISHER weights" in rec.description
    assert "configs/pretrain/demo-cpu.yaml" in rec.description and "steps" in rec.description
    assert rec.source == "package:pretrained/demo"


def test_demo_loads_offline_and_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def no_network(*args, **kwargs):
        raise AssertionError("the demo model must never touch the hub")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    model = Fisher.from_pretrained("demo")
    rec = get_record("demo")
    cfg = dataclasses.replace(model.config, extra={})
    assert cfg == rec.config
    assert sum(t.numel() for t in model.state_dict().values()) == rec.params
    path = packaged_path(rec)
    assert (path / "model.safetensors").stat().st_size <= 10 * 1024 * 1024
    wave = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    emb = model.embed(wave, sr=16000)
    assert model.config.summary == "freq"  # the protocol's choice (docs/pretraining.md), stated in the record
    assert emb.shape == (2 * 6 * 128,) == (model.embedding_dim(16000),) and np.isfinite(emb).all()
    assert model.embed(wave, sr=16000, summary="cls").shape == (2 * 128,)
    # pretrained, not the random initialisation: the weights differ from a freshly built model's
    fresh = Fisher(rec.config)
    assert not torch.allclose(fresh.blocks[0].mlp.fc1.weight, model.blocks[0].mlp.fc1.weight)


def test_demo_ships_its_pretraining_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fisher.pretrain import PretrainConfig

    # The config names its data as ${FISHER_SHARED}/data/...; only the recipe sections are compared, so on a fresh
    # clone without the shared folder (and without the variable) any folder stands in for it.
    root = shared_dir()
    monkeypatch.setenv("FISHER_SHARED", str(root if root is not None else tmp_path))

    path = packaged_path(get_record("demo"))
    shipped = json.loads((path / "pretrain_config.json").read_text())
    from fisher.pretrain.resume import LEGACY_VALUES  # keys added after the model was trained: their old behaviour

    for key, value in LEGACY_VALUES.items():
        section, name = key.split(".")
        shipped[section].setdefault(name, value)
    repo = PretrainConfig.load(REPO / "configs" / "pretrain" / "demo-cpu.yaml").to_dict()
    for section in ("model", "masking", "decoder", "targets", "loss", "ema", "optim"):
        assert shipped[section] == repo[section], section
    assert shipped["train"]["steps"] == repo["train"]["steps"]


def test_missing_packaged_files_give_a_clear_error() -> None:
    rec = dataclasses.replace(get_record("demo"), package_dir="pretrained/not-there")
    with pytest.raises(FileNotFoundError, match="missing from this installation"):
        packaged_path(rec)
    with pytest.raises(ValueError, match="not a packaged model"):
        packaged_path(get_record("tiny"))
