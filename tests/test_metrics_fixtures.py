"""Parity with the official DCASE evaluators and RMIS cal_aucs on ../shared/fixtures/dcase_metrics (1e-12)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from fisher.eval.dcase import evaluate, evaluate_submission, section_metrics
from fisher.eval.metrics import partial_auc, roc_auc
from fisher.eval.rmis import dcase_dataset_score, dcase_subset_score, rmis_table

YEARS = {"dcase20": 2020, "dcase21": 2021, "dcase22": 2022, "dcase23": 2023, "dcase24": 2024, "dcase25": 2025}
EDGES = ["edge_defined", "edge_zero_auc", "edge_target_no_anomaly"]
OFF_COLUMNS = {
    2020: {"auc": "off_auc_all", "pauc": "off_pauc_all"},
    2021: {
        "auc_source": "off_auc_source_within",
        "pauc_source": "off_pauc_source_within",
        "auc_target": "off_auc_target_within",
        "pauc_target": "off_pauc_target_within",
    },
    2022: {"auc_source": "off_auc_source", "auc_target": "off_auc_target", "pauc": "off_pauc"},
}
TOL = 1e-12


def _year(case: str) -> int:
    return YEARS.get(case, 2024)


def _csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _clips(fixtures_dir, case):
    return _csv(fixtures_dir / "dcase_metrics" / case / "clips.csv")


def _evaluate(rows, year, **kw):
    return evaluate(
        [r["machine"] for r in rows],
        [int(r["section"]) for r in rows],
        [int(r["is_anomaly"]) for r in rows],
        [float(r["score"]) for r in rows],
        [r["domain"] for r in rows],
        year=year,
        **kw,
    )


def _subsets(rows):
    return sorted({r["subset"] for r in rows})


@pytest.mark.parametrize("case", [*YEARS, *EDGES])
def test_per_section_and_official_aggregates(fixtures_dir, case):
    year = _year(case)
    root = fixtures_dir / "dcase_metrics" / case
    rows = _clips(fixtures_dir, case)
    expected = _csv(root / "expected" / "per_section.csv")
    agg = json.loads((root / "expected" / "aggregates.json").read_text())
    cols = OFF_COLUMNS[min(year, 2022)]
    for sub in _subsets(rows):
        res = _evaluate([r for r in rows if r["subset"] == sub], year)
        exp = {(e["machine"], int(e["section"])): e for e in expected if e["subset"] == sub}
        assert {(r["machine"], r["section"]) for r in res.per_section} == set(exp)
        for r in res.per_section:
            for key, col in cols.items():
                assert abs(r[key] - float(exp[(r["machine"], r["section"])][col])) <= TOL, (sub, r["machine"], key)
        official = agg.get("official", {}).get(sub, {})
        if "official_score" in official:
            assert abs(res.official_score - official["official_score"]) <= TOL
        for key, value in official.items():
            if key.startswith(("hmean_", "amean_")):
                got = (res.hmean if key.startswith("h") else res.amean)[key[6:]]
                assert abs(got - value) <= TOL, key
        for machine, vals in official.get("per_machine_average", {}).items():
            assert abs(res.per_machine[machine]["auc"] - vals["auc"]) <= TOL
            assert abs(res.per_machine[machine]["pauc"] - vals["pauc"]) <= TOL
        if "official_2024_evaluator" in agg:
            assert abs(res.official_score - agg["official_2024_evaluator"]["official_score"]) <= TOL
        macro = agg.get("seed_report_macro", {}).get(sub)
        if macro:
            assert abs(res.macro3 - macro["macro3"]) <= TOL
            for machine, vals in macro["per_machine"].items():
                for key, value in vals.items():
                    assert abs(res.per_machine[machine][key] - value) <= TOL
        if year == 2020:
            assert res.official_score is None and res.macro3 is None
        if year == 2021:
            assert res.macro3 is None


@pytest.mark.parametrize("case", [*YEARS, *EDGES, "edge_source_only"])
def test_sklearn_columns(fixtures_dir, case):
    """Every sk_* column (all-clip, DCASE22 and within-domain conventions) and the raw-area contrast column."""
    rows = _clips(fixtures_dir, case)
    expected = _csv(fixtures_dir / "dcase_metrics" / case / "expected" / "per_section.csv")
    for e in expected:
        sel = [
            r
            for r in rows
            if r["subset"] == e["subset"] and r["machine"] == e["machine"] and int(r["section"]) == int(e["section"])
        ]
        y = np.array([int(r["is_anomaly"]) for r in sel])
        s = np.array([float(r["score"]) for r in sel])
        assert abs(roc_auc(y, s) - float(e["sk_auc_all"])) <= TOL
        assert abs(partial_auc(y, s) - float(e["sk_pauc_all"])) <= TOL
        raw_over = (2 * partial_auc(y, s) - 1) * 0.095 + 0.005
        assert abs(raw_over / 0.1 - float(e["derived_pauc_all_raw_over_maxfpr"])) <= 1e-12
        if "sk_auc_source_dcase22" not in e:
            continue
        dom = [r["domain"] for r in sel]
        m22 = section_metrics(y, s, dom, year=2024, undefined="nan")
        m21 = section_metrics(y, s, dom, year=2021, undefined="nan")
        pairs = [
            (m22["auc_source"], "sk_auc_source_dcase22"),
            (m22["auc_target"], "sk_auc_target_dcase22"),
            (m21["auc_source"], "sk_auc_source_within"),
            (m21["pauc_source"], "sk_pauc_source_within"),
            (m21["auc_target"], "sk_auc_target_within"),
            (m21["pauc_target"], "sk_pauc_target_within"),
        ]
        for got, col in pairs:
            cell = e[col]
            try:
                want = float(cell)
            except ValueError:  # empty or an ERROR text: undefined
                want = float("nan")
            if math.isnan(want):
                assert math.isnan(got), col
            else:
                assert abs(got - want) <= TOL, col


@pytest.mark.parametrize("case", [*YEARS, *EDGES])
def test_rmis_tables_bit_exact(fixtures_dir, case):
    year = _year(case)
    rows = _clips(fixtures_dir, case)
    agg = json.loads((fixtures_dir / "dcase_metrics" / case / "expected" / "aggregates.json").read_text())
    rmis = agg["rmis"]
    results = {sub: _evaluate([r for r in rows if r["subset"] == sub], year) for sub in _subsets(rows)}
    for sub, res in results.items():
        table = rmis_table(res, rounding=True)
        want = rmis["result"][sub]
        if year <= 2022:
            assert table == want
        else:
            assert sorted(map(tuple, table[:-1])) == sorted(map(tuple, want[:-1])) and table[-1] == want[-1]
        assert abs(dcase_subset_score(res, rounding=True) - rmis["total"][sub]) <= 1e-9
    subs = list(results.values())
    if len(subs) == 1:  # edge cases: RMIS ran with a copy of dev as eval
        subs = subs * 2
    assert dcase_dataset_score(*subs, rounding=True) == rmis["final_score"]
    final_text = (fixtures_dir / "dcase_metrics" / case / "expected" / "rmis_knn.csv").read_text().strip().splitlines()
    assert final_text[-1] == rmis["final_line"]
    exact = dcase_dataset_score(*subs)
    assert abs(exact - rmis["final_score"]) <= 0.01
    if "exact_recomputed" in agg:
        assert abs(exact - agg["exact_recomputed"]["final"]) <= TOL
        for sub, res in results.items():
            assert abs(dcase_subset_score(res) - agg["exact_recomputed"]["subset"][sub]) <= TOL


def test_summary_json(fixtures_dir):
    summary = json.loads((fixtures_dir / "dcase_metrics" / "summary.json").read_text())
    for case, want in summary.items():
        rows = _clips(fixtures_dir, case)
        assert len(rows) == want["n_clips"]
        res = [_evaluate([r for r in rows if r["subset"] == s], YEARS[case]) for s in _subsets(rows)]
        assert dcase_dataset_score(*res, rounding=True) == want["rmis_final_score"]
        assert abs(dcase_dataset_score(*res) - want["exact_final"]) <= TOL


@pytest.mark.parametrize("case", [*YEARS, *EDGES])
def test_score_files_join_by_name(fixtures_dir, case):
    """The shuffled submission-layout files give the same numbers as the clip table."""
    year = _year(case)
    rows = _clips(fixtures_dir, case)
    for sub in _subsets(rows):
        from_files = evaluate_submission(fixtures_dir / "dcase_metrics" / case / "scores" / sub, year)
        direct = _evaluate([r for r in rows if r["subset"] == sub], year)
        assert from_files.to_dict() == direct.to_dict()


def test_edge_target_no_anomaly_within_domain_undefined(fixtures_dir):
    rows = [r for r in _clips(fixtures_dir, "edge_target_no_anomaly") if r["machine"] == "TargetNoAnomaly"]
    y = [int(r["is_anomaly"]) for r in rows]
    s = [float(r["score"]) for r in rows]
    d = [r["domain"] for r in rows]
    with pytest.raises(ValueError, match="auc_target"):
        section_metrics(y, s, d, year=2021)
    assert math.isnan(section_metrics(y, s, d, year=2021, undefined="nan")["pauc_target"])
    assert not math.isnan(section_metrics(y, s, d, year=2024)["auc_target"])


def test_edge_source_only_raises_or_nan(fixtures_dir):
    rows = _clips(fixtures_dir, "edge_source_only")
    with pytest.raises(ValueError, match="SourceOnly.*auc_target.*target normals.*no normal"):
        _evaluate(rows, 2024)
    res = _evaluate(rows, 2024, undefined="nan")
    row = next(r for r in res.per_section if r["machine"] == "SourceOnly")
    assert math.isnan(row["auc_target"]) and not math.isnan(row["auc_source"])
    assert math.isnan(res.official_score)
    with pytest.raises(ValueError, match="auc_target"):
        evaluate_submission(fixtures_dir / "dcase_metrics" / "edge_source_only" / "scores" / "dev", 2024)


def test_edge_zero_auc_epsilon_floor(fixtures_dir):
    res = _evaluate(_clips(fixtures_dir, "edge_zero_auc"), 2024)
    inverted = next(r for r in res.per_section if r["machine"] == "Inverted")
    assert inverted["auc_source"] == 0.0 and inverted["auc_target"] == 0.0
    assert inverted["pauc"] == pytest.approx(0.5 * (1 - 0.005 / 0.095), abs=1e-15)
    assert 0 < res.official_score < 1e-15
    assert dcase_subset_score(res) == 0.0  # RMIS: no floor
