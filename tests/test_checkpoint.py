"""Checkpoint formats, the legacy key map, strict loading, pickle opt-in, save/load, offline hub behaviour."""

from __future__ import annotations

import json
import lzma
import socket
import types

import numpy as np
import pytest
import torch

from fisher import Fisher, FisherConfig
from fisher.hub.checkpoint import read_official_checkpoint
from fisher.hub.keymap import LEGACY_TO_OURS, convert_state_dict, to_official
from fisher.hub.official_config import config_from_official, infer_max_freq

TINY = FisherConfig.preset("tiny", depth=2)


def official_cfg(depth=2, dim=192, heads=3, band=100, **image):
    return {
        "depth": depth,
        "embed_dim": dim,
        "num_heads": heads,
        "band_width": band,
        "layer_norm_first": False,
        "unknown_future_key": 1,
        "modalities": {
            "image": {
                "type": "IMAGE",
                "embed_dim": dim,
                "band_width": band,
                "max_length": 128,
                "max_freq": 50,
                "patch_size": 16,
                "num_extra_tokens": 1,
                **image,
            }
        },
    }


def write_official(path, model: Fisher, cfg=None, *, dtype=torch.float32, wrap=""):
    state = {wrap + k: v.to(dtype) for k, v in to_official(model.state_dict()).items()}
    torch.save({"cfg": {"model": cfg if cfg is not None else official_cfg()}, "model": state}, path)
    return path


@pytest.fixture()
def model():
    torch.manual_seed(3)
    return Fisher(TINY)


def test_keymap_synthetic_state_dict(model):
    legacy = to_official(model.state_dict())
    assert set(LEGACY_TO_OURS) <= set(legacy)
    assert legacy["modality_encoders.IMAGE.extra_tokens"].shape == (1, 1, 192)
    assert legacy["modality_encoders.IMAGE.fixed_positional_encoder.positions"].shape == (1, 6400, 192)
    back = convert_state_dict(legacy)
    assert set(back) == set(model.state_dict())
    for k, v in model.state_dict().items():
        assert torch.equal(back[k], v), k


@pytest.mark.parametrize("prefix", ["module.", "model.", "module.model.", "fisher."])
def test_keymap_strips_wrappers_and_drops_training_leftovers(model, prefix):
    legacy = {prefix + k: v for k, v in to_official(model.state_dict()).items()}
    legacy[prefix + "_ema.blocks.0.norm1.weight"] = torch.zeros(3)
    legacy[prefix + "decoder.proj.weight"] = torch.zeros(3)
    assert set(convert_state_dict(legacy)) == set(model.state_dict())


def test_fp16_upcast(model, tmp_path):
    path = write_official(tmp_path / "half.pt", model, dtype=torch.float16)
    loaded = Fisher.from_pretrained(path)
    assert loaded.patch_embed.weight.dtype == torch.float32
    torch.testing.assert_close(loaded.patch_embed.weight, model.patch_embed.weight.half().float())


def test_official_pt_round_trip_and_xz(model, tmp_path):
    path = write_official(tmp_path / "m.pt", model)
    xz = tmp_path / "m.pt.xz"
    xz.write_bytes(lzma.compress(path.read_bytes()))
    x = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    ref = model.embed(x, 16000)
    for p in (path, xz):
        np.testing.assert_array_equal(Fisher.from_pretrained(p).embed(x, 16000), ref)


