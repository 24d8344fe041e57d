"""DCASE file names, score files (reading, writing, malformed input), ground truth and dataset folders."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from fisher.eval.dcase import (
    evaluate_submission,
    load_submission,
    parse_clip_name,
    parse_score_file_name,
    read_ground_truth,
    read_score_dir,
    read_score_file,
    scan_dcase,
    score_file_name,
    write_score_files,
)

YEARS = {"dcase20": 2020, "dcase21": 2021, "dcase22": 2022, "dcase23": 2023, "dcase24": 2024, "dcase25": 2025}


# ----------------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("name", "section", "domain", "split", "label", "attrs"),
    [
        ("section_00_target_test_anomaly_0007_spd_31V.wav", 0, "target", "test", 1, ("spd", "31V")),
        ("section_03_source_test_normal_0004.wav", 3, "source", "test", 0, ()),
        (
            "section_00_source_train_normal_0000_car_A2_spd_28V_mic_1_noise_1.wav",
            0,
            "source",
            "train",
            0,
            ("car", "A2", "spd", "28V", "mic", "1", "noise", "1"),
        ),
        ("section_02_source_test_normal_0010_noAttribute", 2, "source", "test", 0, ("noAttribute",)),
        ("anomaly_id_04_00000123.wav", 4, "source", None, 1, ()),
        ("dev/fan/test/normal_id_06_00000001.wav", 6, "source", None, 0, ()),
    ],
)
def test_parse_descriptive_names(name, section, domain, split, label, attrs):
    info = parse_clip_name(name)
    assert (info.section, info.domain, info.split, info.label, info.attributes) == (
        section,
        domain,
        split,
        label,
        attrs,
    )
    assert not info.anonymised


@pytest.mark.parametrize(
    ("name", "section", "domain"),
    [
        ("id_04_00000017.wav", 4, "source"),
        ("section_03_source_test_0004.wav", 3, "source"),
        ("section_00_0007.wav", 0, None),
    ],
)
def test_parse_anonymised_names(name, section, domain):
    info = parse_clip_name(name)
    assert info.anonymised and info.section == section and info.domain == domain


def test_parse_tokens_anywhere_2025_style():
    info = parse_clip_name("section_00_extra_target_test_anomaly_0001.wav")
    assert info.domain == "target" and info.label == 1


@pytest.mark.parametrize("name", ["foo.wav", "section_xx_0001.wav", "normal_00.wav", ""])
def test_unknown_clip_names(name):
    with pytest.raises(ValueError, match="unknown DCASE clip name"):
        parse_clip_name(name)


def test_score_file_names_round_trip():
    for year, domain in [(2020, None), (2021, "target"), (2024, None), (2026, None)]:
        name = score_file_name("ToyCar", 3, year, domain=domain)
        info = parse_score_file_name(name)
        assert (info.kind, info.machine, info.section, info.domain) == ("anomaly_score", "ToyCar", 3, domain)
    assert score_file_name("fan", 0, 2024, kind="decision_result") == "decision_result_fan_section_00_test.csv"
    assert score_file_name("fan", 1, 2020) == "anomaly_score_fan_id_01.csv"
    with pytest.raises(ValueError, match="per domain"):
        score_file_name("fan", 0, 2021)
    with pytest.raises(ValueError, match="2020..2026"):
        score_file_name("fan", 0, 2019)
    with pytest.raises(ValueError, match="unknown score file name"):
        parse_score_file_name("scores_fan.csv")


# ----------------------------------------------------------------------------------------------- score files
def _write(path, text):
    path.write_text(text)
    return path


def test_read_score_file_ok_and_header(tmp_path):
    f = _write(tmp_path / "a.csv", "file_name,anomaly_score\nx.wav,1.5\n\ny.wav,-2e-3\n")
    assert read_score_file(f) == [("x.wav", 1.5), ("y.wav", -0.002)]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x.wav\n", "expected 2 columns"),
        ("x.wav,1,2\n", "expected 2 columns"),
        ("x.wav,high\n", "not a number"),
        ("x.wav,nan\n", "must be finite"),
        ("x.wav,1\nx.wav,2\n", "duplicate clip name"),
        (",1\n", "empty clip name"),
        ("\n\n", "no score rows"),
    ],
)
def test_malformed_score_files(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_score_file(_write(tmp_path / "anomaly_score_fan_section_00_test.csv", text))


def test_score_dir_errors(tmp_path):
    with pytest.raises(ValueError, match="no anomaly_score"):
        read_score_dir(tmp_path, 2024)
    _write(tmp_path / "anomaly_score_fan_section_00_test.csv", "section_00_source_test_normal_0001_a.wav,1\n")
    with pytest.raises(ValueError, match="not a 2020 file name"):
        read_score_dir(tmp_path, 2020)
    _write(tmp_path / "anomaly_score_fan_section_00_source_test.csv", "section_00_source_test_normal_0001_a.wav,2\n")
    with pytest.raises(ValueError, match="per-domain score files are the 2021 layout"):
        read_score_dir(tmp_path, 2024)
    with pytest.raises(ValueError, match="scored twice"):
        read_score_dir(tmp_path, 2021)
    _write(tmp_path / "anomaly_score_bad.csv", "x,1\n")
    with pytest.raises(ValueError, match="unknown score file name"):
        read_score_dir(tmp_path, 2021)
    with pytest.raises(FileNotFoundError):
        read_score_dir(tmp_path / "missing", 2024)


def test_join_checks(tmp_path):
    f = tmp_path / "anomaly_score_fan_section_01_test.csv"
    _write(f, "section_00_source_test_normal_0001_a.wav,1\n")
    with pytest.raises(ValueError, match="belongs to section 00, not 01"):
        load_submission(tmp_path, 2024)
    f.unlink()
    _write(tmp_path / "anomaly_score_fan_section_00_test.csv", "section_00_0001.wav,1\n")
    with pytest.raises(ValueError, match="anonymised.*ground truth"):
        load_submission(tmp_path, 2024)
    shutil.rmtree(tmp_path)
    tmp_path.mkdir()
    _write(tmp_path / "anomaly_score_fan_section_00_source_test.csv", "section_00_target_test_normal_0001.wav,1\n")
    with pytest.raises(ValueError, match="target-domain clip in a source-domain score file"):
        load_submission(tmp_path, 2021)


@pytest.mark.parametrize("case", ["dcase20", "dcase21", "dcase24"])
def test_write_read_round_trip_bit_exact(fixtures_dir, tmp_path, case):
    year = YEARS[case]
    with open(fixtures_dir / "dcase_metrics" / case / "clips.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["subset"] == "dev"]
    paths = write_score_files(
        tmp_path,
        file=[r["file"] for r in rows],
        value=[float(r["score"]) for r in rows],
        machine=[r["machine"] for r in rows],
        section=[int(r["section"]) for r in rows],
        year=year,
        domain=[r["domain"] for r in rows],
    )
    expected_files = sorted(p.name for p in (fixtures_dir / "dcase_metrics" / case / "scores" / "dev").glob("*.csv"))
    assert sorted(p.name for p in paths) == expected_files
    back = {(r.machine, r.name): r.value for r in read_score_dir(tmp_path, year)}
    assert all(back[(r["machine"], r["file"])] == float(r["score"]) for r in rows)  # bit-exact
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_write_decisions_and_errors(tmp_path):
    paths = write_score_files(
        tmp_path,
        file=["a.wav", "b.wav"],
        value=[0, 1],
        machine=["fan", "fan"],
        section=[0, 0],
        year=2024,
        kind="decision_result",
    )
    assert paths[0].name == "decision_result_fan_section_00_test.csv"
    assert paths[0].read_text() == "a.wav,0\nb.wav,1\n"
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1"):
        write_score_files(
            tmp_path, file=["a.wav"], value=[0.5], machine=["fan"], section=[0], year=2024, kind="decision_result"
        )
    with pytest.raises(ValueError, match="duplicate clip name"):
        write_score_files(
            tmp_path, file=["a.wav", "a.wav"], value=[1, 2], machine=["fan"] * 2, section=[0, 0], year=2024
        )
    with pytest.raises(ValueError, match="per domain"):
        write_score_files(tmp_path, file=["a.wav"], value=[1], machine=["fan"], section=[0], year=2021)
    with pytest.raises(ValueError, match="finite"):
        write_score_files(tmp_path, file=["a.wav"], value=[np.inf], machine=["fan"], section=[0], year=2024)


# ----------------------------------------------------------------------------------------------- ground truth
def _anonymise(fixtures_dir, tmp_path, case, subset="eval", drop_wav=False, label_column=False):
    """An eval_data_list CSV and score files that use the anonymised names."""
    year = YEARS[case]
    with open(fixtures_dir / "dcase_metrics" / case / "clips.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["subset"] == subset]
    lines = []
    for machine in sorted({r["machine"] for r in rows}):
        lines.append(machine)
        for r in rows:
            if r["machine"] == machine:
                desc = r["file"][:-4] if drop_wav else r["file"]
                lines.append(f"{r['eval_name']},{desc}" + (f",{r['is_anomaly']}" if label_column else ""))
    gt = tmp_path / "eval_data_list.csv"
    gt.write_text("\n".join(lines) + "\n")
    scores = tmp_path / "scores"
    write_score_files(
        scores,
        file=[r["eval_name"] for r in rows],
        value=[float(r["score"]) for r in rows],
        machine=[r["machine"] for r in rows],
        section=[int(r["section"]) for r in rows],
        year=year,
        domain=[r["domain"] for r in rows],
    )
    return gt, scores


@pytest.mark.parametrize(
    ("case", "drop_wav", "label_column"),
    [("dcase20", False, True), ("dcase21", False, False), ("dcase25", True, False)],
)
def test_ground_truth_join(fixtures_dir, tmp_path, case, drop_wav, label_column):
    gt, scores = _anonymise(fixtures_dir, tmp_path, case, drop_wav=drop_wav, label_column=label_column)
    year = YEARS[case]
    with_gt = evaluate_submission(scores, year, ground_truth=gt)
    reference = evaluate_submission(fixtures_dir / "dcase_metrics" / case / "scores" / "eval", year)
    assert with_gt.to_dict() == reference.to_dict()
    # a missing score for a clip of a scored section is an error
    first = min(scores.glob("*.csv"))
    first.write_text("".join(first.read_text().splitlines(keepends=True)[1:]))
    with pytest.raises(ValueError, match="have no score"):
        load_submission(scores, year, ground_truth=gt)


def test_ground_truth_errors(tmp_path):
    f = tmp_path / "gt.csv"
    f.write_text("section_00_0001.wav,section_00_source_test_normal_0001_a.wav\n")
    with pytest.raises(ValueError, match="before the first machine"):
        read_ground_truth(f)
    f.write_text("fan\nid_00_0001.wav,normal_id_00_0001.wav,1\n")
    with pytest.raises(ValueError, match="contradicts"):
        read_ground_truth(f)
    f.write_text("fan\nsection_00_0001.wav,section_00_0001.wav\n")
    with pytest.raises(ValueError, match="does not reveal"):
        read_ground_truth(f)
    f.write_text("fan\na.wav,section_00_source_test_normal_0001.wav\na.wav,section_00_source_test_normal_0002.wav\n")
    with pytest.raises(ValueError, match="appears twice"):
        read_ground_truth(f)
    f.write_text("fan\nsection_00_0001.wav,section_00_target_test_anomaly_0001_x.wav\n")
    gt = read_ground_truth(f)
    assert gt.get("fan", "section_00_0001").label == 1 and gt.get("pump", "section_00_0001.wav") is None


# ----------------------------------------------------------------------------------------------- dataset folders
def test_scan_real_2020_folder(data_dir):
    root = data_dir / "dcase2020_task2_dev_id00"
    clips = scan_dcase(root, year=2020)
    assert len(clips) == 31
    train = [c for c in clips if c.split == "train"]
    test = [c for c in clips if c.split == "test"]
    assert len(train) == 30 and all(c.label == 0 and c.section == 0 for c in train)
    assert [c.label for c in test] == [1] and test[0].machine == "dcase2020_task2_dev_id00"
    assert scan_dcase(root, machine="fan")[0].machine == "fan"
    with pytest.raises(ValueError, match="not a DCASE 2024 clip name"):
        scan_dcase(root, year=2024)


def test_scan_layouts_and_ground_truth(tmp_path):
    for machine in ("fan", "ToyCar"):
        for rel in (
            "train/section_00_source_train_normal_0000_a.wav",
            "train/section_00_target_train_normal_0001_a.wav",
            "test/section_00_0000.wav",
            "test/section_00_0001.wav",
            "notes.txt",
        ):
            p = tmp_path / machine / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"")
    (tmp_path / "supplemental").mkdir()
    clips = scan_dcase(tmp_path, subset="eval", year=2024)
    assert len(clips) == 8 and {c.machine for c in clips} == {"fan", "ToyCar"}
    assert all(c.label is None and c.domain is None for c in clips if c.split == "test")
    gt = tmp_path / "gt.csv"
    gt.write_text(
        "fan\nsection_00_0000.wav,section_00_target_test_anomaly_0000_a.wav\n"
        "section_00_0001.wav,section_00_source_test_normal_0001_a.wav\n"
    )
    clips = scan_dcase(tmp_path, year=2024, machine="fan", ground_truth=gt)
    assert [(c.domain, c.label) for c in clips if c.split == "test"] == [("target", 1), ("source", 0)]
    with pytest.raises(ValueError, match="not in the ground truth"):
        scan_dcase(tmp_path, year=2024, ground_truth=gt)
    with pytest.raises(FileNotFoundError):
        scan_dcase(tmp_path / "nope")
    with pytest.raises(ValueError, match="no DCASE machine folders"):
        scan_dcase(tmp_path / "supplemental")
