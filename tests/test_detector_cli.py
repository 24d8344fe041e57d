"""``fisher-asd fit`` / ``fisher-asd score`` on a small synthetic DCASE-layout folder, evaluated with ``fisher.eval.dcase``."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from fisher.eval.dcase import evaluate_submission
from fisher_asd.cli import main
from fisher_asd.detector.synthetic import synthetic_clips

SR = 16000


def _write(folder, stem_clips):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, clip in stem_clips:
        sf.write(str(folder / f"{stem}.wav"), clip, SR, subtype="PCM_16")


def _score(model, data, out, *options):
    """``fisher-asd score --model MODEL --data DATA --out OUT [options] --quiet``; returns the exit code."""
    return main(["score", "--model", str(model), "--data", str(data), "--out", str(out), *options, "--quiet"])


@pytest.fixture(scope="module")
def dcase_root(tmp_path_factory):
    """Two machines in the 2022+ layout: 12 source + 2 target train clips, 4 clips per test domain × label."""
    root = tmp_path_factory.mktemp("dcase")
    kw = {"sr": SR, "seconds": 0.5}
    for m, machine in enumerate(("pump", "fan")):
        train = [
            (f"section_00_source_train_normal_{i:04d}_a", c) for i, c in enumerate(synthetic_clips(12, seed=m, **kw))
        ]
        train += [
            (f"section_00_target_train_normal_{i:04d}_a", c)
            for i, c in enumerate(synthetic_clips(2, domain="target", seed=10 + m, **kw))
        ]
        _write(root / machine / "train", train)
        test = []
        for d, domain in enumerate(("source", "target")):
            for a, label in enumerate(("normal", "anomaly")):
                clips = synthetic_clips(4, domain=domain, anomaly=bool(a), seed=100 + 10 * m + 2 * d + a, **kw)
                test += [(f"section_00_{domain}_test_{label}_{i:04d}_a", c) for i, c in enumerate(clips)]
        _write(root / machine / "test", test)
    return root


def test_cli_fit_score_and_official_metrics(dcase_root, tmp_path, capsys):
    model, scores = tmp_path / "model", tmp_path / "scores"
    assert (
        main(["fit", "--data", str(dcase_root), "--out", str(model), "--encoders", "logstft", "--k", "3", "--quiet"])
        == 0
    )
    assert (model / "detector.json").is_file()
    assert _score(model, dcase_root, scores, "--year", "2024") == 0
    names = sorted(p.name for p in scores.iterdir())
    assert names == [
        "anomaly_score_fan_section_00_test.csv",
        "anomaly_score_pump_section_00_test.csv",
        "decision_result_fan_section_00_test.csv",
        "decision_result_pump_section_00_test.csv",
    ]
    decisions = np.loadtxt(scores / "decision_result_fan_section_00_test.csv", delimiter=",", usecols=1)
    assert set(np.unique(decisions)) <= {0, 1}
    result = evaluate_submission(scores, 2024)
    assert result.official_score >= 0.8
    assert "scored 32 clips" in capsys.readouterr().out


def test_cli_machine_filter_ignore_domain_and_errors(dcase_root, tmp_path, capsys):
    model, scores = tmp_path / "model", tmp_path / "scores"
    assert (
        main(
            [
                "fit",
                "--data",
                str(dcase_root),
                "--machines",
                "fan",
                "--out",
                str(model),
                "--quiet",
                "--rank-norm",
                "inductive",
                "--domain-policy",
                "nearest",
            ]
        )
        == 0
    )
    assert _score(model, dcase_root, scores, "--machines", "fan", "--ignore-domain") == 0
    assert min(p.name for p in scores.iterdir()) == "anomaly_score_fan_section_00_test.csv"
    assert _score(model, dcase_root, tmp_path / "x", "--machines", "pump") == 1
    assert "unknown machine 'pump'" in capsys.readouterr().err
    assert main(["fit", "--data", str(dcase_root), "--machines", "valve", "--out", str(model), "--quiet"]) == 1
    assert main(["fit", "--data", str(tmp_path / "missing"), "--out", str(model), "--quiet"]) == 1
    assert main([]) == 2


def test_cli_preset_and_whole_clips(dcase_root, tmp_path, capsys):
    import json

    out = tmp_path / "model"
    assert main(["fit", "--data", str(dcase_root), "--preset", "mef6-ens", "--out", str(out), "--quiet"]) == 1
    assert "removed" in capsys.readouterr().err
    assert main(["fit", "--data", str(dcase_root), "--preset", "system3", "--out", str(out), "--quiet"]) == 1
    assert "needs backbone weights for ['beats']" in capsys.readouterr().err
    assert (
        main(["fit", "--data", str(dcase_root), "--machines", "fan", "--out", str(out), "--whole-clips", "--quiet"])
        == 0
    )
    settings = json.loads((out / "detector.json").read_text())["settings"]
    assert settings["whole_clips"] is True and settings["clip_samples"] == 160_000
