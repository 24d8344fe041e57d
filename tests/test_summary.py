"""Per-band summaries (``summary=``): cls / mean / freq and combinations through embed, forward, config, streaming,
precision paths and the FisherEncoder adapter."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from fisher import Fisher, FisherConfig
from fisher.eval.encoders import FisherEncoder
from fisher.recipe.framing import SUMMARY_PARTS, parse_summary, summary_dim

D, FP, NB = 192, 6, 2  # tiny: width 192, 100-bin bands = 6 frequency patches, 2 bands at 16 kHz
WIDTH = {"cls": D, "mean": D, "freq": FP * D}
SUMMARIES = ["cls", "mean", "freq", "cls+mean", "cls+freq", "mean+freq", "cls+mean+freq"]
BAD = ["", "max", "cls+cls", "cls+", "CLS", "cls,mean", 3, ("cls",)]
ALLOWED = "'cls', 'mean', 'freq'"


@pytest.fixture(scope="module")
def tiny() -> Fisher:
    torch.manual_seed(0)
    return Fisher(FisherConfig.preset("tiny", depth=2))


def noise(n: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def width(summary: str) -> int:
    return sum(WIDTH[p] for p in summary.split("+"))


@pytest.mark.parametrize("summary", SUMMARIES)
def test_shapes_and_embedding_dim_every_pool(tiny, summary):
    x = noise(16000 * 2)
    per_band = tiny.embed(x, 16000, pool="none", summary=summary)
    d = width(summary)
    assert per_band.shape == (NB, d) and per_band.dtype == np.float32
    assert summary_dim(summary, D, FP) == d
    for pool, shape in (("concat", (NB * d,)), ("mean", (d,)), ("none", (NB, d))):
        out = tiny.embed(x, 16000, pool=pool, summary=summary)
        assert out.shape == shape and out.dtype == np.float32
        assert tiny.embedding_dim(16000, pool, summary) == shape[-1]
    np.testing.assert_array_equal(tiny.embed(x, 16000, summary=summary), per_band.reshape(-1))
    np.testing.assert_allclose(tiny.embed(x, 16000, pool="mean", summary=summary), per_band.mean(0), atol=1e-6)


def test_canonical_order(tiny):
    x = noise(16000, 3)
    assert parse_summary("freq+mean+cls") == SUMMARY_PARTS
    np.testing.assert_array_equal(tiny.embed(x, 16000, summary="mean+cls"), tiny.embed(x, 16000, summary="cls+mean"))
    np.testing.assert_array_equal(
        tiny.embed(x, 16000, summary="freq+cls+mean"), tiny.embed(x, 16000, summary="cls+mean+freq")
    )
    assert FisherConfig.preset("tiny", summary="mean+cls").summary == "cls+mean"
    assert FisherEncoder(tiny, summary="freq+cls").summary == "cls+freq"


@pytest.mark.parametrize("bad", BAD)
def test_invalid_summaries_name_the_allowed_values(tiny, bad, tmp_path):
    x = noise(8000)
    with pytest.raises(ValueError, match=ALLOWED):
        tiny.embed(x, 8000, summary=bad)
    with pytest.raises(ValueError, match=ALLOWED):
        tiny.embedding_dim(8000, "concat", bad)
    with pytest.raises(ValueError, match=ALLOWED):
        tiny(torch.zeros(1, 16, 100), bad)
    with pytest.raises(ValueError, match=ALLOWED):
        FisherConfig.preset("tiny", summary=bad)
    with pytest.raises(ValueError, match=ALLOWED):
        FisherEncoder(tiny, summary=bad)
    with pytest.raises(ValueError, match=ALLOWED):  # checked before the file is opened
        tiny.embed_file(tmp_path / "missing.wav", summary=bad)


def test_none_means_the_config_default(tiny):
    x = noise(8000, 4)
    np.testing.assert_array_equal(tiny.embed(x, 8000, summary=None), tiny.embed(x, 8000))
    assert tiny.embedding_dim(8000, "concat", None) == tiny.embedding_dim(8000) == D
    with pytest.raises(ValueError, match=ALLOWED):
        FisherConfig.preset("tiny", summary=None)  # the config needs a concrete default


def test_cls_is_bit_identical_to_the_default(tiny):
    x = noise(16000 * 3, 5)
    np.testing.assert_array_equal(tiny.embed(x, 16000, summary="cls"), tiny.embed(x, 16000))
    bands = torch.randn(3, 64, 100)
    with torch.inference_mode():
        np.testing.assert_array_equal(tiny(bands, "cls").numpy(), tiny(bands).numpy())
        tokens = tiny.encode_tokens(tiny.patch_tokens(bands))
        # "cls" computes the last block for the CLS token alone (fisher.model.inference_path): float rounding
        np.testing.assert_allclose(tiny(bands).numpy(), tokens[:, 0].numpy(), rtol=0, atol=2e-6)


def test_parts_of_a_combination_equal_the_single_summaries(tiny):
    x = noise(16000 * 2, 6)
    full = tiny.embed(x, 16000, pool="none", summary="cls+mean+freq")
    cls, mean, freq = (tiny.embed(x, 16000, pool="none", summary=s) for s in ("cls", "mean", "freq"))
    np.testing.assert_allclose(full[:, :D], cls, rtol=0, atol=2e-6)  # "cls" alone: CLS-only last block
    np.testing.assert_allclose(full[:, D : 2 * D], mean, atol=1e-6)
    np.testing.assert_allclose(full[:, 2 * D :], freq, atol=1e-6)
    np.testing.assert_array_equal(tiny.embed(x, 16000, pool="none", summary="cls+mean")[:, :D], full[:, :D])
    # the mean of the frequency-patch means is the mean of all patches
    np.testing.assert_allclose(freq.reshape(NB, FP, D).mean(1), mean, atol=1e-5)


def test_freq_layout_low_to_high():
    """Tokens time-major: patch t·Fp + f. ``freq`` averages over t for each f (low → high)."""
    model = Fisher(FisherConfig.preset("tiny", depth=1, embed_dim=8, num_heads=2))
    tp, fp = 3, model.config.freq_patches
    f_index = torch.arange(fp, dtype=torch.float32).repeat(tp)  # token t·Fp + f carries f
    t_index = torch.arange(tp, dtype=torch.float32).repeat_interleave(fp)
    patches = (f_index * 10 + t_index)[None, :, None].expand(2, tp * fp, 8)
    tokens = torch.cat([torch.full((2, 1, 8), -1.0), patches], dim=1)
    freq = model.summarise(tokens, "freq").reshape(2, fp, 8)
    np.testing.assert_allclose(freq[:, :, 0].numpy(), np.tile(np.arange(fp) * 10 + 1.0, (2, 1)))
    both = model.summarise(tokens, "cls+mean")
    assert both.shape == (2, 16) and (both[:, :8] == -1).all()
    np.testing.assert_allclose(both[:, 8:].numpy(), np.full((2, 8), 10 * (fp - 1) / 2 + 1))


@pytest.mark.parametrize("summary", ["mean", "freq", "cls+mean"])
def test_same_clip_alone_or_in_a_batch(tiny, summary):
    clips = [noise(16000 * 3, 1), noise(16000 * 2, 9), noise(16000 * 15, 7)]
    alone = np.stack([tiny.embed(c, 16000, summary=summary) for c in clips])
    for bs in (1, 8):
        np.testing.assert_array_equal(tiny.embed(clips, 16000, batch_size=bs, summary=summary), alone)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_accepts_summary(tiny, precision):
    x = noise(16000 * 2, 8) + np.sin(np.arange(32000) * 0.2).astype(np.float32) * 0.3
    for summary in ("mean", "cls+freq"):
        ref = tiny.embed(x, 16000, summary=summary)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "bf16 is emulated on this CPU"
            out = tiny.embed(x, 16000, summary=summary, precision=precision)
        assert out.shape == ref.shape == (tiny.embedding_dim(16000, "concat", summary),)
        assert out @ ref / np.linalg.norm(out) / np.linalg.norm(ref) > 0.99
        assert not np.array_equal(out, ref)


def test_config_default_and_save_pretrained_round_trip(tiny, tmp_path):
    model = Fisher(FisherConfig.preset("tiny", depth=2, summary="mean"))
    model.load_state_dict(tiny.state_dict())
    x = noise(16000 * 2, 10)
    np.testing.assert_array_equal(model.embed(x, 16000), tiny.embed(x, 16000, summary="mean"))
    # an explicit "cls" must not fall back to the config's "mean"
    np.testing.assert_array_equal(model.embed(x, 16000, summary="cls"), tiny.embed(x, 16000))
    assert model.embedding_dim(16000) == NB * D and model.embedding_dim(16000, "mean", "freq") == FP * D
    folder = model.save_pretrained(tmp_path / "m")
    assert json.loads((folder / "config.json").read_text())["summary"] == "mean"
    loaded = Fisher.from_pretrained(folder)
    assert loaded.config == model.config and loaded.config.summary == "mean"
    np.testing.assert_array_equal(loaded.embed(x, 16000), model.embed(x, 16000))


def test_old_config_json_without_summary_loads_as_cls(tiny, tmp_path):
    folder = tiny.save_pretrained(tmp_path / "old")
    data = json.loads((folder / "config.json").read_text())
    del data["summary"]
    (folder / "config.json").write_text(json.dumps(data))
    loaded = Fisher.from_pretrained(folder)
    assert loaded.config.summary == "cls"
    x = noise(8000, 11)
    np.testing.assert_array_equal(loaded.embed(x, 8000), tiny.embed(x, 8000, summary="cls"))


def test_fisher_encoder_dim_and_cache_key_per_summary(tiny):
    encoders = {s: FisherEncoder(tiny, pool="mean", summary=s) for s in ("cls", "mean", "freq", "cls+mean")}
    assert {s: e.dim for s, e in encoders.items()} == {"cls": D, "mean": D, "freq": FP * D, "cls+mean": 2 * D}
    assert len({e.cache_key for e in encoders.values()}) == len(encoders)
    assert FisherEncoder(tiny, pool="mean").cache_key == encoders["cls"].cache_key  # default = config's "cls"
    assert FisherEncoder(tiny, summary="mean+cls").cache_key == FisherEncoder(tiny, summary="cls+mean").cache_key
    concat = FisherEncoder(tiny, summary="cls+mean")
    assert concat.embedding_dim(16000) == NB * 2 * D
    x = noise(16000, 12)
    np.testing.assert_array_equal(concat.embed(x, 16000), tiny.embed(x, 16000, summary="cls+mean"))
    mean_default = Fisher(FisherConfig.preset("tiny", depth=2, summary="mean"))
    mean_default.load_state_dict(tiny.state_dict())
    assert FisherEncoder(mean_default).summary == "mean"
    assert FisherEncoder(mean_default).cache_key == FisherEncoder(tiny, summary="mean").cache_key


@pytest.mark.parametrize("summary", ["mean", "cls+freq"])
def test_embed_file_and_iter_file_windows_follow_summary(tiny, tmp_path, summary):
    x = noise(8000 * 30, 13) + 0.02
    pcm = np.round(x * 32767).astype(np.int16)
    sf.write(tmp_path / "a.flac", pcm, 8000)
    res = tiny.embed_file(tmp_path / "a.flac", batch_size=2, summary=summary)
    d = tiny.embedding_dim(8000, "concat", summary)
    assert res.windows.shape == (3, d) and res.embedding.shape == (d,)
    np.testing.assert_allclose(res.embedding, tiny.embed(pcm, 8000, summary=summary), atol=1e-5)
    none = tiny.embed_file(tmp_path / "a.flac", pool="none", summary=summary)
    assert none.windows.shape == (3, 1, d)

    rows = np.concatenate([w for _, w in tiny.iter_file_windows(tmp_path / "a.flac", batch_size=2, summary=summary)])
    np.testing.assert_array_equal(rows, res.windows)
    default = tiny.embed_file(tmp_path / "a.flac")
    assert default.windows.shape == (3, D)


def test_official_defaults_are_cls_and_demo_states_its_choice():
    from fisher.hub.registry import get_record, list_models

    defaults = {r.name: r.config.summary for r in list_models()}
    assert defaults == {**dict.fromkeys(list_models().names(), "cls"), "demo": "freq"}  # demo: the protocol's pick
    assert "Default per-band summary: 'freq'" in get_record("demo").description
    assert Fisher.from_pretrained("demo").config.summary == "freq"  # the packaged config.json says so
