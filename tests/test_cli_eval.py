"""``fisher dcase-eval`` and ``fisher rmis ad|fd`` command lines."""

from __future__ import annotations

import csv
import json

import pytest

from fisher.cli import main

YEARS = {"dcase20": 2020, "dcase21": 2021, "dcase22": 2022, "dcase23": 2023, "dcase24": 2024, "dcase25": 2025}
KEYS = {2020: ["auc", "pauc"], 2021: ["auc_source", "pauc_source", "auc_target", "pauc_target"]}
OFF = {"auc": "off_auc_all", "pauc": "off_pauc_all", "auc_source": "off_auc_source", "auc_target": "off_auc_target"}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _off(row, key, year):
    if year == 2021:
        return float(row[f"off_{key}_within"])
    return float(row["off_pauc" if key == "pauc" and year >= 2022 else OFF[key]])


@pytest.mark.parametrize("case", [*YEARS, "edge_defined", "edge_zero_auc", "edge_target_no_anomaly"])
def test_dcase_eval_json(fixtures_dir, capsys, case):
    year = YEARS.get(case, 2024)
    root = fixtures_dir / "dcase_metrics" / case
    with open(root / "expected" / "per_section.csv", newline="") as fh:
        expected = list(csv.DictReader(fh))
    agg = json.loads((root / "expected" / "aggregates.json").read_text())
    for sub in sorted(p.name for p in (root / "scores").iterdir()):
        code, out, _ = _run(capsys, "dcase-eval", root / "scores" / sub, "--year", year, "--json")
        assert code == 0
        data = json.loads(out)
        assert list(data) == ["year", "per_section", "official_score", "hmean", "amean", "macro3"]
        metrics = KEYS.get(year, ["auc_source", "auc_target", "pauc"])
        assert data["year"] == year and list(data["hmean"]) == metrics and list(data["amean"]) == metrics
        exp = {(e["machine"], int(e["section"])): e for e in expected if e["subset"] == sub}
        assert len(data["per_section"]) == len(exp)
        for row in data["per_section"]:
            assert list(row) == ["machine", "section", *metrics]
            for key in metrics:
                assert 0 <= row[key] <= 1
                assert abs(row[key] - _off(exp[(row["machine"], row["section"])], key, year)) <= 1e-12
        official = agg.get("official", {}).get(sub, {}).get("official_score")
        official = official if official is not None else agg.get("official_2024_evaluator", {}).get("official_score")
        if year == 2020:
            assert data["official_score"] is None and data["macro3"] is None
        else:
            assert abs(data["official_score"] - official) <= 1e-12
        if year >= 2022:
            assert isinstance(data["macro3"], float)


def test_dcase_eval_table_and_errors(fixtures_dir, capsys, tmp_path):
    code, out, _ = _run(
        capsys, "dcase-eval", fixtures_dir / "dcase_metrics" / "dcase24" / "scores" / "dev", "--year", 2024
    )
    assert code == 0 and "official score" in out and "56.40" in out and "macro(3)" in out
    (tmp_path / "anomaly_score_fan_section_00_test.csv").write_text("section_00_source_test_normal_0000_a.wav,abc\n")
    code, out, err = _run(capsys, "dcase-eval", tmp_path, "--year", 2024)
    assert code == 1 and "not a number" in err and out == ""
    code, _, err = _run(capsys, "dcase-eval", tmp_path / "missing", "--year", 2024)
    assert code == 1 and "not found" in err
    with pytest.raises(SystemExit) as exc:  # an option value: an argparse error (exit 2)
        _run(capsys, "dcase-eval", tmp_path, "--year", 2019)
    assert exc.value.code == 2 and "2020..2026" in capsys.readouterr().err


def test_dcase_eval_nan_mode(fixtures_dir, capsys):
    scores = fixtures_dir / "dcase_metrics" / "edge_source_only" / "scores" / "dev"
    code, _, err = _run(capsys, "dcase-eval", scores, "--year", 2024)
    assert code == 1 and "auc_target" in err
    code, out, _ = _run(capsys, "dcase-eval", scores, "--year", 2024, "--json", "--nan")
    data = json.loads(out)
    row = next(r for r in data["per_section"] if r["machine"] == "SourceOnly")
    assert code == 0 and row["auc_target"] is None and data["official_score"] is None


