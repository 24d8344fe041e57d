"""The detector as the DCASE 2026 report describes it: Systems 1–4, weights by stream name, clip length, training at
16 kHz, MemMixup pairing, early-stopping criterion, preset vs fitted-detector loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fisher_asd
from fisher_asd import Detector
from fisher_asd.detector import ClipLength, StreamConfig, build_bank
from fisher_asd.detector import train as train_mod
from fisher_asd.detector.fusion import MEF5_WEIGHTS, MEF6_WEIGHTS, MEF_STREAMS, named_weights
from fisher_asd.detector.losses import embedding_spread
from fisher_asd.detector.stream import DetectorStream
from fisher_asd.detector.synthetic import synthetic_clips
from fisher_asd.detector.train import TrainConfig, train_stream
from fisher_asd.streams.mef import STREAMS
from tests.asd_tiny import tiny_beats

SR = 16000
DEV = ("ToyCar", "ToyCarEmu", "bearingEmu", "fan", "gearboxEmu", "sliderEmu", "valveEmu")
ALL12 = DEV + ("ToyDrone", "ToothBrush", "SewingMachine", "BlowerDustCollector", "Sander")
# The report's two weight sets, by stream name (asd.md §1).
W123 = {"clap": 0.19, "beats_r16": 0.23, "clap_lora": 0.23, "wavlm": 0.10, "beats_r32": 0.15, "ast": 0.10}
W4 = {"clap": 0.22, "beats_r16": 0.26, "clap_lora": 0.26, "wavlm": 0.10, "beats_r32": 0.15, "ast": 0.01}
# The report's §2.5: checkpoint scope per stream and system, and the weight set.
REPORT = {
    "system1": (
        "mef6-7m",
        {"clap": "7m", "wavlm": "7m", "beats_r16": "7m", "beats_r32": "7m", "clap_lora": "7m", "ast": "7m"},
        W123,
    ),
    "system2": (
        "mef6-12m",
        {"clap": "7m", "wavlm": "7m", "beats_r16": "12m", "beats_r32": "12m", "clap_lora": "12m", "ast": "12m"},
        W123,
    ),
    "system3": (
        "mef6-hyb",
        {"clap": "7m", "wavlm": "7m", "beats_r16": "7m", "beats_r32": "7m", "clap_lora": "12m", "ast": "12m"},
        W123,
    ),
    "system4": (
        "mef5-7m",
        {"clap": "7m", "wavlm": "7m", "beats_r16": "7m", "beats_r32": "7m", "clap_lora": "7m", "ast": "7m"},
        W4,
    ),
}
ENCODER = {
    "clap": "clap",
    "wavlm": "wavlm",
    "beats_r16": "beats",
    "beats_r32": "beats",
    "clap_lora": "clap",
    "ast": "ast",
}


# ---------------------------------------------------------------------------------------------- weights and presets
def test_weight_sets_are_named_and_sum_to_one():
    assert dict(MEF6_WEIGHTS) == W123 and dict(MEF5_WEIGHTS) == W4
    assert MEF_STREAMS == tuple(s.name for s in STREAMS)
    for w in (MEF6_WEIGHTS, MEF5_WEIGHTS):
        assert sum(w.values()) == pytest.approx(1.0, abs=1e-12)
        with pytest.raises(TypeError):
            w["ast"] = 0.5  # read-only
    with pytest.raises(ValueError, match="sum to 1"):
        named_weights({**W123, "ast": 0.2})
    with pytest.raises(ValueError, match="exactly the streams"):
        named_weights({k: v for k, v in W123.items() if k != "ast"})
    with pytest.raises(ValueError, match="finite"):
        named_weights({**W123, "ast": float("nan")})


@pytest.mark.parametrize("name", sorted(REPORT))
def test_presets_match_the_report_stream_by_stream(name):
    alias, scopes, weights = REPORT[name]
    p = fisher_asd.preset(name)
    assert fisher_asd.preset(alias) == p and fisher_asd.preset(alias.upper()) == p
    assert p.name == name and p.alias == alias and p.description
    assert [s.name for s in p.streams] == [s.mef for s in p.streams] == list(MEF_STREAMS)  # six, one per kind
    for s in p.streams:
        assert s.scope == scopes[s.mef] and s.encoder == ENCODER[s.mef]
        assert s.train_machines == (DEV if scopes[s.mef] == "7m" else ALL12)
        assert s.checkpoint == f"{s.mef}@{scopes[s.mef]}"
    assert dict(p.weights) == weights
    cfgs = p.stream_configs()
    assert [c.train_machines for c in cfgs] == [list(s.train_machines) for s in p.streams]
    assert all(c.route is None for c in cfgs)  # every stream scores every machine: no routing


def test_clap_and_wavlm_checkpoints_are_shared_by_all_four_systems():
    systems = [fisher_asd.preset(n) for n in REPORT]
    for kind in ("clap", "wavlm"):
        ids = {next(s for s in p.streams if s.mef == kind).checkpoint for p in systems}
        assert ids == {f"{kind}@7m"}
    # System 3 is a per-stream mix of the System-1 (BEATs) and System-2 (CLAP-LoRA, AST) checkpoints
    ck = {p.name: {s.mef: s.checkpoint for s in p.streams} for p in systems}
    assert {k: ck["system3"][k] for k in ("beats_r16", "beats_r32")} == {
        k: ck["system1"][k] for k in ("beats_r16", "beats_r32")
    }
    assert {k: ck["system3"][k] for k in ("clap_lora", "ast")} == {k: ck["system2"][k] for k in ("clap_lora", "ast")}
    assert ck["system4"] == ck["system1"]


def test_preset_names_and_removed_presets():
    assert fisher_asd.preset_names() == [
        "system1",
        "system2",
        "system3",
        "system4",
        "mef6-7m",
        "mef6-12m",
        "mef6-hyb",
        "mef5-7m",
    ]
    for old in ("mef6-hybrid", "mef6-ens"):
        with pytest.raises(ValueError, match="removed"):
            fisher_asd.preset(old)
    with pytest.raises(ValueError, match="unknown detector preset"):
        fisher_asd.preset("system9")
    with pytest.raises(TypeError):
        fisher_asd.preset(3)


def _tiny_backbones():
    tf = pytest.importorskip("transformers")
    from fisher_asd.encoders import create_encoder

    beats = tiny_beats()
    return {
        "beats": beats,
        "clap": create_encoder(
            "clap",
            config=tf.ClapAudioConfig(
                depths=[1, 1, 2, 2],
                num_attention_heads=[2, 2, 4, 4],
                patch_embeds_hidden_size=16,
                hidden_size=128,
                projection_dim=32,
            ),
        ),
        "wavlm": create_encoder(
            "wavlm",
            config=tf.WavLMConfig(
                hidden_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                intermediate_size=128,
                conv_dim=(32,) * 7,
                num_conv_pos_embeddings=16,
                num_conv_pos_embedding_groups=4,
            ),
        ),
        "ast": create_encoder(
            "ast",
            config=tf.ASTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128),
        ),
    }


def test_from_preset_builds_the_untrained_system_and_from_pretrained_refuses_presets():
    backbones = _tiny_backbones()
    s3 = Detector.from_preset("system3", backbones=backbones)
    s1 = Detector.from_preset("mef6-7m", backbones=backbones)
    s4 = Detector.from_preset("system4", backbones=backbones, k=3)
    assert list(s3.streams) == list(MEF_STREAMS) and s3.weights == W123 and s4.weights == W4 and s4.k == 3
    assert s3.rank_norm == "transductive" and s3.k == 5 and s3.train_heads and not s3.machines_
    assert s3.bank_options["mixup_pairing"] == "any" and s3.clip == ClipLength() and not s3.whole_clips
    assert s3.streams["ast"].config.train_machines == list(ALL12)
    assert s1.streams["ast"].config.train_machines == list(DEV)
    assert s3.streams["wavlm"].encoder is s1.streams["wavlm"].encoder is backbones["wavlm"]
    # shared checkpoints start from the same head (seeded by stream name) and train on the same scope
    for kind in ("clap", "wavlm", "beats_r16"):
        a, b = s1.streams[kind].trainable_state(), s3.streams[kind].trainable_state()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert s1.streams[kind].config.train_machines == s3.streams[kind].config.train_machines
    with pytest.raises(ValueError, match="from_preset"):
        Detector.from_pretrained("system3")
    with pytest.raises(ValueError, match="removed"):
        Detector.from_preset("mef6-ens", backbones=backbones)


def test_from_pretrained_hub_id_is_offline_aware(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="local Hugging Face cache"):
        Detector.from_pretrained("someone/no-such-detector", cache_dir=tmp_path / "cache", local_files_only=True)
    with pytest.raises(FileNotFoundError, match="neither a detector directory nor a hub id"):
        Detector.from_pretrained(tmp_path / "missing")
    clips = synthetic_clips(12, sr=SR, seconds=0.25, seed=1)
    det = Detector(["logstft"], clip_samples=4000).fit(clips, SR, machine="pump")
    saved = det.save_pretrained(tmp_path / "det")
    import huggingface_hub

    calls = []

    def fake_download(repo, **kw):
        calls.append((repo, kw["revision"], kw["local_files_only"]))
        return str(saved)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    again = Detector.from_pretrained("hf-hub:org/pump-detector@v1", local_files_only=True)
    assert calls == [("org/pump-detector", "v1", True)]
    np.testing.assert_array_equal(again.score(clips, SR, machine="pump"), det.score(clips, SR, machine="pump"))


# ---------------------------------------------------------------------------------------------- clip length
def test_clip_length_policy():
    clip = torch.arange(10.0)
    assert ClipLength() == ClipLength(samples=160_000, rate=16000.0, crop="start", pad="tile")
    assert ClipLength().length_at(16000) == 160_000 and ClipLength().length_at(48000) == 480_000
    assert torch.equal(ClipLength(4).apply(clip, 16000), torch.arange(4.0))
    assert torch.equal(ClipLength(4, crop="center").apply(clip, 16000), torch.arange(3.0, 7.0))
    assert torch.equal(ClipLength(7).apply(clip[:3], 16000), torch.tensor([0.0, 1, 2, 0, 1, 2, 0]))
    assert torch.equal(ClipLength(5, pad="zeros").apply(clip[:3], 16000), torch.tensor([0.0, 1, 2, 0, 0]))
    assert ClipLength(4).apply(clip, 32000).shape == (8,)  # the same duration at another rate
    for bad in ({"samples": 1}, {"samples": 2.5}, {"crop": "random"}, {"pad": "reflect"}, {"rate": 0}):
        with pytest.raises(ValueError):
            ClipLength(**bad)
    with pytest.raises(ValueError):
        ClipLength().apply(torch.zeros(0), 16000)


class RecordingEncoder:
    """A rate-fixed encoder that records what it is fed: band energies of the input as its embedding."""

    name = "recorder"
    dim = 8

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.seen: list[np.ndarray] = []

    def embedding_dim(self, sr: float | None = None) -> int:
        return self.dim

    def embed(self, waves, sr, batch_size: int = 8):
        batch = [np.asarray(w, dtype=np.float64) for w in waves]
        self.seen.extend(batch)
        feats = [
            np.log(1e-6 + np.array([b.mean() for b in np.array_split(np.abs(np.fft.rfft(x)) ** 2, self.dim)]))
            for x in batch
        ]
        return np.stack(feats).astype(np.float32)


@pytest.mark.parametrize("seconds", [6, 16])
def test_inference_clips_are_fixed_to_160000_samples_by_default(seconds):
    enc = RecordingEncoder(16000)
    det = Detector([enc], mixup=False, k=1)
    train = synthetic_clips(2, sr=SR, seconds=seconds, seed=2)
    det.fit(train, SR, machine="m")
    assert [x.size for x in enc.seen] == [160_000, 160_000]
    n = 96_000 if seconds == 6 else 160_000  # 6 s clips are tiled, 16 s clips keep their first 10 s
    np.testing.assert_array_equal(enc.seen[0][:n], train[0][:n].astype(np.float64))
    enc.seen.clear()
    whole = Detector([enc], mixup=False, k=1, whole_clips=True)
    whole.fit(train, SR, machine="m")
    assert [x.size for x in enc.seen] == [seconds * SR] * 2


def test_training_augments_the_16khz_clip_before_resampling(monkeypatch):
    """Views are drawn on the 16 kHz fixed-length clip, then resampled to the stream's 48 kHz: the 0.005 noise of a
    silent clip stays below 8 kHz (augmenting at 48 kHz would put 2/3 of its power above 8 kHz)."""
    enc = RecordingEncoder(48000)
    stream = DetectorStream(StreamConfig("rec", "recorder", head=16), enc, seed=0)
    stream.ensure_head(48000)
    seen_rates = []
    real_view = train_mod.contrastive_view

    def view(x, sr, **kw):
        seen_rates.append((float(sr), x.shape[1]))
        return real_view(x, sr, **kw)

    monkeypatch.setattr(train_mod, "contrastive_view", view)
    silent = [torch.zeros(3000) for _ in range(4)]  # 16 kHz clips, shorter than the fixed length: tiled
    cfg = TrainConfig(epochs=1, batch_size=4, early_stop=None)
    train_stream(stream, lambda ids: [silent[i] for i in ids], 4, 16000, cfg, clip=ClipLength(samples=4800))
    assert seen_rates == [(16000.0, 4800), (16000.0, 4800)]  # two views per batch, at 16 kHz, 4800 samples
    views = np.stack(enc.seen)
    assert views.shape == (8, 14_400)  # 2 views × 4 clips, resampled to 48 kHz
    power = np.abs(np.fft.rfft(views, axis=1)) ** 2
    freqs = np.fft.rfftfreq(views.shape[1], 1 / 48000)
    assert power[:, freqs > 8200].sum() / power.sum() < 0.01  # resampler transition band only (vs 0.66)
    assert float(views.std()) == pytest.approx(0.005, rel=0.1)


def test_train_config_rejects_the_old_segment_field():
    with pytest.raises(ValueError, match="clip_samples"):
        TrainConfig.from_dict({"segment_seconds": 10.0})
    with pytest.raises(ValueError, match="unknown TrainConfig"):
        TrainConfig.from_dict({"epoch": 3})


# ---------------------------------------------------------------------------------------------- MemMixup, early stop
def test_memmixup_pairs_over_the_whole_machine_bank_by_default():
    rng = np.random.default_rng(3)
    emb = rng.standard_normal((40, 8)).astype(np.float32)
    dom = ["source"] * 20 + ["target"] * 20
    bank = build_bank(emb, dom, oversample_ratio=None, rng=np.random.default_rng(0))
    partners = bank.owners[40:, 1]
    assert sorted(partners.tolist()) == list(range(40))  # one random permutation of every row of the machine
    cross = bank.clip_domain[bank.owners[40:, 0]] != bank.clip_domain[partners]
    assert cross.sum() > 5  # pairs cross domains
    within = build_bank(emb, dom, oversample_ratio=None, mixup_pairing="domain", rng=np.random.default_rng(0))
    assert (within.clip_domain[within.owners[40:, 0]] == within.clip_domain[within.owners[40:, 1]]).all()
    assert Detector(["logstft"]).bank_options["mixup_pairing"] == "any"


def test_embedding_spread_is_the_pairwise_l2_variance():
    e = torch.eye(3)
    orthonormal = e  # pairwise distances all sqrt(2): mean distance 1.414, variance 1 - |mean|² = 2/3
    antipodal = torch.stack([e[0], e[0], -e[0]])  # distances 0, 2, 2: mean distance 1.333, variance 1 - 1/9 = 8/9
    assert embedding_spread(orthonormal) == pytest.approx(2 / 3)
    assert embedding_spread(antipodal) == pytest.approx(8 / 9)
    assert embedding_spread(torch.stack([e[0], -e[0]])) == pytest.approx(1.0)
    assert embedding_spread(3 * torch.ones(5, 4)) == pytest.approx(0.0, abs=1e-12)
    z = torch.randn(9, 5, generator=torch.Generator().manual_seed(0))
    u = torch.nn.functional.normalize(z.double(), dim=1).numpy()
    assert embedding_spread(z) == pytest.approx(float(u.var(axis=0).sum()), rel=1e-12)  # total population variance


def test_early_stopping_keeps_the_best_variance_epoch(monkeypatch, tmp_path):
    """Epoch 1's validation set has the larger mean pairwise distance, epoch 2's the larger pairwise-L2 variance:
    the trainer keeps epoch 2 and stops after ``patience`` epochs without improvement."""
    e = torch.eye(3)
    sets = iter([e, torch.stack([e[0], e[0], -e[0]]), e, e, e])
    real = train_mod.embedding_spread
    monkeypatch.setattr(train_mod, "embedding_spread", lambda z: real(next(sets)))
    clips = synthetic_clips(16, sr=SR, seconds=0.25, seed=4)
    det = Detector(
        ["logstft"],
        clip_samples=4000,
        train_heads=True,
        training={"epochs": 10, "batch_size": 8, "lr": 1e-2, "patience": 2, "checkpoint_dir": str(tmp_path)},
    )
    det.fit(clips, SR, machine="pump")
    hist = det.history_["logstft"]
    assert [round(r["spread"], 6) for r in hist["epochs"]] == [
        round(2 / 3, 6),
        round(8 / 9, 6),
        round(2 / 3, 6),
        round(2 / 3, 6),
    ]
    assert hist["best_epoch"] == 2 and hist["stopped"] == "early_stop"
    from safetensors.torch import load_file

    kept = det.streams["logstft"].trainable_state()
    epoch2 = load_file(str(tmp_path / "logstft" / "epoch_02.safetensors"))
    assert all(torch.equal(kept[k], epoch2[k]) for k in kept)


# ---------------------------------------------------------------------------------------------- scoring domains
def test_score_without_domain_normalises_per_machine_or_infers_it():
    kw = {"sr": SR, "seconds": 0.25}
    train = np.concatenate([synthetic_clips(20, seed=1, **kw), synthetic_clips(20, domain="target", seed=2, **kw)])
    test = np.concatenate([synthetic_clips(6, seed=3, **kw), synthetic_clips(6, domain="target", seed=4, **kw)])
    det = Detector(["logstft"], clip_samples=4000).fit(train, SR, machine="m", domain=["source"] * 20 + ["target"] * 20)
    per_machine = det.score_details(test, SR, machine="m")
    from fisher_asd.detector import rank_normalize

    np.testing.assert_array_equal(per_machine["score"], rank_normalize(per_machine["raw"]["logstft"]))
    assert per_machine["domain"] == [None] * 12
    inferred = det.score_details(test, SR, machine="m", domain_policy="nearest")
    assert inferred["domain"] == ["source"] * 6 + ["target"] * 6
    given = det.score(test, SR, machine="m", domain=inferred["domain"])
    np.testing.assert_array_equal(inferred["score"], given)
    with pytest.raises(ValueError, match="domain_policy"):
        det.score(test, SR, machine="m", domain_policy="guess")


def test_save_load_keeps_the_clip_policy_and_reads_older_detectors(tmp_path):
    import json

    clips = synthetic_clips(12, sr=SR, seconds=0.25, seed=1)
    det = Detector(["logstft"], clip_samples=3000, clip_crop="center", clip_pad="zeros").fit(clips, SR, machine="p")
    again = Detector.from_pretrained(det.save_pretrained(tmp_path / "new"))
    assert again.clip == det.clip and not again.whole_clips
    np.testing.assert_array_equal(again.score(clips, SR, machine="p"), det.score(clips, SR, machine="p"))
    old = Detector(["logstft"], whole_clips=True).fit(clips, SR, machine="p")  # as detectors scored before
    path = old.save_pretrained(tmp_path / "old") / "detector.json"
    manifest = json.loads(path.read_text())
    for key in ("clip_samples", "clip_crop", "clip_pad", "whole_clips"):
        del manifest["settings"][key]
    manifest["training"]["segment_seconds"] = manifest["training"].pop("augment_sr") / 1600
    path.write_text(json.dumps(manifest))
    legacy = Detector.from_pretrained(tmp_path / "old")
    assert legacy.whole_clips
    np.testing.assert_array_equal(legacy.score(clips, SR, machine="p"), old.score(clips, SR, machine="p"))


def _pretend_trained(det, seed):
    """Give every trainable stream distinct tensors and a training history, as fit() would."""
    g = torch.Generator().manual_seed(seed)
    for name, s in det.streams.items():
        s.load_trainable_state({k: v + torch.randn(v.shape, generator=g) for k, v in s.trainable_state().items()})
        det.history_[name] = {"epochs": [], "best_epoch": 1, "stopped": "max_epochs", "n_train": 9, "n_val": 0}


def test_systems_are_assembled_from_shared_checkpoints():
    backbones = _tiny_backbones()
    s1, s2 = (Detector.from_preset(n, backbones=backbones) for n in ("system1", "system2"))
    _pretend_trained(s1, 1)
    _pretend_trained(s2, 2)
    s3 = Detector.from_preset("system3", backbones=backbones, checkpoints=[s2, s1])
    source = {"clap": s2, "wavlm": s2, "beats_r16": s1, "beats_r32": s1, "clap_lora": s2, "ast": s2}
    for name, src in source.items():  # clap / wavlm: the first detector holding the shared 7m checkpoint
        a, b = s3.streams[name].trainable_state(), src.streams[name].trainable_state()
        assert all(torch.equal(a[k], b[k]) for k in a), name
        assert s3.history_[name] is src.history_[name]
    s4 = Detector.from_preset("system4", backbones=backbones, checkpoints=[s1])
    assert (
        all(
            torch.equal(v, s1.streams["ast"].trainable_state()[k])
            for k, v in s4.streams["ast"].trainable_state().items()
        )
        and s4.weights == W4
    )
    with pytest.raises(ValueError, match=r"beats_r16 \(trained on \['BlowerDustCollector'"):
        Detector.from_preset("system2", backbones=backbones, checkpoints=[s1])  # s1 has no 12m checkpoints
    with pytest.raises(ValueError, match="no trained checkpoint"):
        Detector.from_preset(
            "system1", backbones=backbones, checkpoints=[Detector.from_preset("system1", backbones=backbones)]
        )
    with pytest.raises(TypeError, match="non-empty list"):
        Detector.from_preset("system1", backbones=backbones, checkpoints=s1)


def test_a_shared_checkpoint_trains_identically_whatever_the_other_streams():
    """Why the systems can share the CLAP / WavLM heads: a stream's training depends only on its name, scope, seed
    and the clips, not on the other streams of the detector."""
    clips = synthetic_clips(24, sr=SR, seconds=0.25, seed=7)
    machines = ["x"] * 12 + ["y"] * 12
    shared = {"name": "a", "encoder": "logstft", "head": 256, "train_machines": ["x"]}
    cfg = {"epochs": 2, "batch_size": 8, "lr": 1e-3, "early_stop": None}
    one = Detector(
        [StreamConfig(**shared), StreamConfig("b", "logstft", head=256)],
        train_heads=True,
        clip_samples=4000,
        training=cfg,
    ).fit(clips, SR, machine=machines)
    two = Detector(
        [StreamConfig("c", "logstft", head=256, train_machines=["y"]), StreamConfig(**shared)],
        train_heads=True,
        clip_samples=4000,
        training=cfg,
    ).fit(clips, SR, machine=machines)
    a1, a2 = one.streams["a"].trainable_state(), two.streams["a"].trainable_state()
    assert all(torch.equal(a1[k], a2[k]) for k in a1)
    b1, c2 = one.streams["b"].trainable_state(), two.streams["c"].trainable_state()
    assert not torch.equal(b1["head.linear.weight"], c2["head.linear.weight"])


@pytest.mark.parametrize(
    ("name", "machines", "missing"),
    [
        ("system2", DEV, "ToyDrone"),  # 12m streams without the 5 evaluation machines
        ("system3", DEV, "SewingMachine"),  # its CLAP-LoRA / AST are 12m streams
        ("system1", ("fan",), "valveEmu"),  # 7m streams without the other dev machines
    ],
)
def test_fitting_a_preset_without_its_scope_machines_is_refused(name, machines, missing):
    """Without the clips of a scope's machines a '12m' stream would silently train as the '7m' one (System 2 / 3 equal
    to System 1): ``fit`` refuses before any training, naming the missing machines."""
    det = Detector.from_preset(name, backbones=_tiny_backbones())
    clips = synthetic_clips(2 * len(machines), sr=SR, seconds=0.25, seed=3)
    labels = [m for m in machines for _ in range(2)]
    with pytest.raises(ValueError, match=r"missing from this fit\(\) call.*allow_missing_scope=True") as info:
        det.fit(clips, SR, machine=labels)
    assert repr(missing) in str(info.value)
    assert not det.history_ and not det.machines_
