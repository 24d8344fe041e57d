"""fisher.inference.parallel: sharded embedding files, sequential engine, and Ray Data ([scale]) giving identical results."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from fisher import Fisher, FisherConfig
from fisher.inference.parallel import embed_files_ray, embed_files_sequential, load_embeddings


@pytest.fixture(scope="module")
def model() -> Fisher:
    torch.manual_seed(0)
    return Fisher(FisherConfig(embed_dim=32, depth=1, num_heads=2, band_width=50))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """12 short synthetic wav clips of different lengths (0.5-0.8 s at 16 kHz)."""
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(12):
        path = folder / f"clip_{i:02d}.wav"
        sf.write(path, (0.1 * rng.standard_normal(8000 + 400 * i)).astype(np.float32), 16000, subtype="FLOAT")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def sequential(model, clips, tmp_path_factory):
    """Embedded with 1 torch thread, as the Ray actors are (``threads=1``): float sums are split differently with
    another thread count, so bit-identical results need the same count (other counts agree to float rounding)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return embed_files_sequential(clips, model=model, out_dir=tmp_path_factory.mktemp("seq"), shard_size=5)
    finally:
        torch.set_num_threads(before)


def test_sequential_layout_and_values(model, clips, sequential):
    names = sorted(p.name for p in sequential.iterdir())
    assert names == ["index.csv", "manifest.json", "shard_00000.npy", "shard_00001.npy", "shard_00002.npy"]
    manifest = json.loads((sequential / "manifest.json").read_text())
    assert manifest["n"] == 12 and manifest["dim"] == model.embedding_dim(16000)
    assert [s["rows"] for s in manifest["shards"]] == [5, 5, 2]
    paths, emb = load_embeddings(sequential)
    assert paths == [str(p) for p in clips] and emb.dtype == np.float32
    lines = (sequential / "index.csv").read_text().splitlines()
    assert lines[0] == "path,shard,row" and lines[7].endswith(",shard_00001.npy,1")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for i in (0, 6, 11):
            x, sr = sf.read(clips[i], dtype="float32")
            np.testing.assert_array_equal(emb[i], model.embed(x, sr))
    finally:
        torch.set_num_threads(before)


def test_other_thread_counts_agree_to_float_rounding(model, clips, sequential):
    _, emb = load_embeddings(sequential)
    for i in (0, 9, 11):
        x, sr = sf.read(clips[i], dtype="float32")
        np.testing.assert_allclose(emb[i], model.embed(x, sr), rtol=0, atol=1e-5)


def test_resume_keeps_finished_shards(model, clips, tmp_path):
    out = embed_files_sequential(clips[:4], model=model, out_dir=tmp_path, shard_size=2)
    marker = np.full((2, model.embedding_dim(16000)), 7.0, dtype=np.float32)
    np.save(out / "shard_00000.npy", marker)
    embed_files_sequential(clips[:4], model=model, out_dir=tmp_path, shard_size=2, resume=True)
    assert np.array_equal(load_embeddings(out)[1][:2], marker)
    embed_files_sequential(clips[:4], model=model, out_dir=tmp_path, shard_size=2)
    assert not np.array_equal(load_embeddings(out)[1][:2], marker)


def test_errors(model, clips, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        embed_files_sequential([], model=model, out_dir=tmp_path)
    with pytest.raises(ValueError, match="shard_size"):
        embed_files_sequential(clips, model=model, out_dir=tmp_path, shard_size=0)
    with pytest.raises(TypeError, match="unknown embedding option"):
        embed_files_sequential(clips, model=model, out_dir=tmp_path, window=3)
    with pytest.raises(TypeError, match="model must be"):
        embed_files_sequential(clips, model=3, out_dir=tmp_path)
    other = tmp_path / "fast.wav"
    sf.write(other, np.zeros(16000, dtype=np.float32), 48000)
    with pytest.raises(ValueError, match="different sizes"):
        embed_files_sequential([clips[0], other], model=model, out_dir=tmp_path / "mixed")
    with pytest.raises(FileNotFoundError, match="manifest"):
        load_embeddings(tmp_path / "nothing")


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=100 * 1024**2,
        configure_logging=False,
    )
    yield ray
    ray.shutdown()


@pytest.mark.scale
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside ray.data itself
def test_ray_equals_sequential(ray_session, model, clips, sequential, tmp_path):
    out = embed_files_ray(clips, model=model, out_dir=tmp_path, shard_size=5, concurrency=2)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in sequential.iterdir())
    assert (out / "index.csv").read_text() == (sequential / "index.csv").read_text()
    paths, emb = load_embeddings(out)
    ref_paths, ref = load_embeddings(sequential)
    assert paths == ref_paths
    np.testing.assert_array_equal(emb, ref)  # identical embeddings, not merely close
    assert json.loads((out / "manifest.json").read_text())["engine"] == "ray"
