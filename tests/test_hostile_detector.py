"""Hostile inputs to ``fisher_asd.Detector`` and the ``fisher-asd`` CLI (issue 19): every case asserts its outcome.

Each case is one of: a value (shape, finiteness or equality to a reference), an error of a named type whose message
names the problem, or a warning. Cheap ``logstft`` streams on 0.5 s synthetic clips keep the file fast; every case is
bounded by ``signal.alarm(20)``. The case ids start with the expected outcome (``value-``, ``ValueError-``, ...).
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import time_limit

from fisher_asd import Detector
from fisher_asd.cli import main
from fisher_asd.detector import ClipFiles, StreamConfig
from fisher_asd.detector.inputs import MIN_CLIP_SECONDS
from fisher_asd.detector.scoring import MIN_RANK_CLIPS
from fisher_asd.detector.synthetic import synthetic_clips

SR = 16000
CLIP = 8000
FAST = {"epochs": 1, "batch_size": 8, "early_stop": None}


@pytest.fixture(autouse=True)
def _time_limit():
    """Fail any case that runs longer than 20 s."""
    with time_limit(20, "hostile-input case"):
        yield


@pytest.fixture(scope="module")
def train():
    return np.concatenate(
        [
            synthetic_clips(10, sr=SR, seconds=0.5, seed=1),
            synthetic_clips(4, sr=SR, seconds=0.5, domain="target", seed=2),
        ]
    )


TRAIN_DOMAIN = ["source"] * 10 + ["target"] * 4


@pytest.fixture(scope="module")
def test_clips():
    return np.concatenate(
        [synthetic_clips(6, sr=SR, seconds=0.5, seed=3), synthetic_clips(6, sr=SR, seconds=0.5, anomaly=True, seed=4)]
    )


@pytest.fixture(scope="module")
def det_i(train):
    """Inductive detector (scores of one clip are meaningful)."""
    return Detector(["logstft"], clip_samples=CLIP, rank_norm="inductive").fit(
        train, SR, machine="pump", domain=TRAIN_DOMAIN
    )


@pytest.fixture(scope="module")
def det_t(train):
    """Transductive detector (the report's normalisation)."""
    return Detector(["logstft"], clip_samples=CLIP).fit(train, SR, machine="pump", domain=TRAIN_DOMAIN)


@pytest.fixture(scope="module")
def saved(train, tmp_path_factory):
    """A saved detector with a trained head (so every file of the folder matters) and its reference scores."""
    det = Detector(["logstft"], clip_samples=CLIP, rank_norm="inductive", train_heads=True, training=FAST)
    det.fit(train, SR, machine="pump", domain=TRAIN_DOMAIN)
    path = det.save_pretrained(tmp_path_factory.mktemp("saved") / "det")
    return path, det.score(train[:6], SR, machine="pump")


# ------------------------------------------------------------------------------------------------ entry points
def _fresh() -> Detector:
    return Detector(["logstft"], clip_samples=CLIP, rank_norm="inductive")


ENTRY = {
    "fit": lambda det, w, sr: _fresh().fit(w, sr, machine="pump"),
    "embed": lambda det, w, sr: det.embed(w, sr),
    "score": lambda det, w, sr: det.score(w, sr, machine="pump"),
    "score_details": lambda det, w, sr: det.score_details(w, sr, machine="pump"),
    "decision_function": lambda det, w, sr: det.decision_function(w, sr, machine="pump"),
    "score_samples": lambda det, w, sr: det.score_samples(w, sr, machine="pump"),
    "predict": lambda det, w, sr: det.predict(w, sr, machine="pump"),
}
SCORING = ("score", "predict", "embed", "fit")


def _case(outcome: str, label: str, *values, marks=()):
    return pytest.param(outcome, *values, id=f"{outcome}-{label}", marks=marks)


def _expect(outcome: str, match: str | None, fn):
    """Run ``fn`` and check ``outcome``: ``"value"`` returns the result; an exception name must be raised with
    ``match``; ``"warning"`` must warn (UserWarning) with ``match``."""
    if outcome == "value":
        return fn()
    if outcome == "warning":
        with pytest.warns(UserWarning, match=match):
            return fn()
    exc = {"ValueError": ValueError, "TypeError": TypeError, "FileNotFoundError": FileNotFoundError}[outcome]
    with pytest.raises(exc, match=match) as info:
        fn()
    assert type(info.value) is exc or outcome == "ValueError" and isinstance(info.value, ValueError)
    return info.value


# ------------------------------------------------------------------------------------------------ sampling rates
BAD_SR = [
    _case("TypeError", "bool-true", True, "sr must be a positive number"),
    _case("TypeError", "bool-false", False, "sr must be a positive number"),
    _case("TypeError", "str", "16000", "sr must be a positive number"),
    _case("TypeError", "none", None, "sr must be a positive number"),
    _case("TypeError", "list", [16000], "sr must be a positive number"),
    _case("TypeError", "complex", 16000j, "sr must be a positive number"),
    _case("ValueError", "nan", float("nan"), "positive finite"),
    _case("ValueError", "np-nan", np.float64("nan"), "positive finite"),
    _case("ValueError", "inf", float("inf"), "positive finite"),
    _case("ValueError", "zero", 0, "positive finite"),
    _case("ValueError", "negative", -16000, "positive finite"),
    _case("ValueError", "fractional", 16000.5, "whole number of Hz"),
]


@pytest.mark.parametrize("entry", list(ENTRY))
@pytest.mark.parametrize(("outcome", "sr", "match"), BAD_SR)
def test_bad_sampling_rate_at_every_entry_point(det_i, test_clips, entry, outcome, sr, match):
    _expect(outcome, match, lambda: ENTRY[entry](det_i, test_clips[:6], sr))


@pytest.mark.parametrize("entry", ["score", "predict", "decision_function", "score_details"])
@pytest.mark.parametrize("sr", [8000, 22050, 48000, 16001])
def test_valid_rate_other_than_the_fitted_one(det_i, test_clips, entry, sr):
    _expect("ValueError", "fitted at 16000 Hz", lambda: ENTRY[entry](det_i, test_clips[:6], sr))


@pytest.mark.parametrize("sr", [16000, 16000.0, np.int64(16000), np.float32(16000)])
def test_integral_rates_of_any_numeric_type_are_accepted(det_i, test_clips, sr):
    out = _expect("value", None, lambda: det_i.score(test_clips[:6], sr, machine="pump"))
    np.testing.assert_array_equal(out, det_i.score(test_clips[:6], SR, machine="pump"))


# ------------------------------------------------------------------------------------------------ stereo / layout
STEREO = [(160_000, 2), (16_000, 2), (8_000, 1), (8_000, 3), (8_000, 4), (8_000, 6), (8_000, 8), (9, 8), (3, 2)]


@pytest.mark.parametrize("entry", list(ENTRY))
@pytest.mark.parametrize("shape", STEREO, ids=[f"ValueError-{a}x{b}" for a, b in STEREO])
def test_channels_last_arrays_are_refused(det_i, entry, shape):
    x = np.zeros(shape, dtype=np.float32)
    err = _expect("ValueError", r"\(frames, channels\)", lambda: ENTRY[entry](det_i, x, SR))
    assert str(shape) in str(err) and "x[:, 0]" in str(err) and "x.mean(axis=1)" in str(err) and "x.T" in str(err)


@pytest.mark.parametrize("entry", ["score", "fit"])
@pytest.mark.parametrize(
    "shape", [(16_000, 2), (8_000, 5)], ids=["ValueError-torch-16000x2", "ValueError-torch-8000x5"]
)
def test_channels_last_tensors_are_refused(det_i, entry, shape):
    _expect("ValueError", "frames, channels", lambda: ENTRY[entry](det_i, torch.zeros(shape), SR))


@pytest.mark.parametrize("fix", ["channel0", "mean", "transpose"])
def test_the_suggested_fixes_work(det_i, fix):
    stereo = np.stack([synthetic_clips(1, sr=SR, seconds=0.5, seed=9)[0]] * 2, axis=1)  # (8000, 2)
    x = {"channel0": stereo[:, 0], "mean": stereo.mean(axis=1), "transpose": stereo.T}[fix]
    out = _expect("value", None, lambda: det_i.score(x, SR, machine="pump"))
    assert out.shape == ((2,) if fix == "transpose" else (1,)) and np.isfinite(out).all()


@pytest.mark.parametrize("shape", [(2, 8000), (9, 8000), (3, 4000)], ids=lambda s: f"value-{s[0]}x{s[1]}")
def test_batches_are_still_batches(det_i, shape):
    x = synthetic_clips(shape[0], sr=SR, seconds=shape[1] / SR, seed=5)
    out = _expect("value", None, lambda: det_i.score(x, SR, machine="pump"))
    assert out.shape == (shape[0],) and np.isfinite(out).all()


# ------------------------------------------------------------------------------------------------ dtypes and shapes
def _dtype_input(kind: str):
    base = synthetic_clips(6, sr=SR, seconds=0.5, seed=6)
    return {
        "complex": base.astype(np.complex64),
        "object": np.array([[object()] * 8000] * 6, dtype=object),
        "str": np.array([["a"] * 8000] * 6),
        "bool": base > 0,
        "uint16": (base * 1000).astype(np.uint16),
        "nan": np.where(np.arange(8000) == 7, np.nan, base).astype(np.float32),
        "inf": np.where(np.arange(8000) == 7, np.inf, base).astype(np.float32),
        "int16": (base * 2**15).astype(np.int16),
        "float16": base.astype(np.float16),
        "float64": base.astype(np.float64),
        "uint8": ((base + 1) * 127).astype(np.uint8),
    }[kind]


DTYPES = [
    _case("TypeError", "complex", "complex", "complex"),
    _case("TypeError", "object", "object", "not numeric audio"),
    _case("TypeError", "str", "str", "not numeric audio"),
    _case("TypeError", "bool", "bool", "not numeric audio"),
    _case("TypeError", "uint16", "uint16", "uint8"),
    _case("ValueError", "nan", "nan", "NaN"),
    _case("ValueError", "inf", "inf", "NaN or infinite"),
    _case("value", "int16", "int16", None),
    _case("value", "float16", "float16", None),
    _case("value", "float64", "float64", None),
    _case("value", "uint8", "uint8", None),
]


@pytest.mark.parametrize("entry", SCORING)
@pytest.mark.parametrize(("outcome", "kind", "match"), DTYPES)
def test_dtypes(det_i, entry, outcome, kind, match):
    x = _dtype_input(kind)
    out = _expect(outcome, match, lambda: ENTRY[entry](det_i, x, SR))
    if outcome == "value" and entry in ("score", "predict"):
        assert out.shape == (6,)
    if outcome == "value" and entry == "embed":
        assert out["logstft"].shape[0] == 6 and np.isfinite(out["logstft"]).all()
    if outcome != "value" and entry != "fit":
        assert "clip 0" in str(out)  # the error names the clip


SHAPES = [
    _case("TypeError", "scalar", np.float32(0.5), "waves must be"),
    _case("ValueError", "3d", np.zeros((2, 2, 8000), np.float32), "allowed"),
    _case("ValueError", "empty-1d", np.zeros(0, np.float32), "empty"),
    _case("ValueError", "empty-list", [], "no clips"),
    _case("ValueError", "empty-batch", np.zeros((0, 8000), np.float32), "no clips"),
    _case("TypeError", "path", "clip.wav", "not a path"),
    _case("TypeError", "pathlib", Path("clip.wav"), "not a path"),
    _case("TypeError", "none", None, "waves must be"),
    _case("TypeError", "dict", {"a": 1}, "waves must be"),
    _case("TypeError", "int", 5, "waves must be"),
    _case("ValueError", "list-of-2d", [np.zeros((2, 8000), np.float32)], "1-D"),
    _case("ValueError", "list-with-empty", [np.ones(8000, np.float32), np.zeros(0, np.float32)], "clip 1"),
]


@pytest.mark.parametrize("entry", SCORING)
@pytest.mark.parametrize(("outcome", "waves", "match"), SHAPES)
def test_shapes(det_i, entry, outcome, waves, match):
    _expect(outcome, match, lambda: ENTRY[entry](det_i, waves, SR))


@pytest.mark.parametrize("entry", ["score", "embed"])
def test_ragged_list_is_a_batch(det_i, entry):
    x = [synthetic_clips(1, sr=SR, seconds=s, seed=7)[0] for s in (0.5, 0.3, 1.0)]
    out = _expect("value", None, lambda: ENTRY[entry](det_i, x, SR))
    n = out.shape[0] if entry == "score" else out["logstft"].shape[0]
    assert n == 3


# ------------------------------------------------------------------------------------------------ clip duration
SHORT = [1, 2, 100, 1600, 3999]


@pytest.mark.parametrize("entry", SCORING)
@pytest.mark.parametrize("n", SHORT, ids=[f"ValueError-{n}-samples" for n in SHORT])
def test_clips_below_the_minimum_duration(det_i, entry, n):
    err = _expect("ValueError", "MIN_CLIP_SECONDS", lambda: ENTRY[entry](det_i, np.full(n, 0.1, np.float32), SR))
    assert f"{n} samples" in str(err) and str(MIN_CLIP_SECONDS) in str(err)


@pytest.mark.parametrize("entry", ["score", "embed"])
def test_a_clip_of_exactly_the_minimum_duration(det_i, entry):
    x = synthetic_clips(1, sr=SR, seconds=MIN_CLIP_SECONDS, seed=8)[0]
    out = _expect("value", None, lambda: ENTRY[entry](det_i, x, SR))
    assert (out.shape if entry == "score" else out["logstft"].shape)[0] == 1


def test_a_short_clip_in_a_batch_is_named(det_i, test_clips):
    clips = [test_clips[0], test_clips[1][:10], test_clips[2]]
    _expect("ValueError", "clip 1 has 10 samples", lambda: det_i.score(clips, SR, machine="pump"))


# ------------------------------------------------------------------------------------------------ thresholds
BAD_THRESHOLDS = [
    _case("ValueError", "nan", float("nan"), "finite"),
    _case("ValueError", "np-nan", np.float32("nan"), "finite"),
    _case("ValueError", "inf", float("inf"), "finite"),
    _case("ValueError", "-inf", -float("inf"), "finite"),
    _case("TypeError", "str", "0.5", "real number"),
    _case("TypeError", "bool", True, "real number"),
    _case("TypeError", "list", [0.5], "real number"),
    _case("TypeError", "complex", 0.5j, "real number"),
]


@pytest.mark.parametrize(("outcome", "value", "match"), BAD_THRESHOLDS)
def test_predict_threshold(det_i, test_clips, outcome, value, match):
    _expect(outcome, match, lambda: det_i.predict(test_clips, SR, machine="pump", threshold=value))


@pytest.mark.parametrize(("outcome", "value", "match"), BAD_THRESHOLDS)
def test_set_threshold(det_i, outcome, value, match):
    before = dict(det_i.thresholds_)
    _expect(outcome, match, lambda: det_i.set_threshold(value))
    assert det_i.thresholds_ == before


BAD_PERCENTILES = [
    _case("ValueError", "nan", float("nan"), r"\[0, 100\]"),
    _case("ValueError", "negative", -1, r"\[0, 100\]"),
    _case("ValueError", "above", 100.5, r"\[0, 100\]"),
    _case("ValueError", "inf", float("inf"), r"\[0, 100\]"),
    _case("TypeError", "str", "90", "number in"),
    _case("TypeError", "bool", True, "number in"),
]


@pytest.mark.parametrize(("outcome", "value", "match"), BAD_PERCENTILES)
def test_set_threshold_percentile(det_i, outcome, value, match):
    _expect(outcome, match, lambda: det_i.set_threshold(percentile=value))


@pytest.mark.parametrize(("outcome", "value", "match"), BAD_PERCENTILES)
def test_constructor_threshold_percentile(outcome, value, match):
    _expect(outcome, "threshold_percentile", lambda: Detector(["logstft"], threshold_percentile=value))


@pytest.mark.parametrize("threshold", [-1.0, 0.0, 0.5, 1.0, 2, np.float32(0.25)])
def test_valid_thresholds_give_score_comparisons(det_i, test_clips, threshold):
    pred = _expect("value", None, lambda: det_i.predict(test_clips, SR, machine="pump", threshold=threshold))
    score = det_i.score(test_clips, SR, machine="pump")
    np.testing.assert_array_equal(pred, (score > float(threshold)).astype(np.int8))


def test_set_threshold_on_an_unfitted_detector():
    with pytest.raises(RuntimeError, match="not fitted"):
        Detector(["logstft"]).set_threshold(0.5)


@pytest.mark.parametrize("call", ["neither", "both"])
def test_set_threshold_needs_exactly_one(det_i, call):
    kw = {} if call == "neither" else {"threshold": 0.5, "percentile": 50}
    _expect("ValueError", "exactly one", lambda: det_i.set_threshold(**kw))


# ------------------------------------------------------------------------------------------------ rank normalisation
@pytest.mark.parametrize("entry", ["score", "predict", "decision_function", "score_details", "score_samples"])
def test_transductive_single_clip_is_refused(det_t, test_clips, entry):
    err = _expect("ValueError", "1 clip", lambda: ENTRY[entry](det_t, test_clips[0], SR))
    assert 'rank_norm="inductive"' in str(err) and "'pump'" in str(err)


@pytest.mark.parametrize("n", list(range(2, MIN_RANK_CLIPS)))
def test_transductive_few_clips_warn(det_t, test_clips, n):
    out = _expect("warning", f"only {n} clip", lambda: det_t.score(test_clips[:n], SR, machine="pump"))
    assert out.shape == (n,) and ((out >= 0) & (out <= 1)).all()


@pytest.mark.parametrize("n", [MIN_RANK_CLIPS, 8, 12])
def test_transductive_enough_clips_is_silent(det_t, test_clips, n):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = det_t.score(test_clips[:n], SR, machine="pump")
    assert out.shape == (n,) and out.min() == 0.0 and out.max() == 1.0


def test_transductive_one_clip_partition_by_domain_is_refused(det_t, test_clips):
    domains = ["source"] * 7 + ["target"]
    _expect("ValueError", "domain 'target'", lambda: det_t.score(test_clips[:8], SR, machine="pump", domain=domains))


def test_transductive_partition_warning_names_domain(det_t, test_clips):
    domains = ["source"] * 6 + ["target"] * 2
    _expect(
        "warning", "domain 'target'.*only 2", lambda: det_t.score(test_clips[:8], SR, machine="pump", domain=domains)
    )


@pytest.mark.parametrize("i", range(4))
def test_inductive_one_clip_equals_the_batch_value(det_i, test_clips, i):
    batch = det_i.score(test_clips, SR, machine="pump")
    one = _expect("value", None, lambda: det_i.score(test_clips[i], SR, machine="pump"))
    assert one.shape == (1,) and one[0] == batch[i]


@pytest.mark.parametrize("spelling", [None, "none", "None", "NONE", " none "])
def test_rank_norm_none_spellings(train, test_clips, spelling):
    det = _expect("value", None, lambda: Detector(["logstft"], clip_samples=CLIP, rank_norm=spelling))
    assert det.rank_norm is None


BAD_RANK = [
    _case("ValueError", "zscore", "zscore", "rank_norm must be"),
    _case("ValueError", "int", 1, "rank_norm must be"),
    _case("ValueError", "empty", "", "rank_norm must be"),
    _case("ValueError", "upper", "TRANSDUCTIVE", "rank_norm must be"),
]


@pytest.mark.parametrize(("outcome", "value", "match"), BAD_RANK)
def test_bad_rank_norm(outcome, value, match):
    _expect(outcome, match, lambda: Detector(["logstft"], rank_norm=value))


# ------------------------------------------------------------------------------------------------ labels
BAD_LABELS = [
    _case("ValueError", "unknown-machine", {"machine": "valve"}, "unknown machine 'valve'"),
    _case("ValueError", "case-machine", {"machine": "Pump"}, "unknown machine 'Pump'"),
    _case("TypeError", "none-machine", {"machine": None}, "machine labels"),
    _case("TypeError", "int-machine", {"machine": 3}, "machine labels"),
    _case("TypeError", "empty-machine", {"machine": ""}, "machine labels"),
    _case("TypeError", "blank-machine", {"machine": "  "}, "machine labels"),
    _case("ValueError", "short-machine-list", {"machine": ["pump"] * 5}, "machine has 5 entries"),
    _case("ValueError", "long-machine-list", {"machine": ["pump"] * 7}, "machine has 7 entries"),
    _case("TypeError", "int-domain", {"machine": "pump", "domain": 5}, "domain labels"),
    _case("TypeError", "empty-domain", {"machine": "pump", "domain": ""}, "domain labels"),
    _case("ValueError", "short-domain-list", {"machine": "pump", "domain": ["source"] * 2}, "domain has 2 entries"),
    _case("ValueError", "bad-policy", {"machine": "pump", "domain_policy": "guess"}, "domain_policy"),
]


@pytest.mark.parametrize("entry", ["score", "predict"])
@pytest.mark.parametrize(("outcome", "kwargs", "match"), BAD_LABELS)
def test_bad_labels_when_scoring(det_i, test_clips, entry, outcome, kwargs, match):
    fn = det_i.score if entry == "score" else det_i.predict
    _expect(outcome, match, lambda: fn(test_clips[:6], SR, **kwargs))


FIT_LABELS = [
    _case("TypeError", "none-machine", {"machine": None}, "machine labels"),
    _case("TypeError", "int-machine", {"machine": 3}, "machine labels"),
    _case("ValueError", "short-machine", {"machine": ["pump"] * 3}, "machine has 3 entries"),
    _case("TypeError", "none-domain", {"machine": "pump", "domain": None}, "domain labels"),
    _case("TypeError", "float-domain", {"machine": "pump", "domain": 1.5}, "domain labels"),
    _case("ValueError", "short-domain", {"machine": "pump", "domain": ["source"]}, "domain has 1 entries"),
]


@pytest.mark.parametrize(("outcome", "kwargs", "match"), FIT_LABELS)
def test_bad_labels_when_fitting(train, outcome, kwargs, match):
    _expect(outcome, match, lambda: _fresh().fit(train, SR, **kwargs))


def test_scoring_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        _fresh().score(synthetic_clips(6, sr=SR, seconds=0.5), SR, machine="pump")


# ------------------------------------------------------------------------------------------------ ClipFiles rates
@pytest.fixture(scope="module")
def wav_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wavs")
    for rate in (16000, 48000):
        for i, clip in enumerate(synthetic_clips(8, sr=rate, seconds=0.5, seed=rate)):
            sf.write(str(folder / f"r{rate}_{i}.wav"), clip, rate, subtype="PCM_16")
    stereo = synthetic_clips(2, sr=SR, seconds=0.5, seed=3)
    sf.write(str(folder / "stereo.wav"), stereo.T, SR, subtype="PCM_16")
    return folder


@pytest.mark.parametrize("entry", ["fit", "score", "embed"])
def test_clipfiles_at_another_rate(det_i, wav_dir, entry):
    files = ClipFiles(sorted(wav_dir.glob("r48000_*.wav")))
    err = _expect("ValueError", "48000 Hz but sr=16000", lambda: ENTRY[entry](det_i, files, SR))
    assert "r48000_0.wav" in str(err)


def test_clipfiles_mixed_rates_name_the_odd_file(wav_dir):
    paths = sorted(wav_dir.glob("r16000_*.wav"))[:6] + [wav_dir / "r48000_3.wav"]
    _expect(
        "ValueError", "r48000_3.wav is sampled at 48000 Hz", lambda: _fresh().fit(ClipFiles(paths), SR, machine="m")
    )


def test_clipfiles_sr_disagreeing_with_the_call(wav_dir):
    files = ClipFiles(sorted(wav_dir.glob("r16000_*.wav")), sr=48000)
    _expect("ValueError", r"ClipFiles\(sr=48000\) but sr=16000", lambda: _fresh().fit(files, SR, machine="m"))


@pytest.mark.parametrize("rate", [16000, 48000])
def test_clipfiles_at_their_rate(wav_dir, rate):
    files = ClipFiles(sorted(wav_dir.glob(f"r{rate}_*.wav")))
    det = _expect("value", None, lambda: _fresh().fit(files, rate, machine="m"))
    assert det.sr_ == {"m": float(rate)}


@pytest.mark.parametrize(
    ("outcome", "channel", "match"),
    [_case("value", "ch0", 0, None), _case("value", "mean", "mean", None), _case("ValueError", "ch5", 5, "channel")],
)
def test_clipfiles_channels_of_a_stereo_file(det_i, wav_dir, outcome, channel, match):
    files = ClipFiles([wav_dir / "stereo.wav"] * 3, channel=channel)
    out = _expect(outcome, match, lambda: det_i.score(files, SR, machine="pump"))
    if outcome == "value":
        assert out.shape == (3,) and np.isfinite(out).all()


# ------------------------------------------------------------------------------------------------ MEF scopes
def _scoped(allow: bool = False, scope=("fan", "valve", "pump")):
    return Detector(
        [StreamConfig("a", "logstft", head=256, train_machines=list(scope))],
        train_heads=True,
        clip_samples=CLIP,
        training=FAST,
    )


@pytest.mark.parametrize(
    ("machines", "missing"),
    [(["fan"] * 6 + ["pump"] * 6, "valve"), (["fan"] * 12, "valve"), (["pump_00"] * 6 + ["fan"] * 6, "valve")],
    ids=["ValueError-no-valve", "ValueError-fan-only", "ValueError-sections"],
)
def test_missing_scope_machines_are_refused(train, machines, missing):
    err = _expect("ValueError", "allow_missing_scope=True", lambda: _scoped().fit(train[:12], SR, machine=machines))
    assert repr(missing) in str(err) and "stream 'a'" in str(err)


def test_missing_scope_machines_with_opt_in_warn_and_train(train):
    det = _scoped()
    machines = ["fan"] * 6 + ["pump"] * 6
    _expect("warning", "'valve'", lambda: det.fit(train[:12], SR, machine=machines, allow_missing_scope=True))
    assert det.history_["a"]["n_train"] + det.history_["a"]["n_val"] == 12


def test_complete_scope_trains_silently(train):
    det = _scoped()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det.fit(train[:12], SR, machine=["fan"] * 4 + ["valve"] * 4 + ["pump_01"] * 4)
    assert det.machines_ == ["fan", "valve", "pump_01"]


def test_banks_only_fit_ignores_the_scope(train):
    det = _scoped()
    det.fit(train[:12], SR, machine=["fan"] * 4 + ["valve"] * 4 + ["pump"] * 4)
    det.fit(train[:6], SR, machine="fan", train=False)  # no training: no scope check
    assert "fan" in det.machines_


def test_from_preset_message_has_balanced_braces():
    err = _expect("ValueError", "needs backbone weights", lambda: Detector.from_preset("system2"))
    assert "}}" not in str(err) and "{'beats': '/path/to/BEATs_iter3_plus_AS2M.pt'}" in str(err)


# ------------------------------------------------------------------------------------------------ damaged folders
def _copy(saved, tmp_path) -> Path:
    src, _ = saved
    dst = tmp_path / "det"
    shutil.copytree(src, dst)
    return dst


FILES = ["detector.json", "streams.safetensors", "banks.safetensors"]
FRACTIONS = [0.0, 0.01, 0.1, 0.5, 0.9, 0.999]


@pytest.mark.parametrize("fraction", FRACTIONS)
@pytest.mark.parametrize("name", FILES, ids=[f"ValueError-{n}" for n in FILES])
def test_truncated_files(saved, tmp_path, name, fraction):
    path = _copy(saved, tmp_path)
    data = (path / name).read_bytes()
    (path / name).write_bytes(data[: int(len(data) * fraction)])
    err = _expect("ValueError", "re-save the detector", lambda: Detector.from_pretrained(path))
    assert name in str(err)


@pytest.mark.parametrize("name", FILES, ids=[f"FileNotFoundError-{n}" for n in FILES])
def test_missing_files(saved, tmp_path, name):
    path = _copy(saved, tmp_path)
    (path / name).unlink()
    err = _expect("FileNotFoundError", name.replace(".", r"\."), lambda: Detector.from_pretrained(path))
    assert str(path) in str(err)


FIELDS = [
    "streams",
    "instance_streams",
    "backbones",
    "settings",
    "training",
    "weights",
    "head_sr",
    "banks",
    "machines",
    "history",
]


@pytest.mark.parametrize("field", FIELDS, ids=[f"ValueError-no-{f}" for f in FIELDS])
def test_manifest_fields_missing(saved, tmp_path, field):
    path = _copy(saved, tmp_path)
    manifest = json.loads((path / "detector.json").read_text())
    del manifest[field]
    (path / "detector.json").write_text(json.dumps(manifest))
    _expect("ValueError", f"field '{field}'.*re-save", lambda: Detector.from_pretrained(path))


def _edit(manifest: dict, edit: str) -> None:
    if edit == "threshold-nan":
        manifest["machines"]["pump"]["threshold"] = float("nan")
    elif edit == "threshold-str":
        manifest["machines"]["pump"]["threshold"] = "high"
    elif edit == "sr-negative":
        manifest["machines"]["pump"]["sr"] = -1
    elif edit == "bank-key":
        manifest["banks"][0]["key"] = "b99"
    elif edit == "bank-stream":
        manifest["banks"][0]["stream"] = "ghost"
    elif edit == "stream-config":
        manifest["streams"][0]["colour"] = "red"
    elif edit == "streams-not-list":
        manifest["streams"] = {"a": 1}
    elif edit == "head-sr-stream":
        manifest["head_sr"] = {"ghost": 16000}
    elif edit == "training-field":
        manifest["training"]["epochs"] = -3
    elif edit == "format":
        manifest["format"] = "something/9"


EDITS = [
    ("threshold-nan", "machine 'pump'"),
    ("threshold-str", "machine 'pump'"),
    ("sr-negative", "machine 'pump'"),
    ("bank-key", "bank 'b99'"),
    ("bank-stream", "ghost"),
    ("stream-config", "'streams'"),
    ("streams-not-list", "field 'streams'"),
    ("head-sr-stream", "ghost"),
    ("training-field", "'training'"),
    ("format", "unsupported format"),
]


@pytest.mark.parametrize(("edit", "match"), EDITS, ids=[f"ValueError-{e}" for e, _ in EDITS])
def test_manifest_damage(saved, tmp_path, edit, match):
    path = _copy(saved, tmp_path)
    manifest = json.loads((path / "detector.json").read_text())
    _edit(manifest, edit)
    (path / "detector.json").write_text(json.dumps(manifest))
    _expect("ValueError", match, lambda: Detector.from_pretrained(path))


@pytest.mark.parametrize(
    "junk", [b"", b"{", b"[1, 2]", b"\xff\xfe\x00", b"null"], ids=lambda j: f"ValueError-json-{j!r}"
)
def test_junk_manifest(saved, tmp_path, junk):
    path = _copy(saved, tmp_path)
    (path / "detector.json").write_bytes(junk)
    _expect("ValueError", "detector.json", lambda: Detector.from_pretrained(path))


@pytest.mark.parametrize("name", ["streams.safetensors", "banks.safetensors"], ids=lambda n: f"ValueError-garbage-{n}")
def test_garbage_safetensors(saved, tmp_path, name):
    path = _copy(saved, tmp_path)
    (path / name).write_bytes(b"\x00" * 64)
    _expect("ValueError", f"{name}.*re-save", lambda: Detector.from_pretrained(path))


def test_swapped_safetensors(saved, tmp_path):
    path = _copy(saved, tmp_path)
    (path / "streams.safetensors").write_bytes((path / "banks.safetensors").read_bytes())
    _expect("ValueError", "streams.safetensors", lambda: Detector.from_pretrained(path))


@pytest.mark.parametrize("where", ["missing-dir", "file-not-dir"])
def test_not_a_folder(tmp_path, where):
    target = tmp_path / "nothing"
    if where == "file-not-dir":
        target.write_text("x")
    _expect("FileNotFoundError", "neither a detector directory", lambda: Detector.from_pretrained(target))


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    _expect("FileNotFoundError", "no detector.json", lambda: Detector.from_pretrained(tmp_path / "empty"))


@pytest.mark.parametrize("rounds", [1, 2])
def test_intact_folder_round_trips(saved, tmp_path, train, rounds):
    path = _copy(saved, tmp_path)
    for _ in range(rounds):
        det = _expect("value", None, lambda path=path: Detector.from_pretrained(path))
        path = det.save_pretrained(path)
    np.testing.assert_array_equal(det.score(train[:6], SR, machine="pump"), saved[1])
    assert not list(path.glob(".*.tmp"))  # atomic writes leave no temporaries


@pytest.mark.parametrize("value", ["bogus", 3], ids=["ValueError-str", "ValueError-int"])
def test_bad_save_backbones(det_i, tmp_path, value):
    _expect("ValueError", "save_backbones", lambda: det_i.save_pretrained(tmp_path / "x", save_backbones=value))


# ------------------------------------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def dcase(tmp_path_factory):
    """One machine in the DCASE layout with **two-channel** 16 kHz clips (as DCASE 2026)."""
    root = tmp_path_factory.mktemp("dcase")
    for split, n in (("train", 10), ("test", 6)):
        folder = root / "pump" / split
        folder.mkdir(parents=True)
        for i, clip in enumerate(synthetic_clips(n, sr=SR, seconds=0.5, seed=20 + n)):
            stem = f"section_00_source_{split}_normal_{i:04d}_a"
            sf.write(str(folder / f"{stem}.wav"), np.stack([clip, 0.5 * clip], axis=1), SR, subtype="PCM_16")
    return root


@pytest.fixture(scope="module")
def cli_model(dcase, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    assert main(["fit", "--data", str(dcase), "--out", str(out), "--quiet", "--rank-norm", "none"]) == 0
    return out


def test_cli_rank_norm_none_is_none(cli_model):
    assert json.loads((cli_model / "detector.json").read_text())["settings"]["rank_norm"] is None


@pytest.mark.parametrize("channel", ["0", "1", "mean"])
def test_cli_scores_stereo_files(cli_model, dcase, tmp_path, channel):
    assert (
        main(
            [
                "score",
                "--model",
                str(cli_model),
                "--data",
                str(dcase),
                "--out",
                str(tmp_path),
                "--quiet",
                "--channel",
                channel,
            ]
        )
        == 0
    )
    values = np.loadtxt(tmp_path / "anomaly_score_pump_section_00_test.csv", delimiter=",", usecols=1)
    assert values.shape == (6,) and np.isfinite(values).all()


CLI_ERRORS = [
    ("fit-checkpoints-without-preset", ["fit", "--checkpoints", "a", "b"], "pass --preset"),
    ("fit-missing-data", ["fit", "--data", "{tmp}/nope"], "DCASE folder not found"),
    ("fit-bad-channel", ["fit", "--channel", "7"], "channel=7 does not exist"),
    ("fit-k-zero", ["fit", "--k", "0"], "k must be >= 1"),
    ("fit-bad-backbone", ["fit", "--backbone", "beats"], "NAME=PATH_OR_HUB_ID"),
    ("fit-removed-preset", ["fit", "--preset", "mef6-ens"], "removed"),
    ("fit-preset-no-beats", ["fit", "--preset", "system3"], "needs backbone weights"),
    ("fit-unknown-machine", ["fit", "--machines", "valve"], "valve"),
    ("score-missing-model", ["score", "--model", "{tmp}/nomodel"], "neither a detector directory"),
    ("score-damaged-model", ["score", "--model", "{damaged}"], "re-save the detector"),
]


@pytest.mark.parametrize(("argv", "match"), [pytest.param(a, m, id=f"exit1-{i}") for i, a, m in CLI_ERRORS])
def test_cli_errors_exit_1_with_a_message(dcase, cli_model, tmp_path, capsys, argv, match):
    damaged = tmp_path / "damaged"
    shutil.copytree(cli_model, damaged)
    (damaged / "detector.json").write_text('{"format": "fisher_asd.detector/1", "streams": [')
    argv = [a.format(tmp=tmp_path, damaged=damaged) for a in argv]
    if "--data" not in argv:
        argv += ["--data", str(dcase)]
    argv += ["--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 1
    assert match in capsys.readouterr().err


def test_cli_checkpoints_mirror_from_preset(dcase, tmp_path, monkeypatch):
    calls = {}
    real_fit = Detector.fit

    def fake_from_preset(cls, name, *, backbones=None, checkpoints=None, **settings):
        calls["preset"] = (name, backbones, checkpoints)
        return Detector(["logstft"], clip_samples=CLIP)

    def spy_fit(self, *args, **kwargs):
        calls["train"] = kwargs.get("train")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(Detector, "from_preset", classmethod(fake_from_preset))
    monkeypatch.setattr(Detector, "fit", spy_fit)
    argv = ["fit", "--data", str(dcase), "--preset", "system3", "--backbone", "beats=/m/b.pt"]
    argv += ["--checkpoints", "s1", "s2", "--out", str(tmp_path / "s3"), "--quiet"]
    assert main(argv) == 0
    assert calls == {"preset": ("system3", {"beats": "/m/b.pt"}, ["s1", "s2"]), "train": False}


@pytest.mark.parametrize(
    ("which", "match"),
    [("absent", "neither a detector directory"), ("untrained", "no trained checkpoint for stream")],
    ids=["exit1-absent-checkpoint", "exit1-untrained-checkpoint"],
)
def test_cli_checkpoints_reach_the_real_loader(dcase, cli_model, tmp_path, capsys, monkeypatch, which, match):
    """``--checkpoints`` folders go through the real :func:`load_checkpoints` (a stand-in preset with one trainable
    ``logstft`` stream, as the real presets need downloadable backbones)."""
    from fisher_asd.detector.assemble import load_checkpoints

    def stand_in(cls, name, *, backbones=None, checkpoints=None, **settings):
        det = Detector([StreamConfig("a", "logstft", head=256)], train_heads=True, clip_samples=CLIP)
        det.streams["a"].ensure_head(SR)  # a head to load (preset MEF streams have theirs from the start)
        load_checkpoints(det, checkpoints)
        return det

    monkeypatch.setattr(Detector, "from_preset", classmethod(stand_in))
    folder = tmp_path / "absent" if which == "absent" else cli_model
    argv = ["fit", "--data", str(dcase), "--preset", "system1", "--checkpoints", str(folder)]
    assert main([*argv, "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert match in capsys.readouterr().err


def test_cli_allow_missing_scope_is_passed(dcase, tmp_path, monkeypatch):
    seen = {}
    real_fit = Detector.fit

    def spy_fit(self, *args, **kwargs):
        seen.update(kwargs)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(Detector, "fit", spy_fit)
    assert main(["fit", "--data", str(dcase), "--out", str(tmp_path / "m"), "--quiet", "--allow-missing-scope"]) == 0
    assert seen["allow_missing_scope"] is True and seen["train"] is True


def test_cli_48khz_files_fit_at_their_rate(tmp_path):
    root = tmp_path / "d48"
    folder = root / "fan" / "train"
    folder.mkdir(parents=True)
    for i, clip in enumerate(synthetic_clips(8, sr=48000, seconds=0.5, seed=1)):
        sf.write(str(folder / f"section_00_source_train_normal_{i:04d}_a.wav"), clip, 48000, subtype="PCM_16")
    assert main(["fit", "--data", str(root), "--out", str(tmp_path / "m"), "--quiet"]) == 0
    assert json.loads((tmp_path / "m" / "detector.json").read_text())["machines"]["fan"]["sr"] == 48000


def test_cli_mixed_rates_are_refused(tmp_path, capsys):
    root = tmp_path / "dmix"
    folder = root / "fan" / "train"
    folder.mkdir(parents=True)
    for i, clip in enumerate(synthetic_clips(8, sr=SR, seconds=0.5, seed=2)):
        rate = 48000 if i == 3 else SR
        sf.write(str(folder / f"section_00_source_train_normal_{i:04d}_a.wav"), clip, rate, subtype="PCM_16")
    assert main(["fit", "--data", str(root), "--out", str(tmp_path / "m"), "--quiet"]) == 1
    assert "different sampling rates" in capsys.readouterr().err