def test_dcase_eval_ground_truth(fixtures_dir, capsys, tmp_path):
    with open(fixtures_dir / "dcase_metrics" / "dcase24" / "clips.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["subset"] == "eval"]
    machines = sorted({r["machine"] for r in rows})
    gt_lines, scores = [], tmp_path / "scores"
    scores.mkdir()
    for m in machines:
        gt_lines.append(m)
        mine = [r for r in rows if r["machine"] == m]
        gt_lines += [f"{r['eval_name']},{r['file']}" for r in mine]
        (scores / f"anomaly_score_{m}_section_00_test.csv").write_text(
            "".join(f"{r['eval_name']},{r['score']}\n" for r in mine)
        )
    (tmp_path / "gt.csv").write_text("\n".join(gt_lines) + "\n")
    code, out, err = _run(capsys, "dcase-eval", scores, "--year", 2024, "--json")
    assert code == 1 and "ground-truth" in err
    code, out, err = _run(capsys, "dcase-eval", scores, "--year", 2024, "--json", "--ground-truth", tmp_path / "gt.csv")
    want = json.loads((fixtures_dir / "dcase_metrics" / "dcase24" / "expected" / "aggregates.json").read_text())
    assert code == 0 and abs(json.loads(out)["official_score"] - want["official"]["eval"]["official_score"]) <= 1e-12
    (scores / f"anomaly_score_{machines[0]}_section_00_test.csv").unlink()
    code, out, err = _run(capsys, "dcase-eval", scores, "--year", 2024, "--ground-truth", tmp_path / "gt.csv")
    assert code == 0 and "1 ground-truth machine-section(s) have no score file" in err


def test_rmis_ad_cli(data_dir, capsys, tmp_path):
    src = data_dir / "dcase2020_task2_dev_id00"
    normals = sorted((src / "train").glob("*.wav"))[:16]
    for sub in ("train", "test"):
        (tmp_path / "dev" / "pump" / sub).mkdir(parents=True)
    for i, p in enumerate(normals):
        (tmp_path / "dev" / "pump" / ("train" if i < 10 else "test") / p.name).symlink_to(p)
    (tmp_path / "dev" / "pump" / "test" / "anomaly_id_00_00000000.wav").symlink_to(
        src / "test" / "anomaly_id_00_00000000.wav"
    )
    out_file = tmp_path / "report.json"
    code, out, _ = _run(
        capsys,
        "rmis",
        "ad",
        "--year",
        2020,
        "--dev",
        tmp_path / "dev",
        "--json",
        "--quiet",
        "--out",
        out_file,
        "--cache",
        tmp_path / "cache",
        "--scores-dir",
        tmp_path / "scores",
    )
    data = json.loads(out)
    assert (
        code == 0
        and data["task"] == "anomaly_detection"
        and data["subsets"]["dev"]["per_section"][0]["machine"] == "pump"
    )
    assert json.loads(out_file.read_text()) == data
    code, out2, _ = _run(capsys, "dcase-eval", tmp_path / "scores" / "dev", "--year", 2020, "--json")
    assert json.loads(out2)["per_section"] == data["subsets"]["dev"]["per_section"]
    code, _, err = _run(capsys, "rmis", "ad", "--year", 2020)
    assert code == 1 and "--dev" in err


def test_rmis_fd_cli(data_dir, capsys, tmp_path):
    code, out, _ = _run(capsys, "rmis", "fd", "--cwru", data_dir / "cwru_12k_drive_end", "--runs", 1, "--quiet")
    assert code == 0 and "RMIS fault diagnosis - cwru" in out and "dataset score" in out
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "path,label,group,channel\n"
        + "".join(
            f"{data_dir / 'cwru_12k_drive_end' / f'{c}007_{load}.npz'},{c},{c}{load},DE\n"
            for c in ("IR", "B")
            for load in range(4)
        )
    )
    code, out, _ = _run(capsys, "rmis", "fd", manifest, "--runs", 1, "--window", 5, "--json", "--quiet", "--k", 1)
    data = json.loads(out)
    assert code == 0 and data["classes"] == ["B", "IR"] and data["n_groups"] == 8
    code, out, _ = _run(capsys, "rmis")
    assert code == 2
