"""FISHER pretraining (issue 6): masks, EMA teacher, loss on real signals, exact resume, DDP, export.

All runs use the tiny test architecture (depth 2, dim 64) and short crops so the whole file stays fast on 2 CPU cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fisher import Fisher
from fisher.pretrain import PretrainConfig, Trainer
from fisher.pretrain.schedule import ema_decay_at

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    """The tiny models gain nothing from a second thread, and one thread is much faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_config(out_dir: Path, sources: list[str], **train: object) -> dict:
    return {
        "model": {"preset": "tiny", "overrides": {"depth": 2, "embed_dim": 64, "num_heads": 1}},
        "decoder": {"dim": 64, "layers": 2, "groups": 8},
        "masking": {"max_bands_per_sample": 4},
        "optim": {"lr": 1e-3, "warmup_steps": 5},
        "ema": {"decay": 0.99, "end_decay": 0.999, "anneal_steps": None},
        "data": {"sources": sources, "batch_size": 4, "crop_frames": 256},
        "train": {"steps": 4, "out_dir": str(out_dir), "log_every": 10, "ckpt_every": 1000, "resume": None, **train},
    }


def few_files(data_dir: Path) -> list[str]:
    cwru = data_dir / "cwru_12k_drive_end"
    uav = sorted((data_dir / "uav_propeller_cw" / "normal").glob("*.flac"))[:3]
    return [str(cwru / "B007_0.npz"), str(cwru / "IR014_1.npz"), *map(str, uav)]


def test_teacher_gets_no_gradient_and_follows_ema(tmp_path: Path, data_dir: Path) -> None:
    trainer = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path, few_files(data_dir))))
    assert all(not p.requires_grad for p in trainer.teacher.parameters())
    trainer.train_step()
    before = {k: v.clone() for k, v in trainer.teacher.named_parameters()}
    rec = trainer.train_step()
    d = ema_decay_at(1, decay=0.99, end_decay=0.999, anneal_steps=4)
    assert rec["ema_decay"] == pytest.approx(d)
    assert any(p.grad is not None for p in trainer.student.parameters())
    student = dict(trainer.student.named_parameters())
    for name, t in trainer.teacher.named_parameters():
        assert t.grad is None and not t.requires_grad
        expected = d * before[name] + (1 - d) * student[name].detach()
        torch.testing.assert_close(t, expected, rtol=0, atol=1e-6)
    assert not torch.equal(trainer.teacher.blocks[0].mlp.fc1.weight, trainer.student.blocks[0].mlp.fc1.weight)


def test_loss_decreases_on_real_signals(tmp_path: Path, data_dir: Path) -> None:
    sources = [str(data_dir / "uav_propeller_cw"), str(data_dir / "cwru_12k_drive_end")]
    cfg = tiny_config(tmp_path, sources, steps=50)
    cfg["optim"]["cls_weight_decay"] = False  # the 0.2 recipe (CLS exempt from weight decay)
    trainer = Trainer(PretrainConfig.from_dict(cfg))
    paths = [s.path for s in trainer.stream.signals]
    assert paths.count(str((data_dir / "cwru_12k_drive_end" / "B007_0.npz").resolve())) == 2  # DE, FE
    hist = trainer.fit()
    losses = [r["loss"] for r in hist]
    assert len(losses) == 50 and np.isfinite(losses).all()
    assert np.mean(losses[-10:]) < 0.85 * np.mean(losses[:5])
    for term in ("loss_patch", "loss_band"):  # both terms improve, not just one at the other's expense
        assert np.mean([r[term] for r in hist[-10:]]) < np.mean([r[term] for r in hist[:5]])
    log = [json.loads(ln) for ln in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [10, 20, 30, 40, 50]
    assert {"loss_patch", "loss_band", "lr", "ema_decay", "seq_per_s"} <= set(log[-1])


def _states(trainer: Trainer) -> dict[str, torch.Tensor]:
    out = {f"student.{k}": v for k, v in trainer.student.state_dict().items()}
    out |= {f"teacher.{k}": v for k, v in trainer.teacher.state_dict().items()}
    out |= {f"decoder.{k}": v for k, v in trainer.model.decoder.state_dict().items()}
    for i, st in trainer.optimizer.state_dict()["state"].items():
        out |= {f"optim.{i}.{k}": v for k, v in st.items() if torch.is_tensor(v)}
    return out


def test_resume_two_plus_two_equals_four_bit_exactly(tmp_path: Path, data_dir: Path) -> None:
    files = few_files(data_dir)
    straight = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path / "straight", files)))
    hist = straight.fit()
    first = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path / "split", files, resume="auto")))
    first.fit(until=2)
    assert (tmp_path / "split" / "checkpoints" / "step_0000002.pt").is_file()
    second = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path / "split", files, resume="auto")))
    assert second.step == 2
    hist2 = second.fit()
    assert [r["loss"] for r in hist2] == [r["loss"] for r in hist[2:]]
    a, b = _states(straight), _states(second)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])][:5]


DDP_SCRIPT = """
import json, sys, torch
from fisher.pretrain import PretrainConfig, Trainer
cfg = PretrainConfig.from_dict(json.loads(open(sys.argv[1]).read()))
trainer = Trainer(cfg)
trainer.fit()
refs = [r.path + ":" + str(r.channel) for r in trainer.stream.batch(0).refs]
state = {k: v for k, v in trainer.student.state_dict().items()}
state.update({"teacher." + k: v for k, v in trainer.teacher.state_dict().items()})
state.update({"decoder." + k: v for k, v in trainer.model.decoder.state_dict().items()})
torch.save({"state": state, "refs": refs, "world": trainer.world_size}, f"{sys.argv[2]}/rank{trainer.rank}.pt")
"""


def test_ddp_two_processes_keep_identical_parameters(tmp_path: Path, data_dir: Path) -> None:
    cfg = tiny_config(tmp_path / "run", few_files(data_dir), steps=2, threads=1)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    (tmp_path / "ddp.py").write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(tmp_path / "ddp.py"),
        str(tmp_path / "cfg.json"),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    assert r0["refs"] != r1["refs"]  # each rank reads its own shard
    assert r0["state"].keys() == r1["state"].keys()
    assert all(torch.equal(r0["state"][k], r1["state"][k]) for k in r0["state"])
    assert (tmp_path / "run" / "checkpoints" / "step_0000002.pt").is_file()  # written by rank 0


def test_exported_checkpoint_loads_and_embeds(tmp_path: Path, data_dir: Path) -> None:
    import soundfile as sf
    import yaml

    from fisher.cli import main

    cfg = tiny_config(tmp_path / "run", few_files(data_dir), steps=2)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["pretrain", "--config", str(tmp_path / "cfg.yaml")]) == 0
    ckpt = tmp_path / "run" / "checkpoints" / "step_0000002.pt"
    assert main(["pretrain", "export", str(ckpt), str(tmp_path / "exported")]) == 0
    model = Fisher.from_pretrained(tmp_path / "exported")
    saved = torch.load(ckpt, weights_only=True)["student"]
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())
    assert model.config.extra["step"] == 2 and model.config.depth == 2
    shipped = json.loads((tmp_path / "exported" / "pretrain_config.json").read_text())
    assert shipped == PretrainConfig.from_dict(cfg).to_dict()
    wave, sr = sf.read(few_files(data_dir)[2], dtype="float32")
    emb = model.embed(wave[: 3 * sr], sr)
    assert emb.shape == (2 * 64,) and np.isfinite(emb).all()
