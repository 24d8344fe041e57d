"""Hostile inputs to the ``fisher`` core (issue 19): every case asserts its specific outcome.

Complements the seeded fuzz of ``tests/test_input_fuzz.py`` (which checks that torch and ONNX take the same decision)
with named, parametrised cases: the one channel rule, the one sampling-rate rule, integer PCM dtypes, non-arrays,
NaN / inf inside files, damaged audio files and damaged model folders, local folders named like registered models,
and unavailable devices. Each case is either a value (shape, equality with a reference path) or an error of a
named type whose message names the problem. Case ids start with the expected outcome. Every case is bounded to 20 s.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import time_limit

from fisher import Fisher, FisherConfig
from fisher.eval.baseline import LogSTFT
from fisher.eval.encoders import FisherEncoder
from fisher.hub.registry import get_record
from fisher.model.bands import spectrogram
from fisher.signals.checks import MAX_CHANNELS, check_not_channels_last, check_sr
from fisher.signals.reader import read_signal

SR = 8000
RNG = np.random.default_rng(19)
CLIP = (0.1 * RNG.standard_normal(4000)).astype(np.float32)  # 0.5 s at 8 kHz


@pytest.fixture(scope="module")
def model() -> Fisher:
    torch.manual_seed(0)
    return Fisher(FisherConfig(embed_dim=32, depth=1, num_heads=2, band_width=100)).eval()


@pytest.fixture(scope="module")
def onnx_model(model, tmp_path_factory):
    """The same model through ONNX Runtime (``None`` without onnxruntime: those cases skip)."""
    try:
        import onnxruntime  # noqa: F401

        from fisher import OnnxFisher, export_onnx
    except ImportError:
        return None
    return OnnxFisher(export_onnx(model, tmp_path_factory.mktemp("onnx") / "m.onnx"), threads=1)


@pytest.fixture(autouse=True)
def _time_limit(model, onnx_model):
    """Fail any case whose own work runs longer than 20 s (the shared models are built before the clock starts)."""
    with time_limit(20, "hostile-input case"):
        yield


def _entry(name: str, model, request):
    """One embedding entry point as ``f(wave, sr)``."""
    if name == "embed":
        return model.embed
    if name == "onnx":
        onnx = request.getfixturevalue("onnx_model")
        if onnx is None:
            pytest.skip("onnxruntime is not installed")
        return onnx.embed
    if name == "encoder":
        return FisherEncoder(model, pool="mean").embed
    if name == "logstft":
        return LogSTFT().embed
    if name == "spectrogram":
        return spectrogram
    raise AssertionError(name)


ENTRIES = ["embed", "onnx", "encoder", "logstft"]

# ---------------------------------------------------------------- 1. the one channel rule
CHANNELS_LAST = [(frames, ch) for frames in (3000, 16000, 160000) for ch in range(1, MAX_CHANNELS + 1)]


@pytest.mark.parametrize("entry", ENTRIES + ["torch", "spectrogram"])
@pytest.mark.parametrize("shape", CHANNELS_LAST, ids=lambda s: f"ValueError-{s[0]}x{s[1]}")
def test_channels_last_is_refused_with_the_fixes(model, request, entry, shape):
    x = np.zeros(shape, np.float32)
    if entry == "torch":
        fn, x = model.embed, torch.from_numpy(x)
    else:
        fn = _entry(entry, model, request)
    with pytest.raises(ValueError, match=r"looks like \(frames, channels\)") as err:
        fn(x, SR)
    msg = str(err.value)
    assert f"shape {shape}" in msg and "x[:, 0]" in msg and "x.mean(axis=1)" in msg and "x.T" in msg
    assert "STFT frames" not in msg  # never the too-short-clip error of 2-sample "clips"


@pytest.mark.parametrize("shape", CHANNELS_LAST[:8], ids=lambda s: f"ValueError-list-{s[0]}x{s[1]}")
def test_channels_last_inside_a_list(model, shape):
    with pytest.raises(ValueError, match=r"clip 1 has shape .* looks like \(frames, channels\)"):
        model.embed([CLIP, np.zeros(shape, np.float32)], SR)


@pytest.mark.parametrize("shape", [(1, 4000), (2, 4000), (8, 4000), (9, 4000), (2, 3000)], ids=lambda s: f"value-{s}")
@pytest.mark.parametrize("entry", ENTRIES)
def test_channels_first_is_a_batch(model, request, entry, shape):
    x = (0.1 * np.random.default_rng(shape[0]).standard_normal(shape)).astype(np.float32)
    fn = _entry(entry, model, request)
    out = fn(x, SR)
    assert out.shape[0] == shape[0] and np.isfinite(out).all()
    np.testing.assert_allclose(out[-1], fn(x[-1], SR), rtol=0, atol=1e-5)  # a row embeds as that clip alone


@pytest.mark.parametrize("shape", [(4000, 9), (4000, 16), (20, 9)], ids=lambda s: f"ValueError-{s}")
def test_more_than_max_channels_is_read_as_clips_too_short(model, shape):
    check_not_channels_last(shape)  # not the channel rule's business
    with pytest.raises(ValueError, match=r"clip 0 has \d+ samples .* at least 16 STFT frames"):
        model.embed(np.zeros(shape, np.float32), SR)


@pytest.mark.parametrize("shape", [(3, 2), (9, 8), (2, 1), (100000, 1)], ids=lambda s: f"ValueError-helper-{s}")
def test_helper_names_where(shape):
    with pytest.raises(ValueError, match=rf"^signals has shape \({shape[0]}, {shape[1]}\)"):
        check_not_channels_last(shape, "signals")


@pytest.mark.parametrize("shape", [(2, 2), (8, 9), (1, 1), (4000,), (2, 3, 4)], ids=lambda s: f"value-helper-{s}")
def test_helper_passes_other_shapes(shape):
    assert check_not_channels_last(shape) is None


# ---------------------------------------------------------------- 3. the one sampling-rate rule
BAD_SR = [
    (44100.5, ValueError, "whole number of Hz"),
    (16000.25, ValueError, "whole number of Hz"),
    (0.5, ValueError, "whole number of Hz"),
    (0, ValueError, "positive finite"),
    (-1, ValueError, "positive finite"),
    (float("nan"), ValueError, "positive finite"),
    (float("inf"), ValueError, "positive finite"),
    (True, TypeError, "positive number in Hz"),
    ("16000", TypeError, "positive number in Hz"),
    (None, TypeError, "positive number in Hz"),
    ([16000], TypeError, "positive number in Hz"),
]
SR_ENTRIES = ENTRIES + ["spectrogram", "embedding_dim", "logstft_dim", "num_bands", "embed_file", "check_sr"]


@pytest.mark.parametrize("entry", SR_ENTRIES)
@pytest.mark.parametrize("sr,exc,words", BAD_SR, ids=[f"{e.__name__}-sr={s!r}" for s, e, _ in BAD_SR])
def test_bad_sampling_rate_everywhere(model, request, tmp_path, entry, sr, exc, words):
    calls = {
        "embedding_dim": lambda: model.embedding_dim(sr),
        "logstft_dim": lambda: LogSTFT().embedding_dim(sr),
        "num_bands": lambda: model.num_bands(sr),
        "check_sr": lambda: check_sr(sr),
    }
    if entry == "embed_file":
        if sr is None:  # sr=None means "the file states it": an .npy states none
            exc, words = ValueError, r"x\.npy: the file stores no sampling rate; pass sr="
        np.save(tmp_path / "x.npy", CLIP)
        call = lambda: model.embed_file(tmp_path / "x.npy", sr=sr)
    elif entry in calls:
        call = calls[entry]
    else:
        fn = _entry(entry, model, request)
        call = lambda: fn(CLIP, sr)
    with pytest.raises(exc, match=words):
        call()


# ---------------------------------------------------------------- 6. integer PCM dtypes
GOOD_PCM = {"int16": 2**15, "int32": 2**31}
BAD_INT = ["int8", "int64", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("dtype", list(GOOD_PCM) + ["uint8"], ids=lambda d: f"value-{d}")
def test_pcm_dtypes_scale_by_full_scale(model, request, entry, dtype):
    info = np.iinfo(dtype)
    pcm = np.clip(CLIP * info.max + (128 if dtype == "uint8" else 0), info.min, info.max).astype(dtype)
    ref = (pcm.astype(np.float64) / GOOD_PCM[dtype]) if dtype in GOOD_PCM else (pcm.astype(np.float32) - 128) / 128
    fn = _entry(entry, model, request)
    np.testing.assert_array_equal(fn(pcm, SR), fn(ref.astype(np.float32), SR))


@pytest.mark.parametrize("entry", ENTRIES + ["list"])
@pytest.mark.parametrize("dtype", BAD_INT, ids=lambda d: f"TypeError-{d}")
def test_other_integer_dtypes_are_refused(model, request, entry, dtype):
    x = np.zeros(4000, dtype)
    fn = model.embed if entry == "list" else _entry(entry, model, request)
    with pytest.raises(TypeError, match=rf"{dtype} is not an accepted PCM format.*int16.*int32.*uint8.*astype"):
        fn([CLIP, x] if entry == "list" else x, SR)


# ---------------------------------------------------------------- 6. things that are not waveforms
NOT_WAVES = [
    (Path("clip.wav"), r"got pathlib\..*Path; to embed a file use model\.embed_file"),
    ("clip.wav", "got str; to embed a file"),
    (b"RIFF", "got bytes; to embed a file"),
    (None, "got NoneType"),
    ({"wave": CLIP}, "got dict"),
    ({1.0, 2.0}, "got set"),
    (object(), "got object"),
    (True, "got bool"),
]


@pytest.mark.parametrize("entry", ENTRIES + ["list", "spectrogram"])
@pytest.mark.parametrize("wave,words", NOT_WAVES, ids=[f"TypeError-{type(w).__name__}" for w, _ in NOT_WAVES])
def test_non_waveforms_name_their_type(model, request, entry, wave, words):
    if entry == "list":
        if isinstance(wave, bool):
            pytest.skip("a list with a bool is a ragged list, covered by test_input_fuzz")
        fn, wave, words = model.embed, [CLIP, wave], "clip 1 must be a 1-D numpy array.*" + words
    else:
        fn, words = _entry(entry, model, request), "1-D/2-D numpy array, torch tensor or list of 1-D arrays, " + words
    with pytest.raises(TypeError, match=words):
        fn(wave, SR)


@pytest.mark.parametrize("device", ["cuda:7", "cuda", "mps", "no-such-device"], ids=lambda d: f"ValueError-{d}")
@pytest.mark.parametrize("where", ["embed", "from_pretrained"])
def test_unavailable_device(model, tmp_path, device, where):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    words = "CUDA is not available" if device.startswith("cuda") else "available here: \\['cpu'"
    with pytest.raises(ValueError, match=rf"device '{device}'.*{words}"):
        if where == "embed":
            model.embed(CLIP, SR, device=device)
        else:
            Fisher.from_pretrained(model.save_pretrained(tmp_path / "m"), device=device)


# ---------------------------------------------------------------- 2. NaN / inf inside files
def _write(path: Path, x: np.ndarray) -> Path:
    if path.suffix == ".wav":
        sf.write(path, x, SR, subtype="FLOAT")
    elif path.suffix == ".npy":
        np.save(path, x)
    else:
        np.savez(path, x=x, fs=np.float64(SR))
    return path


NAN_CASES = [
    (fmt, pos, val) for fmt in (".wav", ".npy", ".npz") for pos in (0, 1, 2999, 3999) for val in ("nan", "inf")
]


@pytest.mark.parametrize("api", ["embed_file", "iter_file_windows"])
@pytest.mark.parametrize("fmt,pos,val", NAN_CASES, ids=[f"ValueError-{f[1:]}-{p}-{v}" for f, p, v in NAN_CASES])
def test_non_finite_samples_in_files(model, tmp_path, api, fmt, pos, val):
    x = CLIP.copy()
    x[pos] = float(val)
    path = _write(tmp_path / f"bad{fmt}", x)
    kwargs = {} if fmt != ".npy" else {"sr": SR}
    with pytest.raises(ValueError, match=rf"bad\{fmt} \(channel 0\) contains NaN or infinite.*first at sample {pos} "):
        if api == "embed_file":
            model.embed_file(path, **kwargs)
        else:
            next(model.iter_file_windows(path, **kwargs))


def test_non_finite_sample_beyond_the_first_block(model, tmp_path):
    x = np.zeros((1 << 20) + 5000, np.float32)
    x[(1 << 20) + 7] = np.nan
    with pytest.raises(ValueError, match=rf"first at sample {(1 << 20) + 7} \(131\.073 s\)"):
        model.embed_file(_write(tmp_path / "long.npy", x), sr=SR)


@pytest.mark.parametrize("fmt", [".wav", ".npy", ".npz", ".flac"], ids=lambda f: f"value-{f[1:]}")
def test_clean_files_embed_like_the_array(model, tmp_path, fmt):
    path = tmp_path / f"ok{fmt}"
    if fmt == ".flac":
        sf.write(path, CLIP, SR, subtype="PCM_16")
        ref, _ = sf.read(path, dtype="float32")
    else:
        _write(path, CLIP)
        ref = CLIP
    got = model.embed_file(path, sr=SR if fmt == ".npy" else None)
    np.testing.assert_allclose(got.embedding, model.embed(ref, SR), rtol=0, atol=1e-5)


# ---------------------------------------------------------------- 5. damaged audio files
def _audio_bytes(tmp_path: Path, fmt: str, channels: int = 1) -> bytes:
    x = np.tile(CLIP[:, None], (4, channels)) if channels > 1 else np.tile(CLIP, 4)
    sf.write(tmp_path / f"src.{fmt}", x, SR)
    return (tmp_path / f"src.{fmt}").read_bytes()


@pytest.mark.parametrize("reader", ["read_signal", "embed_file"])
@pytest.mark.parametrize("fmt,keep", [("flac", 0.5), ("flac", 0.2), ("ogg", 0.3), ("ogg", 0.05)])
def test_truncated_compressed_audio_names_the_file(model, tmp_path, reader, fmt, keep):
    raw = _audio_bytes(tmp_path, fmt)
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(raw[: int(len(raw) * keep)])
    fn = read_signal if reader == "read_signal" else model.embed_file
    with pytest.raises(ValueError, match=rf"cut\.{fmt}") as err:
        fn(path)
    assert any(w in str(err.value) for w in ("truncated", "cannot read", "empty", "0 samples")), err.value


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9], ids=lambda k: f"warning-wav-{k}")
@pytest.mark.parametrize("channels", [1, 2])
def test_truncated_wav_warns_with_both_counts(tmp_path, keep, channels):
    raw = _audio_bytes(tmp_path, "wav", channels)
    path = tmp_path / "cut.wav"
    path.write_bytes(raw[: int(len(raw) * keep)])
    held = sf.info(path).frames
    with pytest.warns(
        UserWarning, match=rf"cut\.wav: the WAV header declares 16000 frames but the file holds only {held}"
    ):
        x, _ = read_signal(path, channel=0)
    assert x.shape == (held,)


def test_intact_wav_does_not_warn(tmp_path):
    path = tmp_path / "ok.wav"
    path.write_bytes(_audio_bytes(tmp_path, "wav"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_signal(path)[0].shape == (16000,)


GARBAGE = [
    ("noise.wav", b"RIFF\x00\x00garbage" * 10, ValueError, "cannot read audio file"),
    ("empty.wav", b"", ValueError, "cannot read audio file"),
    ("text.flac", b"not audio at all", ValueError, "cannot read audio file"),
    ("cut.npy", None, ValueError, "cannot read signal file"),
    ("bad.npz", b"PK\x03\x04 broken zip", ValueError, "cannot read signal file"),
    ("clip.mp3", b"ID3", ValueError, "unsupported signal format"),
    ("ints.npy", "int64", TypeError, "int64 is not an accepted PCM format"),
]


@pytest.mark.parametrize("name,content,exc,words", GARBAGE, ids=[f"{e.__name__}-{n}" for n, _, e, _ in GARBAGE])
@pytest.mark.parametrize("reader", ["read_signal", "embed_file"])
def test_garbage_files(model, tmp_path, reader, name, content, exc, words):
    path = tmp_path / name
    if name == "cut.npy":
        np.save(path, CLIP)
        path.write_bytes(path.read_bytes()[:100])
    elif content == "int64":
        np.save(path, np.zeros(4000, np.int64))
    else:
        path.write_bytes(content)
    fn = (lambda p: read_signal(p, sr=SR)) if reader == "read_signal" else (lambda p: model.embed_file(p, sr=SR))
    with pytest.raises(exc, match=words) as err:
        fn(path)
    assert name in str(err.value)


# ---------------------------------------------------------------- 4, 5. model folders
@pytest.fixture
def saved(model, tmp_path) -> Path:
    return model.save_pretrained(tmp_path / "saved")


@pytest.mark.parametrize("cut", [1, 10, 40, -30, -2], ids=lambda c: f"ValueError-config-cut{c}")
def test_truncated_config_json(saved, cut):
    text = (saved / "config.json").read_text()
    (saved / "config.json").write_text(text[:cut])
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON \(line \d+ col \d+.*truncated.*re-download"):
        Fisher.from_pretrained(saved)


@pytest.mark.parametrize(
    "content,words",
    [("[1, 2]", "must hold a JSON object, got a list"), ('"x"', "got a str"), ("\udcff", "not valid JSON|not UTF-8")],
    ids=["ValueError-list", "ValueError-str", "ValueError-binary"],
)
def test_config_json_of_the_wrong_kind(saved, content, words):
    (saved / "config.json").write_bytes(b"\xff\xfe\x00" if content == "\udcff" else content.encode())
    with pytest.raises(ValueError, match=words):
        Fisher.from_pretrained(saved)


def test_config_json_with_unknown_keys(saved):
    (saved / "config.json").write_text('{"model_type": "fisher", "embed_dim": 32, "depth": 1, "nope": 3}')
    with pytest.raises(ValueError, match=r"config\.json does not describe a FISHER model: unknown FisherConfig keys"):
        Fisher.from_pretrained(saved)


@pytest.mark.parametrize("keep", [0, 7, 100, 0.5, 0.99], ids=lambda k: f"ValueError-safetensors-{k}")
def test_truncated_safetensors(saved, keep):
    raw = (saved / "model.safetensors").read_bytes()
    n = int(len(raw) * keep) if isinstance(keep, float) else keep
    (saved / "model.safetensors").write_bytes(raw[:n])
    with pytest.raises(
        ValueError, match=rf"model\.safetensors \({n} bytes\) is not a readable safetensors file.*truncated"
    ):
        Fisher.from_pretrained(saved)


@pytest.mark.parametrize(
    "files,missing",
    [((), "config.json and model.safetensors"), (("config.json",), "model.safetensors"), (("notes.txt",), "config")],
    ids=["FileNotFoundError-empty", "FileNotFoundError-config-only", "FileNotFoundError-other"],
)
@pytest.mark.parametrize("spelling", ["dot", "absolute", "Path"])
def test_explicit_folder_that_is_no_model(tmp_path, monkeypatch, files, missing, spelling):
    folder = tmp_path / "demo"
    folder.mkdir()
    for f in files:
        (folder / f).write_text("{}")
    monkeypatch.chdir(tmp_path)
    ref = {"dot": "./demo", "absolute": str(folder), "Path": Path("demo")}[spelling]
    with pytest.raises(FileNotFoundError, match=rf"holds no FISHER weights.*missing {missing}"):
        Fisher.from_pretrained(ref)


@pytest.mark.parametrize("content", ["empty", "config-only", "text-file"], ids=lambda c: f"value-demo-{c}")
def test_a_non_model_folder_never_shadows_a_registered_name(tmp_path, monkeypatch, content):
    (tmp_path / "demo").mkdir()
    if content != "empty":
        (tmp_path / "demo" / ("config.json" if content == "config-only" else "a.txt")).write_text("{}")
    monkeypatch.chdir(tmp_path)
    loaded = Fisher.from_pretrained("demo")
    assert loaded.config.embed_dim == get_record("demo").config.embed_dim == 128


def test_a_saved_model_folder_shadows_with_a_log_message(model, tmp_path, monkeypatch, caplog):
    model.save_pretrained(tmp_path / "demo")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO, logger="fisher"):
        loaded = Fisher.from_pretrained("demo")
    assert loaded.config.embed_dim == 32
    assert any("shadows the registered model 'demo'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("name", ["tiny", "small"], ids=lambda n: f"FileNotFoundError-{n}")
def test_empty_folder_named_like_a_hub_model_goes_to_the_hub(tmp_path, monkeypatch, name):
    (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="not in the local Hugging Face cache"):
        Fisher.from_pretrained(name, cache_dir=tmp_path / "hf", local_files_only=True)
