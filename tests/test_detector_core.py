"""Building blocks of the detector: k-NN, rank normalisation, memory bank, fusion, losses, augmentation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fisher_asd.detector import build_bank, ecdf_rank, fuse, knn_distances, oversample_factors, rank_normalize
from fisher_asd.detector.augment import contrastive_view
from fisher_asd.detector.fusion import check_weights
from fisher_asd.detector.losses import contrastive_loss, embedding_spread, info_nce, variance_hinge


def unit(rng: np.random.Generator, n: int, d: int = 8) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------- k-NN
def test_knn_matches_brute_force_with_small_blocks():
    rng = np.random.default_rng(0)
    q, b = unit(rng, 23), unit(rng, 57)
    got = knn_distances(q, b, 5, query_block=4, bank_block=7)
    full = np.linalg.norm(q[:, None, :].astype(np.float64) - b[None, :, :], axis=2)
    np.testing.assert_allclose(got, np.sort(full, axis=1)[:, :5], atol=1e-12)


def test_knn_leave_one_out_exclusion_and_duplicates():
    rng = np.random.default_rng(1)
    b = unit(rng, 6)
    bank = np.concatenate([b, b[:2]])  # rows 6, 7 copy clips 0, 1
    owners = np.r_[np.arange(6), 0, 1][:, None]
    got = knn_distances(b, bank, 2, exclude=(np.arange(6), owners))
    full = np.linalg.norm(b[:, None, :].astype(np.float64) - bank[None, :, :], axis=2)
    for i in range(6):
        visible = np.sort(full[i][owners[:, 0] != i])[:2]
        np.testing.assert_allclose(got[i], visible, atol=1e-12)
    assert knn_distances(b[:1], bank, 1)[0, 0] == pytest.approx(0.0, abs=1e-6)  # exact duplicate at distance 0


def test_knn_errors():
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match="fewer than k"):
        knn_distances(unit(rng, 2), unit(rng, 3), 4)
    with pytest.raises(TypeError):
        knn_distances(unit(rng, 2), unit(rng, 3), 1.5)
    with pytest.raises(ValueError, match="dimension"):
        knn_distances(unit(rng, 2), unit(rng, 3, d=4), 1)
    with pytest.raises(ValueError, match="NaN"):
        knn_distances(np.full((1, 8), np.nan), unit(rng, 3), 1)
    with pytest.raises(ValueError, match="leave-one-out"):
        knn_distances(unit(rng, 2), unit(rng, 2), 2, exclude=(np.arange(2), np.arange(2)[:, None]))


# ---------------------------------------------------------------------------------------------------- ranks
def test_rank_normalize_values_and_ties():
    np.testing.assert_allclose(rank_normalize([3.0, 1.0, 2.0]), [1.0, 0.0, 0.5])
    # average ties: ranks 0, 1.5, 1.5, 3 over n - 1 = 3
    np.testing.assert_allclose(rank_normalize([0.1, 0.5, 0.5, 0.9]), [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(rank_normalize([0.1, 0.5, 0.5, 0.9], ties="ordinal"), [0.0, 1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(rank_normalize([1.0, 1.0, 1.0]), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(rank_normalize([5.0]), [0.5])
    groups = ["a", "b", "a", "b", "a"]
    np.testing.assert_allclose(rank_normalize([1.0, 9.0, 3.0, 7.0, 2.0], groups), [0.0, 1.0, 1.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="ties"):
        rank_normalize([1.0, 2.0], ties="dense")
    with pytest.raises(ValueError, match="NaN"):
        rank_normalize([1.0, np.nan])
    with pytest.raises(ValueError, match="groups"):
        rank_normalize([1.0, 2.0], ["a"])


def test_ecdf_rank_inductive():
    ref = [1.0, 2.0, 2.0, 4.0]
    np.testing.assert_allclose(ecdf_rank([0.5, 2.0, 3.0, 5.0], ref), [0.0, 0.5, 0.75, 1.0])
    # a training score ranked against the *other* training scores = the transductive average rank
    loo = np.array([0.3, 0.1, 0.3, 0.7, 0.2])
    others = [ecdf_rank([loo[i]], np.delete(loo, i))[0] for i in range(loo.size)]
    np.testing.assert_allclose(others, rank_normalize(loo))
    with pytest.raises(ValueError, match="empty"):
        ecdf_rank([1.0], [])


# ---------------------------------------------------------------------------------------------------- bank
@pytest.mark.parametrize(
    ("n_src", "n_tgt", "ratio", "factor"), [(990, 10, 10, 10), (90, 10, 3, 3), (50, 10, 10, 1), (40, 3, 10, 2)]
)
def test_oversampling_ratio(n_src, n_tgt, ratio, factor):
    f = oversample_factors({"source": n_src, "target": n_tgt}, ratio)
    assert f == {"source": 1, "target": factor}
    assert n_src / (f["target"] * n_tgt) <= ratio
    if factor > 1:  # the fewest copies that reach the ratio
        assert n_src / ((factor - 1) * n_tgt) > ratio
    assert oversample_factors({"source": 5, "target": 1}, None) == {"source": 1, "target": 1}
    with pytest.raises(ValueError):
        oversample_factors({"source": 5}, 0.5)


@pytest.mark.parametrize("stage", ["after", "before"])
@pytest.mark.parametrize("pairing", ["domain", "any"])
def test_memmixup_rows_norms_and_seed(stage, pairing):
    rng = np.random.default_rng(3)
    emb, dom = unit(rng, 33), ["source"] * 30 + ["target"] * 3
    kw = {"oversample_ratio": 10.0, "mixup_stage": stage, "mixup_pairing": pairing}
    bank = build_bank(emb, dom, rng=np.random.default_rng(7), **kw)
    assert len(bank) == 2 * (30 + 3 * 1) if stage == "before" else 2 * (30 + 3)  # factor = ceil(30 / 30) = 1
    np.testing.assert_allclose(np.linalg.norm(bank.embeddings, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(bank.embeddings[:33], emb)  # originals first, in clip order
    again = build_bank(emb, dom, rng=np.random.default_rng(7), **kw)
    np.testing.assert_array_equal(bank.embeddings, again.embeddings)
    mixed = slice(len(bank) // 2, None)
    assert ((bank.lam[mixed] >= 0) & (bank.lam[mixed] <= 1)).all()
    if pairing == "domain":  # within-domain pairs keep both parents in one domain
        parents = bank.clip_domain[bank.owners[mixed]]
        assert (parents[:, 0] == parents[:, 1]).all()


def test_bank_with_oversampling_then_mixup_counts():
    rng = np.random.default_rng(4)
    bank = build_bank(unit(rng, 100), ["source"] * 90 + ["target"] * 10, oversample_ratio=3)
    assert len(bank) == 2 * (90 + 30)
    assert (bank.row_domain[:120] == 1).sum() == 30  # target replicated ×3 before mixing
    no_mix = build_bank(unit(rng, 100), ["source"] * 90 + ["target"] * 10, oversample_ratio=3, mixup=False)
    assert len(no_mix) == 120
    loo = bank.loo_scores(5)
    assert loo.shape == (100,) and (loo > 0).all()  # no clip sees itself, its copies or its mixtures


def test_mixup_values_are_renormalised_convex_combinations():
    rng = np.random.default_rng(5)
    emb = unit(rng, 10)
    bank = build_bank(emb, ["source"] * 10, mixup_alpha=0.4, rng=np.random.default_rng(0))
    for j in range(10, 20):
        a, b = bank.owners[j]
        lam = float(bank.lam[j])
        expect = lam * emb[a].astype(np.float64) + (1 - lam) * emb[b]
        np.testing.assert_allclose(bank.embeddings[j], expect / np.linalg.norm(expect), atol=1e-6)


# ---------------------------------------------------------------------------------------------------- fusion
def test_fusion():
    np.testing.assert_allclose(fuse({"a": [1.0, 0.0], "b": [0.0, 1.0]}, {"a": 3.0, "b": 1.0}), [0.75, 0.25])
    np.testing.assert_allclose(fuse({"a": [1.0, 0.0]}, {"a": 0.2, "b": 0.8}), [1.0, 0.0])  # renormalised
    assert check_weights(None, ["a", "b"]) == {"a": 0.5, "b": 0.5}
    with pytest.raises(ValueError, match="unknown"):
        check_weights({"c": 1.0}, ["a"])
    with pytest.raises(ValueError, match=">= 0"):
        check_weights({"a": -1.0}, ["a"])
    with pytest.raises(ValueError, match="sum to 0"):
        check_weights({"a": 0.0}, ["a"])


# ---------------------------------------------------------------------------------------------------- losses
def test_info_nce_equals_hand_computation():
    z1 = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    z2 = torch.tensor([[0.8, 0.6], [0.0, 1.0]])
    tau = 0.5
    z = [np.array(v) for v in ([1.0, 0.0], [0.6, 0.8], [0.8, 0.6], [0.0, 1.0])]  # already unit norm
    positive = {0: 2, 1: 3, 2: 0, 3: 1}
    total = 0.0
    for i in range(4):
        sims = {j: float(z[i] @ z[j]) / tau for j in range(4) if j != i}
        total += -(sims[positive[i]] - math.log(sum(math.exp(s) for s in sims.values())))
    assert float(info_nce(z1, z2, tau)) == pytest.approx(total / 4, rel=1e-6)
    assert float(info_nce(3 * z1, 3 * z2, tau)) == pytest.approx(total / 4, rel=1e-6)  # scale-free


def test_variance_hinge_and_spread():
    collapsed = torch.ones(8, 4)
    assert float(variance_hinge(collapsed)) == pytest.approx(0.5 - 0.01, abs=1e-6)  # γ = 1/sqrt(4), σ = sqrt(eps)
    spread = torch.cat([torch.eye(4), -torch.eye(4)])  # zero mean, per-dim std 0.53 > 1/sqrt(4)
    assert float(variance_hinge(spread)) == 0.0
    assert embedding_spread(collapsed) == pytest.approx(0.0, abs=1e-12)
    assert embedding_spread(torch.eye(3)) == pytest.approx(2 / 3)  # 1 - |mean|² = 1 - 3/9
    loss, parts = contrastive_loss(torch.randn(6, 4), torch.randn(6, 4), var_weight=2.0)
    assert float(loss) == pytest.approx(parts["infonce"] + 2.0 * parts["variance"], rel=1e-5)
    with pytest.raises(ValueError):
        info_nce(torch.randn(1, 4), torch.randn(1, 4))
    with pytest.raises(ValueError):
        info_nce(torch.randn(3, 4), torch.randn(3, 4), tau=0.0)


# ---------------------------------------------------------------------------------------------------- augmentation
def test_contrastive_view_shapes_and_ranges():
    sr = 1000
    x = torch.ones(3, 2000)
    g = torch.Generator().manual_seed(0)
    clean = contrastive_view(x, sr, generator=g, noise_std=0.0, gain_db=0.0, drop_seconds=0.5)
    assert clean.shape == x.shape
    assert (clean[:, -500:] == 0).all() and (clean[:, :-500] == 1).all()  # 0.5 s removed, zeros appended
    ramp = torch.arange(2000.0).expand(3, -1)
    cut = contrastive_view(ramp, sr, generator=g, noise_std=0.0, gain_db=0.0, drop_seconds=0.5)[:, :1500]
    steps = torch.diff(cut, dim=1)
    assert ((steps == 1) | (steps == 501)).all() and ((steps == 501).sum(1) <= 1).all()  # one gap of 500 samples
    gained = contrastive_view(x, sr, generator=g, noise_std=0.0, gain_db=3.0, drop_seconds=0.0)
    g_db = 20 * torch.log10(gained[:, 0])
    assert (g_db.abs() <= 3.0 + 1e-5).all() and torch.allclose(gained, gained[:, :1].expand_as(gained))
    noisy = contrastive_view(torch.zeros(4, 20000), sr, generator=g, noise_std=0.005, gain_db=0.0, drop_seconds=0.0)
    assert float(noisy.std()) == pytest.approx(0.005, rel=0.05)
    a = contrastive_view(x, sr, generator=torch.Generator().manual_seed(1))
    b = contrastive_view(x, sr, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    with pytest.raises(TypeError):
        contrastive_view(torch.ones(10), sr, generator=g)
