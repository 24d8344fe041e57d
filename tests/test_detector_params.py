"""Detector settings as one object: ``DetectorSettings``, ``get_params`` / ``set_params``, persistence and CLI defaults.

Weight-free ``logstft`` streams on 0.5 s synthetic clips (and one 1-epoch head) keep the file fast.
"""

from __future__ import annotations

import dataclasses
import inspect
import json

import numpy as np
import pytest

from fisher_asd import Detector
from fisher_asd.cli import FIT_SETTINGS, build_parser, detector_settings
from fisher_asd.detector import StreamConfig, TrainConfig
from fisher_asd.detector.settings import DetectorSettings, setting_fields
from fisher_asd.detector.synthetic import synthetic_clips

SR = 16000
CLIP = 8000
FAST = {"epochs": 1, "batch_size": 8, "early_stop": None}
CUSTOM = {
    "k": 3,
    "weights": {"logstft": 1.0},
    "rank_norm": "inductive",
    "ties": "ordinal",
    "oversample_ratio": 2.0,
    "mixup_alpha": 0.3,
    "mixup_pairing": "domain",
    "clip_samples": CLIP,
    "clip_crop": "center",
    "clip_pad": "zeros",
    "train_machines": ["pump"],
    "training": FAST,
    "threshold_percentile": 80.0,
    "seed": 7,
    "batch_size": 4,
}


@pytest.fixture(scope="module")
def train():
    return np.concatenate(
        [
            synthetic_clips(10, sr=SR, seconds=0.5, seed=1),
            synthetic_clips(4, sr=SR, seconds=0.5, domain="target", seed=2),
        ]
    )


DOMAINS = ["source"] * 10 + ["target"] * 4


@pytest.fixture(scope="module")
def test_clips():
    return np.concatenate(
        [synthetic_clips(6, sr=SR, seconds=0.5, seed=3), synthetic_clips(6, sr=SR, seconds=0.5, anomaly=True, seed=4)]
    )


def _fit(det, clips, **kw):
    return det.fit(clips, SR, machine="pump", domain=DOMAINS, **kw)


@pytest.fixture(scope="module")
def fitted(train):
    return _fit(Detector(["logstft"], clip_samples=CLIP), train)


# ------------------------------------------------------------------------------------------------ one list of settings
def test_fields_are_the_constructor_keywords_with_the_same_defaults():
    sig = inspect.signature(Detector.__init__).parameters
    keywords = [n for n in sig if n not in ("self", "_backbone_states")]
    assert list(setting_fields()) == keywords
    for name, f in setting_fields().items():
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        assert default == sig[name].default, name
        assert f.metadata["doc"] and f.metadata["scope"] in ("runtime", "fit", "streams")


def test_get_params_rebuilds_the_same_configuration():
    det = Detector(["logstft"], **CUSTOM)
    params = det.get_params()
    assert list(params) == list(setting_fields())
    assert params["k"] == 3 and params["training"] == TrainConfig(**FAST) and params["rank_norm"] == "inductive"
    again = Detector(**params)
    assert again.get_params() == params and again.settings == det.settings
    assert Detector.from_settings(det.settings).get_params() == params
    assert Detector.from_settings(params, k=4).k == 4
    assert Detector(["logstft"], rank_norm="None").get_params()["rank_norm"] is None  # normalised as always
    deep = det.get_params(deep=True)
    assert deep["training__epochs"] == 1 and set(params) < set(deep)
    params["weights"]["logstft"] = 0.5  # copies: the detector is untouched
    assert det.weights == {"logstft": 1.0} and det.settings.weights == {"logstft": 1.0}


def test_attributes_read_the_settings(train):
    det = Detector(["logstft"], **CUSTOM)
    assert det.k == 3 and det.rank_norm == "inductive" and det.seed == 7 and det.threshold_percentile == 80.0
    assert det.clip.samples == CLIP and det.clip.crop == "center" and det.bank_options["mixup_pairing"] == "domain"
    assert det.train_machines == ["pump"] and det.training == TrainConfig(**FAST) and det.index == "exact"
    _fit(det, train)
    det.show_progress = True  # runtime settings change in place and keep the fit
    det.batch_size = 2
    assert det.machines_ == ["pump"] and det.settings.show_progress and det.get_params()["batch_size"] == 2
    with pytest.raises(AttributeError, match=r"set_params\(k=\.\.\.\)"):
        det.k = 4


@pytest.mark.parametrize(
    "extra",
    [{}, {"train_heads": True, "training": FAST, "rank_norm": None}],
    ids=["frozen", "head"],
)
def test_refit_of_the_rebuilt_detector_gives_identical_scores(train, test_clips, extra):
    det = _fit(Detector(["logstft"], clip_samples=CLIP, k=3, seed=3, **extra), train)
    rebuilt = _fit(Detector(**det.get_params()), train)
    np.testing.assert_array_equal(
        rebuilt.score(test_clips, SR, machine="pump"), det.score(test_clips, SR, machine="pump")
    )
    assert rebuilt.thresholds_ == det.thresholds_


