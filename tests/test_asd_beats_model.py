"""BEATs re-implementation: checkpoint loading and its errors, training path, prefix / suffix split, bad input."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from fisher_asd.encoders import BEATs, BEATsConfig, BEATsEncoder
from fisher_asd.encoders.beats.modules import grad_multiply
from tests.asd_configs import TINY_BEATS

TINY = {**TINY_BEATS, "encoder_layers": 3}


def tiny(**overrides) -> BEATs:
    torch.manual_seed(0)
    return BEATs(BEATsConfig.iter3_plus(**{**TINY, **overrides})).eval()


def wave(n=16000, b=2, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).uniform(-0.5, 0.5, (b, n)).astype(np.float32))


def save(tmp_path, cfg, state, name="ckpt.pt"):
    path = tmp_path / name
    torch.save({"cfg": cfg, "model": state}, path)
    return path


def test_roundtrip_fp16_checkpoint_upcasts(tmp_path):
    model = tiny()
    half = {k: v.half() for k, v in model.state_dict().items()}
    loaded = BEATs.from_pretrained(save(tmp_path, model.cfg.to_dict(), half))
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, half[k].float()), k
    x = wave()
    with torch.inference_mode():
        ref, _ = model.extract_features(x)
        out, _ = loaded.extract_features(x)
    assert (ref - out).abs().max() < 0.05  # fp16-rounded weights, same architecture


def test_state_dict_has_official_key_names():
    keys = set(tiny().state_dict())
    for k in [
        "patch_embedding.weight",
        "layer_norm.bias",
        "post_extract_proj.weight",
        "encoder.pos_conv.0.weight_g",
        "encoder.pos_conv.0.weight_v",
        "encoder.pos_conv.0.bias",
        "encoder.layer_norm.weight",
        "encoder.layers.2.self_attn.grep_a",
        "encoder.layers.1.self_attn.grep_linear.weight",
        "encoder.layers.2.self_attn.relative_attention_bias.weight",
        "encoder.layers.0.fc2.bias",
        "encoder.layers.0.final_layer_norm.weight",
        "encoder.layers.0.self_attn_layer_norm.bias",
    ]:
        assert k in keys, k
    assert "patch_embedding.bias" not in keys


def test_cfg_depth_mismatch_names_the_key(tmp_path):
    model = tiny()
    cfg = {**model.cfg.to_dict(), "encoder_layers": 4}
    with pytest.raises(ValueError, match=r"encoder\.layers\.3\..*missing.*encoder_layers=4"):
        BEATs.from_pretrained(save(tmp_path, cfg, model.state_dict()))
    cfg = {**model.cfg.to_dict(), "encoder_layers": 2}
    with pytest.raises(ValueError, match=r"encoder\.layers\.2\..*unexpected"):
        BEATs.from_pretrained(save(tmp_path, cfg, model.state_dict()))


def test_cfg_width_mismatch_names_the_key(tmp_path):
    model = tiny()
    cfg = {**model.cfg.to_dict(), "encoder_ffn_embed_dim": 96}
    with pytest.raises(ValueError, match=r"encoder\.layers\.0\.fc1\.weight.*\(128, 64\).*\(96, 64\).*encoder_ffn"):
        BEATs.from_pretrained(save(tmp_path, cfg, model.state_dict()))


def test_bad_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="BEATs checkpoint not found"):
        BEATs.from_pretrained(tmp_path / "missing.pt")
    path = tmp_path / "plain.pt"
    torch.save(tiny().state_dict(), path)
    with pytest.raises(ValueError, match="expected keys 'cfg' and 'model'"):
        BEATs.from_pretrained(path)
    with pytest.raises(ValueError, match="hf-hub:org/repo/file.pt"):
        BEATs.from_pretrained("hf-hub:only-org")
    with pytest.raises(FileNotFoundError, match="offline"):  # HF_HUB_OFFLINE=1 in the tests: no network call
        BEATs.from_pretrained("hf-hub:nobody/no-such-repo/BEATs.pt", local_files_only=True)
    with pytest.raises(ValueError, match="not divisible"):
        BEATsConfig.from_dict({"encoder_embed_dim": 100, "encoder_attention_heads": 12})


def test_differing_relative_bias_copies_warn(tmp_path, caplog):
    model = tiny()
    state = model.state_dict()
    first = state["encoder.layers.0.self_attn.relative_attention_bias.weight"].clone()
    state["encoder.layers.1.self_attn.relative_attention_bias.weight"] = first + 1
    with caplog.at_level(logging.WARNING):
        loaded = BEATs.from_pretrained(save(tmp_path, model.cfg.to_dict(), state))
    assert "differ" in caplog.text
    assert torch.equal(loaded.encoder.layers[2].self_attn.relative_attention_bias.weight, first)
    assert (
        loaded.encoder.layers[2].self_attn.relative_attention_bias
        is loaded.encoder.layers[0].self_attn.relative_attention_bias
    )


def test_depth_drives_deep_norm_alpha():
    assert tiny().encoder.layers[0].alpha == pytest.approx(6**0.25)
    assert BEATsConfig.iter3_plus().deep_norm_alpha == pytest.approx(24**0.25)


def test_training_backward_no_inplace_error():
    model = tiny(encoder_layerdrop=0.0).train()
    out, _ = model.extract_features(wave(8000))
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []


def test_layerdrop_only_in_training():
    model = tiny(encoder_layerdrop=1.0)
    x = wave(8000)
    with torch.no_grad():
        ev1, _ = model.extract_features(x)
        model.train()
        skipped, _ = model.extract_features(x)
        model.eval()
        ev2, _ = model.extract_features(x)
        hidden = model.forward_prefix(x, layers=0)
    assert torch.equal(ev1, ev2)
    assert torch.equal(skipped, hidden.x)  # every layer dropped


def test_grad_multiply():
    x = torch.ones(3, requires_grad=True)
    y = grad_multiply(x, 0.6)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), 0.6))


def test_prefix_suffix_split_equals_full():
    model = tiny()
    enc = BEATsEncoder(model)
    x = wave(12000)
    with torch.inference_mode():
        full = enc(x)
        for k in enc.split_points:
            assert (enc.forward_from(enc.forward_prefix(x, k)) - full).abs().max() < 1e-5, k
    with pytest.raises(ValueError, match="split"):
        enc.forward_prefix(x, 9)


def test_pre_ln_variant_runs():
    model = tiny(layer_norm_first=True, deep_norm=False, relative_position_embedding=False, gru_rel_pos=False)
    with torch.inference_mode():
        out, _ = model.extract_features(wave(8000))
    assert out.shape == (2, 24, 64) and torch.isfinite(out).all()


def test_finetuned_predictor_and_encoder_features():
    model = tiny(finetuned_model=True, predictor_class=5)
    x = wave(8000)
    with torch.inference_mode():
        probs, _ = model.extract_features(x)
        emb = BEATsEncoder(model)(x)
    assert probs.shape == (2, 5) and bool(((probs > 0) & (probs < 1)).all())
    assert emb.shape == (2, 64)


def test_bad_wave_input():
    model = tiny()
    with pytest.raises(TypeError, match="float tensor"):
        model.extract_features(torch.zeros(1, 8000, dtype=torch.int16))
    with pytest.raises(ValueError, match=r"\[B, N\]"):
        model.extract_features(torch.zeros(8000))
    with pytest.raises(ValueError, match="too short.*2800"):
        model.extract_features(torch.zeros(1, 2000))
    with pytest.raises(TypeError, match="bool"):
        model.extract_features(torch.zeros(1, 8000), torch.zeros(1, 8000))
    with pytest.raises(ValueError, match="shape"):
        model.extract_features(torch.zeros(1, 8000), torch.zeros(1, 7000, dtype=torch.bool))


def test_official_mask_is_not_time_aligned():
    """The official patch mask (parity) lets padded content leak into patches it calls valid."""
    model = tiny()
    x = wave(16000, b=1)
    mask = torch.zeros(1, 16000, dtype=torch.bool)
    mask[:, 9600:] = True
    y = x.clone()
    y[:, 9600:] = 0.3
    with torch.inference_mode():
        a, ma = model.extract_features(x, mask)
        b, mb = model.extract_features(y, mask)
    assert torch.equal(ma, mb) and int((~ma).sum()) > 0
    assert (a[0, ~ma[0]] - b[0, ~mb[0]]).abs().max() > 1e-2


def test_aligned_mask_gives_same_result_as_alone():
    model = tiny()
    x = wave(16000, b=2)
    lengths = [16000, 9600]
    mask = torch.arange(16000)[None, :] >= torch.tensor(lengths)[:, None]
    x = x.masked_fill(mask, 0.7)  # whatever the padding holds
    with torch.inference_mode():
        batch, m = model.extract_features(x, mask, mask_mode="aligned")
        for i, n in enumerate(lengths):
            alone, _ = model.extract_features(x[i : i + 1, :n])
            valid = ~m[i]
            assert int(valid.sum()) == alone.shape[1]
            assert (batch[i, valid] - alone[0]).abs().max() < 1e-4
    with pytest.raises(ValueError, match="trailing padding"):
        model.extract_features(x, ~mask, mask_mode="aligned")
    with pytest.raises(ValueError, match="mask_mode"):
        model.extract_features(x, mask, mask_mode="time")
