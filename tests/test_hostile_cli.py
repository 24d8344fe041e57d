"""Hostile input for the ``fisher`` command line (issue 19): every case states its exact outcome.

Groups: (1) bad numeric option values of every command — exit 2 from argparse, naming the option and the problem;
(2) boundary values that must parse; (3) output paths that cannot be written or have a wrong suffix — exit 1 before
any work; (4) ``fisher demo --data`` folders that are empty, one-class, unreadable or mixed-rate; (5) ``dcase-eval`` /
``rmis ad`` with names of another year; (6) a few real runs (tiny and fast). Each case runs under a 30 s alarm.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import time_limit

from fisher.cli import build_parser, main
from fisher.clikit import limits as L
from fisher.signals.synth import bearing_signal

FAST = ["--random-init", "--rates", "16000", "--clips", "2", "--seconds", "0.5"]


@pytest.fixture(autouse=True)
def _time_limit():
    with time_limit(30, "hostile CLI case"):
        yield


def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``fisher argv`` in-process; argparse's ``SystemExit`` becomes the code."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------------------------------------------------
# (1) bad numeric values: (command prefix, option, kind, lo, hi)
INT_OPTIONS = [
    (["demo"], "--clips", L.MIN_CLIPS, L.MAX_CLIPS),
    (["demo"], "--seed", 0, L.MAX_SEED),
    (["rmis", "ad", "--year=2024"], "--k", 1, L.MAX_K),
    (["rmis", "fd", "m.csv"], "--runs", 1, L.MAX_RUNS),
    (["rmis", "fd", "m.csv"], "--seed", 0, L.MAX_SEED),
    (["rmis", "fd", "m.csv"], "--k", 1, L.MAX_K),
    (["pretrain"], "--steps", 1, L.MAX_STEPS),
    (["pretrain"], "--until", 0, L.MAX_STEPS),
    (["bench"], "--batch", 1, L.MAX_BENCH_BATCH),
    (["bench"], "--threads", 1, L.MAX_THREADS),
    (["bench"], "--sr", L.MIN_RATE, L.MAX_RATE),
]
YEAR_OPTIONS = [(["dcase-eval", "scores"], "--year"), (["rmis", "ad"], "--year")]
FLOAT_OPTIONS = [
    (["demo"], "--seconds", L.MIN_SECONDS, L.MAX_SECONDS, False),
    (["demo"], "--snr-db", -L.MAX_SNR_DB, L.MAX_SNR_DB, False),
    (["dcase-eval", "scores", "--year=2024"], "--max-fpr", 0.0, 1.0, True),
    (["rmis", "ad", "--year=2024"], "--window", L.MIN_SECONDS, L.MAX_SECONDS, False),
    (["rmis", "fd", "m.csv"], "--window", L.MIN_SECONDS, L.MAX_SECONDS, False),
    (["rmis", "fd", "m.csv"], "--segment", L.MIN_SECONDS, L.MAX_SECONDS, False),
    (["rmis", "fd", "m.csv"], "--resample", float(L.MIN_RATE), float(L.MAX_RATE), False),
    (["bench"], "--seconds", L.MIN_SECONDS, L.MAX_SECONDS, False),
    (["bench"], "--budget", L.MIN_BUDGET, L.MAX_BUDGET, False),
]
FRACTION_OPTIONS = [(["demo"], "--bank-fraction"), (["rmis", "fd", "m.csv"], "--test-size")]


def _int_cases():
    for prefix, opt, lo, hi in INT_OPTIONS:
        yield prefix, opt, str(lo - 1), "below the supported minimum"
        yield prefix, opt, str(lo - 1000), "below the supported minimum"
        yield prefix, opt, str(hi + 1), "above the supported maximum"
        yield prefix, opt, "1" + "0" * 30, "above the supported maximum"
        for text in ("abc", "1.5", "nan", "inf", "", "1e3", "0x10"):
            yield prefix, opt, text, "is not a whole number"
    for prefix, opt in YEAR_OPTIONS:
        for text in ("2019", "2027", "-2024", "0", "99999"):
            yield prefix, opt, text, "2020..2026"
        for text in ("abc", "20.24", "nan", "", "twenty"):
            yield prefix, opt, text, "is not a whole number"


def _float_cases():
    for prefix, opt, lo, hi, open_lo in FLOAT_OPTIONS:
        yield prefix, opt, repr(lo) if open_lo else repr(lo - 0.01), "must be above" if open_lo else "below the"
        yield prefix, opt, "-1e308", "must be above" if open_lo else "below the supported minimum"
        yield prefix, opt, repr(hi * 10 + 1), "above the supported maximum"
        yield prefix, opt, "1e300", "above the supported maximum"
        for text in ("nan", "inf", "-inf", "1e400", "NaN"):
            yield prefix, opt, text, "not a finite number"
        for text in ("abc", "", "1,5", "ten"):
            yield prefix, opt, text, "is not a number"
    for prefix, opt in FRACTION_OPTIONS:
        for text in ("0", "1", "-0.5", "1.5", "1e9"):
            yield prefix, opt, text, "not strictly between 0 and 1"
        for text in ("nan", "inf"):
            yield prefix, opt, text, "not a finite number"
        for text in ("abc", "", "half"):
            yield prefix, opt, text, "is not a number"


RATE_CASES = [
    ("1000000000", "1000000000 Hz is above the supported maximum 384000 Hz"),
    ("384001", "above the supported maximum 384000 Hz"),
    ("1e12", "above the supported maximum"),
    ("999", "below the supported minimum 1000 Hz"),
    ("0", "below the supported minimum"),
    ("-16000", "below the supported minimum"),
    ("16000,-8000", "below the supported minimum"),
    ("16000.5", "not a whole number of Hz"),
    ("44100.25", "not a whole number of Hz"),
    ("nan", "not a finite number"),
    ("inf", "not a finite number"),
    ("16000,nan", "not a finite number"),
    ("abc", "is not a number"),
    ("16000,abc", "is not a number"),
    ("16k", "is not a number"),
    ("16000;8000", "is not a number"),
    ("", "at least one sampling rate"),
    (" , ,", "at least one sampling rate"),
    ("16000,16000", "listed more than once"),
    ("8000,16000,8000.0", "listed more than once"),
    (",".join(str(1000 * (i + 1)) for i in range(9)), "at most 8"),
    (",".join(["16000"] * 50), "at most 8"),
]
CHANNEL_CASES = [
    (["demo"], "-1", "outside 0..1023"),
    (["demo"], "1024", "outside 0..1023"),
    (["demo"], "99999999999", "outside 0..1023"),
    (["demo"], "", "empty channel"),
    (["demo"], "   ", "empty channel"),
    (["rmis", "ad", "--year=2024"], "-3", "outside 0..1023"),
    (["rmis", "ad", "--year=2024"], "5000", "outside 0..1023"),
    (["rmis", "ad", "--year=2024"], "", "empty channel"),
]

BAD_VALUES = [*_int_cases(), *_float_cases()]
BAD_VALUES += [(["demo"], "--rates", text, words) for text, words in RATE_CASES]
BAD_VALUES += [(prefix, "--channel", text, words) for prefix, text, words in CHANNEL_CASES]


@pytest.mark.parametrize(
    "prefix, option, value, words", BAD_VALUES, ids=[f"{' '.join(c[0][:2])} {c[1]}={c[2]!r}" for c in BAD_VALUES]
)
def test_bad_numeric_value_is_refused_by_the_parser(capsys, prefix, option, value, words):
    code, out, err = run_cli(capsys, [*prefix, f"{option}={value}"])
    assert code == 2 and out == ""
    assert f"argument {option}:" in err and words in err, err


# --------------------------------------------------------------------------------------------------------------------
# (2) boundary values parse to the right value
def _edges():
    for prefix, opt, lo, hi in INT_OPTIONS:
        yield prefix, opt, str(lo), lo
        yield prefix, opt, str(hi), hi
    for prefix, opt, lo, hi, open_lo in FLOAT_OPTIONS:
        yield prefix, opt, repr(lo + 1e-6 if open_lo else lo), lo + 1e-6 if open_lo else lo
        yield prefix, opt, repr(hi), hi
    for prefix, opt in YEAR_OPTIONS:
        yield prefix, opt, "2020", 2020
        yield prefix, opt, "2026", 2026
    for prefix, opt in FRACTION_OPTIONS:
        yield prefix, opt, "0.001", 0.001
        yield prefix, opt, "0.999", 0.999
    yield ["demo"], "--rates", "1000", [1000.0]
    yield ["demo"], "--rates", "384000", [384000.0]
    yield ["demo"], "--rates", " 8000, 16000 ,48000 ", [8000.0, 16000.0, 48000.0]
    yield ["demo"], "--rates", ",".join(str(1000 * (i + 1)) for i in range(8)), [1000.0 * (i + 1) for i in range(8)]
    yield ["demo"], "--channel", "0", 0
    yield ["demo"], "--channel", "1023", 1023
    yield ["demo"], "--channel", "mean", "mean"
    yield ["demo"], "--channel", "DE", "DE"


EDGES = list(_edges())


@pytest.mark.parametrize("prefix, option, value, expected", EDGES, ids=[f"{c[1]}={c[2]}" for c in EDGES])
def test_boundary_value_parses(prefix, option, value, expected):
    args = build_parser().parse_args([*prefix, f"{option}={value}"])
    got = getattr(args, option.lstrip("-").replace("-", "_"))
    assert got == (pytest.approx(expected) if isinstance(expected, float) else expected)


@pytest.mark.parametrize(
    "rates, seconds", [("384000", "600"), ("48000", "400"), ("16000,384000", "44"), ("192000", "100")]
)
def test_demo_clip_size_bound_is_checked_before_work(capsys, rates, seconds):
    code, out, err = run_cli(capsys, ["demo", "--random-init", "--rates", rates, "--seconds", seconds])
    assert code == 1 and out == ""
    assert "samples per clip" in err and f"above the supported maximum {L.MAX_CLIP_SAMPLES:,}" in err


# --------------------------------------------------------------------------------------------------------------------
# (3) outputs checked before the work
@pytest.mark.parametrize("name", ["x.gif", "x.bmp", "x.txt", "figure", "x.png.bak", "x.tiff", "x.", "x.json"])
def test_demo_figure_unknown_suffix(capsys, tmp_path, name):
    code, out, err = run_cli(capsys, ["demo", *FAST, "--json", "--figure", tmp_path / name])
    assert code == 1 and out == ""
    assert "--figure" in err and ".png, .jpg, .jpeg, .pdf, .svg" in err
    assert not (tmp_path / name).exists()


def _unwritable(tmp_path: Path, kind: str) -> tuple[Path, str]:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    (tmp_path / "folder.png").mkdir()
    return {
        "under_a_file": (blocker / "x.png", "is a file, not a folder"),
        "deep_under_a_file": (blocker / "d" / "e" / "x.png", "is a file, not a folder"),
        "existing_folder": (tmp_path / "folder.png", "is a folder"),
        "under_dev_null": (Path("/dev/null/x.png"), "is a file, not a folder"),
        "in_proc": (Path("/proc/fisher-hostile/x.png"), "cannot write in /proc"),
    }[kind]


@pytest.mark.parametrize("kind", ["under_a_file", "deep_under_a_file", "existing_folder", "under_dev_null", "in_proc"])
def test_demo_unwritable_figure_fails_before_the_work(capsys, tmp_path, kind):
    path, words = _unwritable(tmp_path, kind)
    code, out, err = run_cli(capsys, ["demo", *FAST, "--json", "--figure", path])
    assert code == 1 and out == "" and "embedding" not in err  # nothing computed, nothing lost
    assert f"--figure {path}" in err and words in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write into read-only folders")
def test_demo_figure_in_read_only_folder(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    code, out, err = run_cli(capsys, ["demo", *FAST, "--figure", ro / "x.png"])
    assert code == 1 and out == "" and "cannot write in" in err


@pytest.mark.parametrize("kind", ["under_a_file", "existing_folder", "in_proc"])
def test_rmis_unwritable_out_fails_before_the_work(capsys, tmp_path, kind):
    path, words = _unwritable(tmp_path, kind)
    code, out, err = run_cli(capsys, ["rmis", "fd", tmp_path / "missing.csv", "--out", path, "--quiet"])
    assert code == 1 and out == "" and f"--out {path}" in err and words in err


@pytest.mark.parametrize("option", ["--cache", "--scores-dir"])
def test_rmis_ad_output_folder_is_a_file(capsys, tmp_path, option):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, out, err = run_cli(capsys, ["rmis", "ad", "--year", "2024", "--dev", tmp_path, option, blocker, "--quiet"])
    assert code == 1 and out == "" and f"{option} {blocker}: is a file, not a folder" in err


def test_pretrain_out_dir_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, ["pretrain", "--config", tmp_path / "none.yaml", "--out-dir", blocker])
    assert code == 1 and f"--out-dir {blocker}: is a file, not a folder" in err


def test_convert_destination_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run_cli(capsys, ["convert", tmp_path / "missing.pt", blocker])
    assert code == 1 and f"DST_DIR {blocker}: is a file, not a folder" in err


@pytest.mark.parametrize(
    "dst, words", [("model.onx", "a .onnx file"), ("dir/", "a .onnx file"), ("/proc/x.onnx", "cannot write")]
)
def test_export_destination_checked_before_loading(capsys, tmp_path, dst, words):
    target = dst if dst.startswith("/") else str(tmp_path / dst)
    code, _, err = run_cli(capsys, ["export", "onnx", tmp_path / "missing-model", target])
    assert code == 1 and "DST" in err and words in err


# --------------------------------------------------------------------------------------------------------------------
# (4) demo --data folders
def _wav(path: Path, sr: int = 16000, seed: int = 0, fault: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, bearing_signal(sr, 0.5, fault=fault, seed=seed), sr)


def _data(tmp_path: Path, case: str) -> tuple[Path, str]:
    root = tmp_path / "d"
    root.mkdir()
    if case == "empty":
        return root, "expected a 'normal/' subfolder"
    if case == "missing":
        return tmp_path / "nope", "not a folder or a manifest .csv file"
    if case == "text_file":
        (tmp_path / "x.txt").write_text("hi")
        return tmp_path / "x.txt", "not a folder or a manifest .csv file"
    _wav(root / "normal" / "n0.wav", seed=0)
    if case != "one_normal":
        _wav(root / "normal" / "n1.wav", seed=1)
    if case == "only_normal":
        return root, "no anomaly subfolder"
    if case == "empty_anomaly_folder":
        (root / "fault").mkdir()
        return root, "anomaly folder 'fault/' holds no signal files"
    if case == "only_text_in_anomaly":
        (root / "fault").mkdir()
        (root / "fault" / "notes.txt").write_text("hi")
        return root, "anomaly folder 'fault/' holds no signal files"
    _wav(root / "fault" / "f0.wav", seed=5, fault=True)
    words = {"one_normal": "at least 2 normal files"}
    if case == "unreadable":
        (root / "fault" / "zz-bad.wav").write_bytes(b"RIFF not really a wav file")
        words[case] = "zz-bad.wav"
    if case == "unreadable_first":
        (root / "normal" / "a-bad.wav").write_bytes(b"\x00" * 64)
        words[case] = "a-bad.wav"
    if case == "mixed_rates":
        _wav(root / "fault" / "f1.wav", sr=8000, seed=6, fault=True)
        words[case] = "one sampling rate"
    if case == "empty_signal":
        sf.write(root / "fault" / "f2.wav", np.zeros(0, dtype=np.float32), 16000)
        words[case] = "f2.wav"
    return root, words[case]


DATA_CASES = [
    "empty",
    "missing",
    "text_file",
    "only_normal",
    "one_normal",
    "empty_anomaly_folder",
    "only_text_in_anomaly",
    "unreadable",
    "unreadable_first",
    "mixed_rates",
    "empty_signal",
]


@pytest.mark.parametrize("case", DATA_CASES)
def test_demo_bad_data_folder(capsys, tmp_path, case):
    root, words = _data(tmp_path, case)
    code, out, err = run_cli(capsys, ["demo", "--data", root, "--random-init", "--json", "--figure", ""])
    assert code == 1 and out == "" and words in err, err


def test_demo_data_manifest_without_anomalies(capsys, tmp_path):
    for i in range(3):
        _wav(tmp_path / f"n{i}.wav", seed=i)
    (tmp_path / "m.csv").write_text("path,label,group\n" + "".join(f"n{i}.wav,normal,g{i}\n" for i in range(3)))
    code, _, err = run_cli(capsys, ["demo", "--data", tmp_path / "m.csv", "--random-init", "--figure", ""])
    assert code == 1 and "no anomalous signals" in err


# --------------------------------------------------------------------------------------------------------------------
# (5) dcase-eval and rmis ad with another year's names
def _scores(folder: Path, file_name: str, clips: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_text("".join(f"{c},{i / 10:.1f}\n" for i, c in enumerate(clips)))
    return folder


CLIPS_2020 = [f"{lab}_id_00_0000000{i}.wav" for lab in ("normal", "anomaly") for i in range(3)]
CLIPS_2024 = [
    f"section_00_{d}_test_{lab}_000{i}_a.wav"
    for d in ("source", "target")
    for lab in ("normal", "anomaly")
    for i in range(2)
]


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024, 2025, 2026])
def test_dcase_eval_2020_score_file_under_a_later_year(capsys, tmp_path, year):
    folder = _scores(tmp_path, "anomaly_score_fan_id_00.csv", CLIPS_2020)
    code, out, err = run_cli(capsys, ["dcase-eval", folder, "--year", year])
    assert code == 1 and out == ""
    assert f"anomaly_score_fan_id_00.csv: not a {year} file name" in err and "matches --year 2020" in err


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024, 2025, 2026])
def test_dcase_eval_2020_clip_names_under_a_later_year(capsys, tmp_path, year):
    name = "anomaly_score_fan_section_00_source_test.csv" if year == 2021 else "anomaly_score_fan_section_00_test.csv"
    folder = _scores(tmp_path, name, CLIPS_2020)
    code, out, err = run_cli(capsys, ["dcase-eval", folder, "--year", year])
    assert code == 1 and out == ""
    assert name in err and "'normal_id_00_00000000.wav' has the DCASE 2020 naming" in err
    assert f"year {year} expects section_<SS>" in err and "match --year 2020" in err


@pytest.mark.parametrize(
    "file_name", ["anomaly_score_fan_section_00_test.csv", "anomaly_score_fan_section_00_target_test.csv"]
)
def test_dcase_eval_section_file_under_2020(capsys, tmp_path, file_name):
    folder = _scores(tmp_path, file_name, CLIPS_2024)
    code, out, err = run_cli(capsys, ["dcase-eval", folder, "--year", 2020])
    assert code == 1 and out == "" and "not a 2020 file name" in err and "matches --year 2021..2026" in err


def test_dcase_eval_section_clips_in_a_2020_file(capsys, tmp_path):
    folder = _scores(tmp_path, "anomaly_score_fan_id_00.csv", CLIPS_2024)
    code, _, err = run_cli(capsys, ["dcase-eval", folder, "--year", 2020])
    assert code == 1 and "has the DCASE 2021+ naming" in err and "2021..2026" in err


@pytest.mark.parametrize("year", [2022, 2024, 2026])
def test_dcase_eval_per_domain_file_after_2021(capsys, tmp_path, year):
    folder = _scores(tmp_path, "anomaly_score_fan_section_00_source_test.csv", CLIPS_2024[:4])
    code, _, err = run_cli(capsys, ["dcase-eval", folder, "--year", year])
    assert code == 1 and "per-domain score files are the 2021 layout" in err


@pytest.mark.parametrize(
    "rows, words",
    [
        ("section_00_source_test_normal_0000_a.wav,nan\n", "must be finite"),
        ("section_00_source_test_normal_0000_a.wav,inf\n", "must be finite"),
        ("section_00_source_test_normal_0000_a.wav,high\n", "not a number"),
        ("section_00_source_test_normal_0000_a.wav\n", "expected 2 columns"),
        ("", "no score rows"),
    ],
)
def test_dcase_eval_bad_score_rows(capsys, tmp_path, rows, words):
    (tmp_path / "anomaly_score_fan_section_00_test.csv").write_text(rows)
    code, _, err = run_cli(capsys, ["dcase-eval", tmp_path, "--year", 2024])
    assert code == 1 and words in err


def test_dcase_eval_empty_and_missing_folders(capsys, tmp_path):
    code, _, err = run_cli(capsys, ["dcase-eval", tmp_path, "--year", 2024])
    assert code == 1 and "no anomaly_score_*.csv files" in err
    code, _, err = run_cli(capsys, ["dcase-eval", tmp_path / "missing", "--year", 2024])
    assert code == 1 and "score directory not found" in err


@pytest.mark.parametrize("year, clips", [(2020, CLIPS_2020), (2024, CLIPS_2024)])
def test_dcase_eval_matching_year_works(capsys, tmp_path, year, clips):
    name = "anomaly_score_fan_id_00.csv" if year == 2020 else "anomaly_score_fan_section_00_test.csv"
    folder = _scores(tmp_path, name, clips)
    code, out, _ = run_cli(capsys, ["dcase-eval", folder, "--year", year, "--json"])
    assert code == 0 and json.loads(out)["year"] == year


@pytest.mark.parametrize("year", [2021, 2024, 2026])
def test_rmis_ad_2020_clip_names_under_a_later_year(capsys, tmp_path, year):
    for split in ("train", "test"):
        _wav(tmp_path / "dev" / "fan" / split / f"normal_id_00_0000000{split == 'test'}.wav")
    code, out, err = run_cli(capsys, ["rmis", "ad", "--year", year, "--dev", tmp_path / "dev", "--quiet"])
    assert code == 1 and out == ""
    assert f"not a DCASE {year} clip name" in err and "has the DCASE 2020 naming" in err and "--year 2020" in err


# --------------------------------------------------------------------------------------------------------------------
# (6) real runs, small and fast
def test_demo_fast_run_json_names_model_and_warns(capsys, tmp_path):
    fig = tmp_path / "out" / "demo.jpg"
    code, out, err = run_cli(capsys, ["demo", *FAST, "--json", "--figure", fig])
    result = json.loads(out)
    assert code == 0 and result["model"] == "tiny" and result["weights"] == "random"
    assert result["figure"] == str(fig) and fig.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG, as the suffix says
    assert "only 2 anomalous and 2 normal" in result["warnings"][0] and "warning: only 2 anomalous" in err


def test_demo_data_run_with_few_anomalies_warns(capsys, tmp_path):
    for i in range(3):
        _wav(tmp_path / "d" / "normal" / f"n{i}.wav", seed=i)
    _wav(tmp_path / "d" / "fault" / "f0.wav", seed=9, fault=True)
    code, out, err = run_cli(capsys, ["demo", "--data", tmp_path / "d", "--random-init", "--figure", ""])
    assert code == 0 and "k-NN anomaly scores @ 16000 Hz" in out
    assert "warning: only 1 anomalous and" in err and "at least 5 of each" in err


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_demo_figure_formats_and_labels(tmp_path, suffix, magic):
    pytest.importorskip("matplotlib")
    from matplotlib import rc_context

    from fisher.demo.figure import demo_figure

    rng = np.random.default_rng(0)
    scores = {"FISHER": rng.random(6), "logstft": rng.random(6)}
    labels = [0, 0, 0, 1, 1, 1]
    with rc_context({"svg.fonttype": "none"}):
        path = demo_figure(
            tmp_path / f"fig{suffix}",
            spectra=[(8000, bearing_signal(8000, 3.0, seed=1)), (16000, bearing_signal(16000, 0.5, seed=1))],
            band_width=100,
            scores=scores,
            labels=labels,
            caveat="only 3 anomalous and 3 normal test clip(s) are scored",
            display_seconds=1.0,
        )
    data = path.read_bytes()
    assert data[: len(magic)] == magic
    if suffix == ".svg":
        text = data.decode()
        for letter in "abcde":  # 2 spectrograms, ROC, 2 score panels: each letter exactly once
            assert text.count(f"({letter})") == 1, letter
        assert "first 1.0 s of 3.0 s" in text and "normalised log-magnitude" in text and "Caution" in text
        assert "FISHER (AUC" in text and "logstft (AUC" in text