def test_set_params_resets_a_fitted_detector_like_a_fresh_one(train, test_clips):
    det = Detector(["logstft"], clip_samples=CLIP, train_heads=True, training=FAST)
    _fit(det, train, train=False)  # heads created (random), banks built
    old_head = det.streams["logstft"].head
    det.history_["logstft"] = {"epochs": []}  # as if trained
    assert det.set_params(k=4, training__epochs=2) is det
    assert det.machines_ == [] and det.history_ == {} and det.head_sr_ == {}  # unfitted: fit() again
    assert det.k == 4 and det.training.epochs == 2 and det.training.early_stop is None
    assert old_head is not None and det.streams["logstft"].head is None  # fresh streams, heads made at fit
    fresh = Detector(**det.get_params())
    _fit(det, train, train=False)
    _fit(fresh, train, train=False)
    np.testing.assert_array_equal(
        det.score(test_clips, SR, machine="pump"), fresh.score(test_clips, SR, machine="pump")
    )
    frozen = _fit(Detector(["logstft"], clip_samples=CLIP), train)
    streams = frozen.streams
    frozen.set_params(rank_norm="none")  # no trainable stream: the streams are kept, the banks dropped
    assert frozen.streams is streams and frozen.rank_norm is None and frozen.machines_ == []
    frozen.set_params(encoders=["logstft", StreamConfig("b", "logstft")], weights={"b": 1.0})
    assert list(frozen.streams) == ["logstft", "b"] and frozen.weights == {"logstft": 0.0, "b": 1.0}


BAD = [
    ("ValueError", {"colour": "red"}, r"unknown Detector setting\(s\) \['colour'\]; allowed: \['encoders', 'k'"),
    ("ValueError", {"k": 0}, "k"),
    ("ValueError", {"rank_norm": "bogus"}, "rank_norm must be"),
    ("ValueError", {"domain_policy": "guess"}, "domain_policy must be one of"),
    ("ValueError", {"ties": "min"}, "ties must be one of"),
    ("ValueError", {"mixup_stage": "never"}, "mixup_stage must be in"),
    ("ValueError", {"mixup_alpha": 0}, "mixup_alpha must be a positive number"),
    ("ValueError", {"oversample_ratio": 0.5}, "oversample_ratio must be a number >= 1"),
    ("ValueError", {"clip_samples": 1}, "clip_samples must be an int >= 2"),
    ("ValueError", {"clip_pad": "mirror"}, "clip_pad must be one of"),
    ("TypeError", {"threshold_percentile": "90"}, "threshold_percentile must be a number"),
    ("ValueError", {"threshold_percentile": 101}, r"threshold_percentile must be in \[0, 100\]"),
    ("ValueError", {"batch_size": 0}, "batch_size must be a positive int"),
    ("ValueError", {"index": "annoy"}, "unknown index backend"),
    ("ValueError", {"weights": {"ghost": 1.0}}, "unknown stream"),
    ("ValueError", {"weights": {"logstft": -1.0}}, "must be finite and >= 0"),
    ("TypeError", {"weights": [1.0]}, "weights must be a mapping"),
    ("TypeError", {"seed": "7"}, "seed must be an int"),
    ("TypeError", {"train_machines": "pump"}, "train_machines must be a list"),
    ("TypeError", {"encoders": "logstft"}, "encoders must be a non-empty list"),
    ("ValueError", {"training__epochs": 0}, "TrainConfig.epochs must be a positive int"),
    ("ValueError", {"training__colour": 1}, "unknown TrainConfig fields"),
]


@pytest.mark.parametrize(("exc", "params", "match"), BAD, ids=[f"{e}-{next(iter(p))}" for e, p, _ in BAD])
def test_set_params_rejects_bad_values_and_changes_nothing(fitted, exc, params, match):
    det = fitted
    settings, banks = det.settings, det.banks_
    with pytest.raises({"ValueError": ValueError, "TypeError": TypeError}[exc], match=match):
        det.set_params(**params)
    assert det.settings is settings and det.banks_ is banks and det.machines_ == ["pump"]
    key = next(iter(params))
    if "__" not in key and key not in ("colour", "weights"):  # the constructor says the same
        with pytest.raises({"ValueError": ValueError, "TypeError": TypeError}[exc], match=match):
            Detector(**{"encoders": ["logstft"], **params})


