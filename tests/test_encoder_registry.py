"""One encoder registry (``fisher.eval.encoder_registry``) for RMIS, ``fisher_asd`` and the CLIs; stream kinds as types.

Weight-free or tiny random encoders only; no network.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import numpy as np
import pytest

import fisher.eval.encoder_registry as registry
import fisher.eval.encoders as eval_encoders
import fisher_asd.encoders as asd_encoders
import fisher_asd.encoders.registry as asd_registry
from fisher.eval.baseline import LogSTFT
from fisher.eval.encoder_registry import (
    EncoderEntry,
    UnknownEncoderError,
    available_encoders,
    create_encoder,
    encoder_entry,
    list_encoders,
    register_encoder,
    unregister_encoder,
)
from fisher.eval.encoders import resolve_encoder
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
FISHER_NAMES = {"fisher", "logstft", "random-tiny", "random-mini", "random-small"}
ASD_NAMES = {"ast", "beats", "clap", "wavlm"}


class Constant:
    """A minimal user encoder (the five protocol members)."""

    name, sample_rate, dim = "const", 8000, 3

    def __init__(self, value: float = 1.0) -> None:
        self.value = value

    def embedding_dim(self, sr: float) -> int:
        return 3

    def embed(self, waves, sr, *, batch_size: int = 8):
        return np.full((len(waves), 3), self.value, np.float32)


@pytest.fixture
def user_name():
    """A registry name that is removed again after the test."""
    name = "test-const"
    yield name
    if name in available_encoders():
        unregister_encoder(name)


def test_old_paths_are_the_same_functions_on_one_table():
    for module in (asd_encoders, asd_registry, eval_encoders):
        for fn in ("available_encoders", "create_encoder", "register_encoder", "unregister_encoder", "list_encoders"):
            assert getattr(module, fn) is getattr(registry, fn), (module.__name__, fn)
    from fisher.eval.rmis import resolve_encoder as rmis_resolve
    from fisher_asd.encoders import Encoder, FisherEncoder
    from fisher_asd.encoders import EncoderEntry as AsdEntry

    assert rmis_resolve is resolve_encoder and AsdEntry is EncoderEntry
    assert Encoder is eval_encoders.Encoder and FisherEncoder is eval_encoders.FisherEncoder


def test_builtins_and_metadata():
    assert set(available_encoders()) >= FISHER_NAMES | ASD_NAMES
    entries = list_encoders()
    assert [e.name for e in entries] == available_encoders() and all(isinstance(e, EncoderEntry) for e in entries)
    assert {e.name for e in list_encoders(source="fisher")} == FISHER_NAMES
    assert {e.name for e in list_encoders(source="fisher_asd")} == ASD_NAMES
    rates = {e.name: e.sample_rate for e in entries}
    assert rates["beats"] == rates["wavlm"] == rates["ast"] == 16000 and rates["clap"] == 48000
    assert rates["logstft"] is rates["fisher"] is None  # any input rate
    extras = {e.name: e.needs_extra for e in entries}
    assert extras["clap"] == extras["wavlm"] == extras["ast"] == "asd" and extras["beats"] is extras["fisher"] is None
    from fisher.compute.precision import PRECISIONS

    assert encoder_entry("FISHER").precisions == encoder_entry("random-tiny").precisions == PRECISIONS
    assert encoder_entry("logstft").precisions == ("fp32",) and all(e.description for e in entries)
    assert dict(encoder_entry("fisher").rmis_options) == {"long": "truncate", "pad_frames": True}


def test_unknown_name_lists_known_names():
    for call in (lambda: create_encoder("nope"), lambda: encoder_entry("nope")):
        with pytest.raises(ValueError, match=r"unknown encoder 'nope'; available: .*beats.*logstft") as err:
            call()
        assert isinstance(err.value, KeyError) and isinstance(err.value, UnknownEncoderError)  # the old KeyError
        assert str(err.value).startswith("unknown encoder")  # not quoted like a plain KeyError
    with pytest.raises(KeyError, match="not registered"):
        unregister_encoder("nope")


def test_duplicate_registration_and_metadata_of_user_entries(user_name):
    register_encoder(user_name, Constant, description="constant vectors")
    entry = encoder_entry(user_name)
    assert (entry.source, entry.sample_rate, entry.description, entry.is_instance) == (
        "user",
        8000,
        "constant vectors",
        False,
    )
    with pytest.raises(ValueError, match="already registered"):
        register_encoder(user_name, Constant)
    with pytest.raises(ValueError, match="already registered"):
        register_encoder("logstft", Constant)  # built-ins too, unless overwrite=True
    register_encoder(user_name, Constant(5.0), overwrite=True)
    assert encoder_entry(user_name).is_instance and create_encoder(user_name).value == 5.0

    @register_encoder(user_name + "-deco", sample_rate=16000)
    def make(value: float = 2.0) -> Constant:
        return Constant(value)

    try:
        assert make(3.0).value == 3.0  # the decorator returns the factory
        assert encoder_entry(user_name + "-deco").sample_rate == 16000
    finally:
        unregister_encoder(user_name + "-deco")


def test_registered_through_fisher_asd_resolves_through_fisher(user_name):
    asd_encoders.register_encoder(user_name, Constant(4.0))
    enc = resolve_encoder(user_name)  # the RMIS / `fisher rmis --encoder` path
    assert isinstance(enc, Constant) and enc.value == 4.0
    assert user_name in eval_encoders.available_encoders()
    with pytest.raises(ValueError, match="no reduced-precision variant"):
        resolve_encoder(user_name + "@bf16")
    unregister_encoder(user_name)
    assert user_name not in asd_encoders.available_encoders()


def test_registered_through_fisher_builds_through_fisher_asd(user_name):
    from fisher_asd.detector.stream import FrozenStream, build_streams
    from fisher_asd.detector.stream_config import StreamConfig

    registry.register_encoder(user_name, Constant)
    assert asd_encoders.create_encoder(user_name.upper(), value=2.0).value == 2.0
    streams, encoders = build_streams([StreamConfig(user_name, user_name, options={"value": 3.0})])
    assert type(streams[user_name]) is FrozenStream and next(iter(encoders.values())).value == 3.0


def test_resolve_and_create_share_the_fisher_builtins():
    assert isinstance(resolve_encoder("logstft"), LogSTFT) and isinstance(create_encoder("LogSTFT"), LogSTFT)
    with pytest.raises(ValueError, match="the logstft baseline has no reduced-precision variant"):
        resolve_encoder("logstft@int8")
    with pytest.raises(ValueError, match="beats needs checkpoint="):  # fisher_asd's entry, reached from fisher
        resolve_encoder("beats")
    with pytest.raises(ValueError, match="unknown FISHER scale"):
        resolve_encoder("random-huge")


def test_fisher_never_imports_fisher_asd_or_transformers():
    code = (
        "import sys\n"
        "import fisher.eval.encoder_registry as r, fisher.eval.rmis, fisher.cli.rmis\n"
        "names = r.available_encoders()\n"
        "assert 'fisher_asd' not in sys.modules and 'transformers' not in sys.modules, 'imported'\n"
        "r.register_encoder('beats', lambda **kw: None, description='mine')  # a user took the name first\n"
        "import fisher_asd.encoders\n"
        "print(','.join(names), r.encoder_entry('beats').description, r.encoder_entry('clap').source)\n"
    )
    run = run_python(code, cwd=ROOT.parent)
    assert run.returncode == 0, run.stderr
    names, beats, clap = run.stdout.split()
    assert set(names.split(",")) == FISHER_NAMES and (beats, clap) == ("mine", "fisher_asd")
    for path in (ROOT / "fisher").rglob("*.py"):  # not even lazily
        assert "fisher_asd" not in "".join(
            line for line in path.read_text().splitlines() if line.lstrip().startswith(("import ", "from "))
        ), path


def test_fisher_rmis_help_lists_the_registry(capsys):
    from fisher.cli import main

    with pytest.raises(SystemExit):
        main(["rmis", "ad", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "logstft | random-mini" in out and "@bf16" in out


# ---------------------------------------------------------------------------------------------- stream kinds
def test_stream_kinds_are_types():
    from fisher_asd.detector.presets import preset
    from fisher_asd.detector.stream import (
        STREAM_TYPES,
        DetectorStream,
        FrozenStream,
        HeadStream,
        MEFStream,
        build_streams,
    )
    from fisher_asd.detector.stream_config import StreamConfig, StreamKind
    from tests.asd_tiny import tiny_beats

    mef = [c for c in preset("system1").stream_configs() if c.encoder == "beats"]  # beats_r16, beats_r32 (LoRA)
    configs = [StreamConfig("logstft", "logstft"), StreamConfig("logstft_head", "logstft", head=8), *mef]
    streams, encoders = build_streams(configs, backbones={"beats": tiny_beats()})
    kinds = {n: type(s) for n, s in streams.items()}
    assert kinds == {
        "logstft": FrozenStream,
        "logstft_head": HeadStream,
        "beats_r16": MEFStream,
        "beats_r32": MEFStream,
    }
    assert [c.kind for c in configs] == [StreamKind.FROZEN, StreamKind.HEAD, StreamKind.MEF, StreamKind.MEF]
    assert all(isinstance(s, DetectorStream) and STREAM_TYPES[s.config.kind] is type(s) for s in streams.values())
    assert len(encoders) == 2  # one logstft shared by two streams, one BEATs shared by the two MEF streams
    frozen, head, r16 = streams["logstft"], streams["logstft_head"], streams["beats_r16"]
    assert not frozen.trainable_parameters() and not frozen.needs_head
    assert head.needs_head and not head.trainable_parameters()
    head.ensure_head(16000)
    assert not head.needs_head and set(head.trainable_state()) == {"head.linear.weight", "head.linear.bias"}
    assert r16.trainable_parameters() and all(k.startswith("mef.") for k in r16.trainable_state())
    assert r16.mef.adapted and frozen.mef is None  # .mef kept for older code
    x = np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32)
    import torch

    clips = list(torch.from_numpy(x))
    assert frozen.embed(clips, 16000).shape[0] == head.embed(clips, 16000).shape[0] == 2
    assert type(copy.deepcopy(head)) is HeadStream
    # DetectorStream(...) picks the class; a kind class refuses a config of another kind
    assert type(DetectorStream(StreamConfig("h", "logstft", head=4), LogSTFT())) is HeadStream
    with pytest.raises(ValueError, match="is a head stream, not frozen"):
        FrozenStream(StreamConfig("h", "logstft", head=4), LogSTFT())


def test_no_kind_probes_left():
    from fisher_asd.detector import stream, train

    for module in (stream, train):
        src = inspect.getsource(module)
        assert "hasattr(" not in src and "mef is not None" not in src and "mef is None" not in src, module.__name__
    body = max(
        len(inspect.getsource(f).splitlines())
        for f in vars(train).values()
        if inspect.isfunction(f) and f.__module__ == train.__name__
    )
    assert body <= 50