def test_save_load_bit_exact(model, tmp_path):
    out = model.save_pretrained(tmp_path / "saved")
    assert sorted(f.name for f in out.iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((out / "config.json").read_text())["model_type"] == "fisher"
    loaded = Fisher.from_pretrained(out)
    assert loaded.config == model.config
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    x = np.random.default_rng(1).standard_normal(12000).astype(np.float32) * 0.1
    np.testing.assert_array_equal(loaded.embed(x, 8000), model.embed(x, 8000))


def test_save_is_atomic_on_failure(model, tmp_path, monkeypatch):
    out = model.save_pretrained(tmp_path / "d")
    before = (out / "model.safetensors").read_bytes()
    import safetensors.torch

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save_pretrained(out)
    assert (out / "model.safetensors").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_strict_loading_lists_missing_and_unexpected(model, tmp_path):
    state = to_official(model.state_dict())
    del state["blocks.1.mlp.fc2.bias"]
    state["blocks.1.mlp.fc3.weight"] = torch.zeros(2)
    torch.save({"cfg": {"model": official_cfg()}, "model": state}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=r"missing keys \(1\): \['blocks.1.mlp.fc2.bias'\].*unexpected keys"):
        Fisher.from_pretrained(tmp_path / "bad.pt")


def test_config_from_file_unknown_ignored_missing_defaulted(model, tmp_path):
    cfg = official_cfg()
    del cfg["modalities"]["image"]["max_freq"]  # inferred from the positional table
    del cfg["num_heads"]  # defaults to 12 -> 192 / 12 heads of 16: loads (heads are not in the weights)
    config, _ = read_official_checkpoint(write_official(tmp_path / "m.pt", model, cfg))
    assert config.max_freq == 50 and config.max_length == 128 and config.num_heads == 12 and config.depth == 2


def test_positional_table_size_inferred(tmp_path):
    cfg = FisherConfig.preset("tiny", depth=1, max_length=768, max_freq=400)
    big = Fisher(cfg)
    assert infer_max_freq(big.positions) == 400
    loaded = Fisher.from_pretrained(
        write_official(tmp_path / "old.pt", big, official_cfg(depth=1, max_length=768, max_freq=400))
    )
    assert loaded.config.max_freq == 400 and loaded.positions.shape == (768 * 400, 192)


@pytest.mark.parametrize(
    "override,match",
    [({"layer_norm_first": True}, "layer_norm_first"), ({"embed_dim": 256}, "embed_dim"), ({"depth": 5}, "depth")],
)
def test_inconsistent_or_unsupported_config(model, tmp_path, override, match):
    cfg = {**official_cfg(), **override}
    with pytest.raises(ValueError, match=match):
        Fisher.from_pretrained(write_official(tmp_path / "m.pt", model, cfg))


def test_pickle_requires_opt_in(model, tmp_path):
    cfg = types.SimpleNamespace(**official_cfg())
    path = write_official(tmp_path / "pickled.pt", model, cfg)
    with pytest.raises(ValueError, match="allow_pickle=True"):
        Fisher.from_pretrained(path)
    loaded = Fisher.from_pretrained(path, allow_pickle=True)
    assert torch.equal(loaded.cls_token, model.cls_token)


def test_not_a_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not an official FISHER checkpoint"):
        Fisher.from_pretrained(tmp_path / "x.pt")


def test_foreign_directory_with_prefixed_safetensors(model, tmp_path):
    from safetensors.torch import save_file

    d = tmp_path / "hf"
    d.mkdir()
    save_file(
        {"model." + k: v.contiguous() for k, v in to_official(model.state_dict()).items()}, str(d / "model.safetensors")
    )
    (d / "config.json").write_text(json.dumps({"architectures": ["FISHERModel"], **official_cfg()}))
    loaded = Fisher.from_pretrained(d)
    assert torch.equal(loaded.blocks[1].mlp.fc2.weight, model.blocks[1].mlp.fc2.weight)


def test_directory_without_weights(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="holds no FISHER weights"):
        Fisher.from_pretrained(tmp_path)


def test_bad_dtype(model, tmp_path):
    with pytest.raises(TypeError, match="dtype"):
        Fisher.from_pretrained(model.save_pretrained(tmp_path / "d"), dtype=torch.int8)


def test_dtype_and_bf16_embed(model, tmp_path):
    loaded = Fisher.from_pretrained(model.save_pretrained(tmp_path / "d"), dtype=torch.bfloat16)
    x = np.random.default_rng(2).standard_normal(8000).astype(np.float32) * 0.1
    out = loaded.embed(x, 8000)
    assert out.dtype == np.float32
    ref = model.embed(x, 8000)
    assert np.dot(out, ref) / np.linalg.norm(out) / np.linalg.norm(ref) > 0.99


def test_offline_hub_makes_no_network_call(monkeypatch, tmp_path):
    calls = []

    def no_connect(self, *args, **kwargs):
        calls.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="not in the local Hugging Face cache"):
        Fisher.from_pretrained("small", cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not in the local Hugging Face cache"):
        Fisher.from_pretrained("someone/some-fisher", local_files_only=True, cache_dir=tmp_path)
    assert calls == []


TINY_REV = "f9ac81c66b13f97386e4e39b1777e64ba4c98459"


def test_hub_cache_layout_is_used(model, tmp_path):
    """A snapshot in the huggingface_hub cache layout loads with local_files_only (no network); the registry name
    resolves to the pinned revision, not to whatever ``main`` points at."""
    repo_dir = tmp_path / "models--jiangab--FISHER-tiny-0723"
    model.save_pretrained(repo_dir / "snapshots" / TINY_REV)
    other = Fisher(TINY)
    other.save_pretrained(repo_dir / "snapshots" / ("0" * 40))
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text("0" * 40)
    loaded = Fisher.from_pretrained("tiny", cache_dir=tmp_path, local_files_only=True)
    assert torch.equal(loaded.cls_token, model.cls_token)
    by_id = Fisher.from_pretrained("jiangab/FISHER-tiny-0723", cache_dir=tmp_path, local_files_only=True)
    assert torch.equal(by_id.cls_token, model.cls_token)  # the bare official repo id is pinned too
    explicit = Fisher.from_pretrained(
        "hf-hub:jiangab/FISHER-tiny-0723@" + "0" * 40, cache_dir=tmp_path, local_files_only=True
    )
    assert torch.equal(explicit.cls_token, other.cls_token)  # an explicit revision wins


def test_registry_pins_known_revisions(monkeypatch, tmp_path):
    from fisher.hub import resolve as hub
    from fisher.hub.registry import get_record

    assert get_record("tiny").revision == TINY_REV
    assert get_record("small").revision == "c21d26b6a2f0593ddeea23871d66b76899c07280"
    assert get_record("mini").revision is None  # no known revision: unpinned
    seen = []
    monkeypatch.setattr(hub, "_download", lambda repo, rev, *a: seen.append((repo, rev)) or tmp_path)
    for name in ("tiny", "mini", "small", "jiangab/FISHER-small-0723", "jiangab/FISHER-small-0723@abc", "x/y"):
        hub.resolve(name)
    hub.resolve("small", revision="main")
    assert seen == [
        ("jiangab/FISHER-tiny-0723", TINY_REV),
        ("jiangab/FISHER-mini-0723", None),
        ("jiangab/FISHER-small-0723", "c21d26b6a2f0593ddeea23871d66b76899c07280"),
        ("jiangab/FISHER-small-0723", "c21d26b6a2f0593ddeea23871d66b76899c07280"),
        ("jiangab/FISHER-small-0723", "abc"),
        ("x/y", None),
        ("jiangab/FISHER-small-0723", "main"),
    ]


@pytest.mark.parametrize(
    "content,match",
    [
        (b"this is a text file, not weights" * 4, "not a PyTorch checkpoint"),
        (b"PK\x03\x04 truncated zip", "not a PyTorch checkpoint"),
        (b"\x80\x02 broken pickle", "not a PyTorch checkpoint"),
        (b"", "not a PyTorch checkpoint"),
    ],
)
def test_garbage_file_is_not_a_checkpoint(tmp_path, content, match):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as err:
        Fisher.from_pretrained(path)
    assert "pickles Python objects" not in str(err.value)
    (tmp_path / "model.pt.xz").write_bytes(lzma.compress(content)[:20])
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        Fisher.from_pretrained(tmp_path / "model.pt.xz")


def test_unknown_name():
    with pytest.raises(FileNotFoundError, match="neither an existing path"):
        Fisher.from_pretrained("not a model")
    with pytest.raises(ValueError, match="invalid hub reference"):
        Fisher.from_pretrained("hf-hub:??")


def test_official_config_direct():
    state = convert_state_dict(to_official(Fisher(TINY).state_dict()))
    cfg = config_from_official(official_cfg(), state)
    assert (cfg.embed_dim, cfg.depth, cfg.num_heads, cfg.band_width) == (192, 2, 3, 100)