# ------------------------------------------------------------------------------------------------ persistence
def test_save_load_round_trips_the_settings(train, test_clips, tmp_path):
    det = _fit(Detector(["logstft"], **CUSTOM, train_heads=True), train)
    path = det.save_pretrained(tmp_path / "det")
    saved = json.loads((path / "detector.json").read_text())["settings"]
    assert list(saved) == sorted(setting_fields(saved=True)) and saved == json.loads(json.dumps(det.settings.saved()))
    back = Detector.from_pretrained(path)
    assert back.settings.saved() == det.settings.saved()
    assert back.weights == det.weights and back.training == det.training
    assert [c.to_dict() for c in back.configs] == [c.to_dict() for c in det.configs]
    np.testing.assert_array_equal(back.score(test_clips, SR, machine="pump"), det.score(test_clips, SR, machine="pump"))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.update(colour="red"), r"'settings' is malformed.*unknown detector settings \['colour'\]"),
        (lambda s: s.update(k="5"), r"'settings' is malformed.*TypeError: setting k must be of type int"),
        (lambda s: s.update(mixup=1), r"'settings' is malformed.*setting mixup must be of type bool"),
        (lambda s: s.update(k=0), r"'settings' is malformed"),
    ],
    ids=["unknown", "str-for-int", "int-for-bool", "bad-value"],
)
def test_damaged_settings_name_the_problem(train, tmp_path, edit, match):
    path = _fit(Detector(["logstft"], clip_samples=CLIP), train).save_pretrained(tmp_path / "det")
    manifest = json.loads((path / "detector.json").read_text())
    edit(manifest["settings"])
    (path / "detector.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=match + ".*re-save"):
        Detector.from_pretrained(path)


def test_older_manifests_load_missing_settings_with_defaults(train, test_clips, tmp_path):
    det = _fit(Detector(["logstft"], clip_samples=CLIP, mixup_pairing="any", index="exact"), train)
    path = det.save_pretrained(tmp_path / "det")
    manifest = json.loads((path / "detector.json").read_text())
    for key in ("mixup_pairing", "index"):  # settings added after the first format
        del manifest["settings"][key]
    (path / "detector.json").write_text(json.dumps(manifest))
    back = Detector.from_pretrained(path)
    assert back.settings.saved() == det.settings.saved()
    np.testing.assert_array_equal(back.score(test_clips, SR, machine="pump"), det.score(test_clips, SR, machine="pump"))


def test_from_dict_checks_keys_and_json_types():
    assert DetectorSettings.from_dict({}) == DetectorSettings()
    assert (
        DetectorSettings.from_dict({"index": {"backend": "exact"}, "oversample_ratio": None}).oversample_ratio is None
    )
    with pytest.raises(ValueError, match=r"unknown detector settings \['weights'\]; allowed"):
        DetectorSettings.from_dict({"weights": {"a": 1}})  # its own manifest section, not a saved setting
    with pytest.raises(TypeError, match="train_machines must be of type"):
        DetectorSettings.from_dict({"train_machines": "pump"})
    with pytest.raises(TypeError, match="threshold_percentile must be of type float"):
        DetectorSettings.from_dict({"threshold_percentile": True})


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_defaults_are_the_dataclass_defaults():
    fields = setting_fields()
    args = build_parser().parse_args(["fit", "--data", "d", "--out", "o"])
    assert detector_settings(args) == {"show_progress": True}  # nothing else given: the detector's defaults apply
    assert DetectorSettings(**detector_settings(args)) == DetectorSettings(show_progress=True)
    fit = build_parser()._subparsers._group_actions[0].choices["fit"]
    actions = {a.dest: a for a in fit._actions}
    for name in FIT_SETTINGS:
        default = fields[name].default
        assert actions[name].default is __import__("argparse").SUPPRESS
        assert fields[name].metadata["doc"] in actions[name].help
        if not isinstance(default, bool):
            shown = (
                " ".join(default)
                if isinstance(default, tuple)
                else f"{default:,}"
                if isinstance(default, int)
                else str(default)
            )
            assert f"(default: {shown})" in actions[name].help, name
    assert f"default {TrainConfig().epochs}" in actions["epochs"].help


def test_cli_options_set_the_settings():
    argv = ["fit", "--data", "d", "--out", "o", "--quiet", "--k", "3", "--rank-norm", "none", "--whole-clips"]
    argv += [
        "--encoders",
        "logstft",
        "fisher",
        "--train-heads",
        "--seed",
        "2",
        "--domain-policy",
        "nearest",
        "--epochs",
        "4",
    ]
    settings = DetectorSettings(**detector_settings(build_parser().parse_args(argv)))
    expect = DetectorSettings(
        encoders=["logstft", "fisher"], k=3, rank_norm=None, whole_clips=True, train_heads=True, seed=2,
        domain_policy="nearest", training={"epochs": 4},
    )  # fmt: skip
    assert settings == expect
