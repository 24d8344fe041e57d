"""FISHER pretraining recipe (issue 11): EAT inverse block masking, padded fixed grid, loss weighting, rate set,
EAT defaults, resume checks, worker loading, gradient accumulation and input errors."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from fisher import Fisher, FisherConfig
from fisher.pretrain import PretrainConfig, Trainer
from fisher.pretrain.data import candidate_rates, harmonic_rates
from fisher.pretrain.decoder import ConvDecoder
from fisher.pretrain.init import initial_model
from fisher.pretrain.masking import inverse_block_mask, num_visible, padded_inverse_block_mask, visible_index
from fisher.pretrain.objective import DistillationModel, teacher_targets, token_padding
from tests.test_pretrain import _one_thread, few_files, tiny_config  # noqa: F401 (_one_thread: autouse fixture)

# ---------------------------------------------------------------- masking


def eat_restatement(grid: tuple[int, int], mask_ratio: float, block: int, adjust: float, rng: random.Random) -> list:
    """EAT's compute_block_mask_2d(inverse_mask=True) restated with Python sets: the visible cells of one sequence."""
    tp, fp = grid
    n = tp * fp
    v = 1 - mask_ratio
    visible = set()
    for _ in range(int(n * ((v + adjust) / block**2))):
        c = rng.randrange(n)
        ct, cf = divmod(c, fp)
        for i in range(block):
            for j in range(block):
                t = min(max(ct + i - block // 2, 0), tp - 1)
                f = min(max(cf + j - block // 2, 0), fp - 1)
                visible.add(t * fp + f)
    target = int(n * v)
    if len(visible) > target:
        visible = set(rng.sample(sorted(visible), target))
    elif len(visible) < target:
        visible |= set(rng.sample(sorted(set(range(n)) - visible), target - len(visible)))
    return sorted(visible)


def mask_stats(visible: np.ndarray, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-row / per-column visibility rates and the share of visible cells with no visible 4-neighbour."""
    tp, fp = grid
    img = visible.reshape(-1, tp, fp)
    padded = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    nb = padded[:, :-2, 1:-1] | padded[:, 2:, 1:-1] | padded[:, 1:-1, :-2] | padded[:, 1:-1, 2:]
    isolated = (img & ~nb).sum() / img.sum()
    return img.mean(axis=(0, 2)), img.mean(axis=(0, 1)), float(isolated)


@pytest.mark.parametrize("grid, block", [((64, 6), 5), ((62, 3), 2), ((8, 6), 5)])
def test_inverse_block_mask_matches_an_independent_eat_restatement(grid: tuple[int, int], block: int) -> None:
    n_seq, n = 3000, grid[0] * grid[1]
    hidden = inverse_block_mask(n_seq, grid, 0.8, block, 0.07, generator=torch.Generator().manual_seed(0))
    ours = (~hidden).numpy()
    assert (ours.sum(1) == int(n * (1 - 0.8))).all() and int(n * (1 - 0.8)) == num_visible(n, 0.8)
    rng = random.Random(1)
    ref = np.zeros((n_seq, n), dtype=bool)
    for s in range(n_seq):
        ref[s, eat_restatement(grid, 0.8, block, 0.07, rng)] = True
    assert (ref.sum(1) == ours.sum(1)).all()
    rows, cols, iso = mask_stats(ours, grid)
    rows_ref, cols_ref, iso_ref = mask_stats(ref, grid)
    # row profile: compare the edge rows and the pooled middle; column profile cell by cell
    assert abs(rows[0] - rows_ref[0]) < 0.03 and abs(rows[-1] - rows_ref[-1]) < 0.03
    assert abs(rows[2:-2].mean() - rows_ref[2:-2].mean()) < 0.01
    np.testing.assert_allclose(cols, cols_ref, atol=0.015)
    assert abs(iso - iso_ref) < 0.015
    if grid == (64, 6):  # the numbers quoted in the issue / spec for EAT on a 64 x 6 grid
        assert 0.10 < rows[0] < 0.16 and 0.18 < rows[20:40].mean() < 0.22
        assert 0.03 < iso < 0.09


def test_padded_masks_keep_padding_hidden_and_mask_each_real_grid() -> None:
    rows = torch.tensor([64, 62, 10, 62])
    hidden = padded_inverse_block_mask(rows, (64, 6), generator=torch.Generator().manual_seed(0))
    pad = token_padding(rows, (64, 6))
    assert hidden[pad].all()
    assert (~hidden).sum(1).tolist() == [int(r * 6 * (1 - 0.8)) for r in rows.tolist()]
    index, slot_pad = visible_index(hidden)
    assert index.shape == (4, 76) and slot_pad.sum(1).tolist() == [0, 2, 76 - int(60 * (1 - 0.8)), 2]
    for s in range(4):
        real = index[s][~slot_pad[s]]
        assert (real.diff() > 0).all() and not hidden[s, real].any()
    with pytest.raises(ValueError, match="valid_rows"):
        padded_inverse_block_mask(torch.tensor([65]), (64, 6))


# ---------------------------------------------------------------- objective


def small_pair(depth: int = 2) -> tuple[Fisher, ConvDecoder]:
    torch.manual_seed(0)
    fc = FisherConfig.preset("tiny", depth=depth, embed_dim=64, num_heads=2)
    return Fisher(fc), ConvDecoder(64, 64, 2, 5, 8, 0.0)


def test_teacher_padding_mask_makes_targets_independent_of_the_padding() -> None:
    teacher, _ = small_pair()
    real = torch.randn(1, 160, 100)
    padded = torch.cat([real, torch.full((1, 96, 100), 3.0)], dim=1)  # 10 real rows of 16
    pad = token_padding(torch.tensor([10]), (16, 6))
    y_pad, yb_pad = teacher_targets(teacher, padded, padding=pad)
    y, yb = teacher_targets(teacher, real)
    torch.testing.assert_close(y_pad[:, :60], y, atol=2e-5, rtol=1e-5)
    torch.testing.assert_close(yb_pad, yb, atol=2e-5, rtol=1e-5)
    assert (y_pad[:, 60:] == 0).all()
    # without the mask, padding changes the targets of real tokens (the mask is what removes it)
    y_nomask, _ = teacher_targets(teacher, padded)
    assert not torch.allclose(y_nomask[:, :60], y, atol=1e-3)


def test_losses_ignore_padding_and_band_term_is_summed_over_sequences() -> None:
    student, decoder = small_pair()
    model = DistillationModel(student, decoder).eval()
    teacher, _ = small_pair()
    bands = torch.randn(2, 256, 100)
    rows = torch.tensor([16, 12])
    pad = token_padding(rows, (16, 6))
    clones = 3
    hidden = padded_inverse_block_mask(
        rows.repeat_interleave(clones), (16, 6), generator=torch.Generator().manual_seed(1)
    )
    y, yb = teacher_targets(teacher, bands, padding=pad)

    def run(b: torch.Tensor, reduction: str) -> dict:
        torch.manual_seed(5)
        return model(b, hidden, y, yb, clones, pad, reduction)

    out = run(bands, "sum")
    other = bands.clone()
    other[1, 12 * 16 :] = 7.0  # change only the padding frames of sequence 1
    out2 = run(other, "sum")
    for k in ("loss_patch", "loss_band"):
        torch.testing.assert_close(out[k], out2[k])
    mean = run(bands, "mean")
    torch.testing.assert_close(out["loss_band"], mean["loss_band"] * 2 * clones)
    torch.testing.assert_close(out["loss_patch"], mean["loss_patch"])
    assert out["target_std"] > 0.5 and out["pred_std"] >= 0
    visible_pad = hidden.clone()
    visible_pad[clones, -1] = False  # a padding patch of sequence 1 made visible
    with pytest.raises(ValueError, match="padding"):
        model(bands, visible_pad, y, yb, clones, pad)


def test_paper_rate_set_and_whole_band_option() -> None:
    assert harmonic_rates(4000, 32000) == [4000, 8000, 12000, 16000, 20000, 24000, 28000]
    assert harmonic_rates(2000, 32000)[-1] == 30000 and len(harmonic_rates(2000, 32000)) == 15
    assert candidate_rates(4000, 32000) == [8000, 16000, 24000, 32000]
    with pytest.raises(ValueError):
        harmonic_rates(4000, 4000)


def test_defaults_follow_eat_and_init_is_normal_002() -> None:
    cfg = PretrainConfig()
    assert (cfg.ema.decay, cfg.ema.end_decay, cfg.ema.anneal_steps) == (0.9998, 0.99999, 100000)
    assert (cfg.optim.betas, cfg.optim.weight_decay, cfg.optim.clip_grad) == ((0.9, 0.95), 0.05, 4.0)
    assert cfg.loss.band_reduction == "sum" and cfg.data.rate_set == "paper" and cfg.model.init_std == 0.02
    cfg.model.overrides = {"depth": 2, "embed_dim": 64, "num_heads": 1}
    model = initial_model(cfg)
    w = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, torch.nn.Linear)])
    w = w.detach()
    assert abs(float(w.std()) - 0.02) < 0.001 and abs(float(w.mean())) < 0.001
    with pytest.raises(ValueError, match="band_reduction"):
        PretrainConfig.from_dict({"loss": {"band_reduction": "max"}})
    with pytest.raises(ValueError, match="rate_set"):
        PretrainConfig.from_dict({"data": {"rate_set": "all"}})


def test_paper_configs_in_the_repo_load() -> None:
    root = Path(__file__).resolve().parents[1] / "configs" / "pretrain"
    want = {"tiny": (24, 64, 5), "mini": (32, 64, 5), "small": (16, 128, 2)}
    for scale, (batch, mb, block) in want.items():
        cfg = PretrainConfig.load(root / f"paper-{scale}.yaml")
        fc = cfg.model.fisher_config()
        assert (cfg.data.batch_size, cfg.max_bands(fc), cfg.block_size(fc)) == (batch, mb, block)
        assert (cfg.train.steps, cfg.optim.warmup_steps, cfg.optim.lr) == (400000, 40000, 5e-4)


# ---------------------------------------------------------------- trainer


def test_padded_batches_have_a_fixed_grid(tmp_path: Path, data_dir: Path) -> None:
    files = [str(p) for p in sorted((data_dir / "dcase2020_task2_dev_id00" / "train").glob("*.wav"))[:4]]
    trainer = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path, files)))
    batch = trainer.stream.batch(0)
    assert batch.frames == 256 and (batch.valid() == 256).all()
    cfg = tiny_config(tmp_path, files)
    cfg["data"]["crop_frames"] = 1024  # 10 s clips have 998 frames: 992 real (62 rows), 2 padding rows
    trainer = Trainer(PretrainConfig.from_dict(cfg))
    batch = trainer.stream.batch(0)
    assert batch.frames == 1024 and batch.valid().max() <= 992 and batch.valid().min() >= 16
    bands = trainer.stream.bands(batch)
    assert bands.shape[1] == 1024 and (bands[0, int(batch.valid()[0]) :] == 0).all()
    rec = trainer.train_step()
    assert rec["padded"] > 0 and np.isfinite(rec["loss"])


def test_workers_and_accumulation_reproduce_the_in_process_run(tmp_path: Path, data_dir: Path) -> None:
    files = few_files(data_dir)
    base = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path / "a", files, steps=2))).fit()
    cfg = tiny_config(tmp_path / "b", files, steps=2)
    cfg["data"]["num_workers"] = 2
    work = Trainer(PretrainConfig.from_dict(cfg)).fit()
    assert [r["loss"] for r in work] == [r["loss"] for r in base]
    cfg = tiny_config(tmp_path / "c", files, steps=1, accumulate=2)
    acc = Trainer(PretrainConfig.from_dict(cfg)).fit()
    assert acc[0]["sequences"] == base[0]["sequences"] + base[1]["sequences"]
    assert acc[0]["audio_s"] == pytest.approx(base[0]["audio_s"] + base[1]["audio_s"])


def test_resume_refuses_a_changed_config_but_accepts_a_longer_schedule(tmp_path: Path, data_dir: Path) -> None:
    files = few_files(data_dir)
    Trainer(PretrainConfig.from_dict(tiny_config(tmp_path, files, steps=1))).fit()
    longer = Trainer(PretrainConfig.from_dict(tiny_config(tmp_path, files, steps=3, resume="auto")))
    assert longer.step == 1
    cfg = tiny_config(tmp_path, files, steps=3, resume="auto")
    cfg["optim"]["lr"] = 2e-3
    with pytest.raises(ValueError, match=r"optim\.lr"):
        Trainer(PretrainConfig.from_dict(cfg))
    cfg = tiny_config(tmp_path, files, steps=3, resume="auto")
    cfg["masking"]["max_bands_per_sample"] = 8
    with pytest.raises(ValueError, match="max_bands_per_sample"):
        Trainer(PretrainConfig.from_dict(cfg))


def test_unreadable_and_too_short_files_are_named(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    files = few_files(data_dir)
    with pytest.raises(ValueError, match=r"cannot be read: .*broken\.wav"):
        Trainer(PretrainConfig.from_dict(tiny_config(tmp_path / "r1", [*files, str(bad)])))
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(8000, dtype=np.float32), 16000)  # 0.5 s = 48 frames < 64
    with pytest.raises(ValueError, match=r"shorter than data\.min_frames.*short\.wav"):
        Trainer(PretrainConfig.from_dict(tiny_config(tmp_path / "r2", [*files, str(short)])))


def test_trainer_starts_from_initial_model(tmp_path: Path, data_dir: Path) -> None:
    cfg = PretrainConfig.from_dict(tiny_config(tmp_path, few_files(data_dir)))
    trainer = Trainer(cfg)
    ref = initial_model(cfg)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, trainer.model.state_dict()[k]), k
