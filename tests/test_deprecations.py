"""Old import paths of the 0.2 layering keep working for one minor version, with a DeprecationWarning."""

from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np
import pytest

# old module -> (new module, a name that must be the same object or work the same)
MOVED = {
    "fisher.model.framing": ("fisher.recipe.framing", "frame_params"),
    "fisher.model.config": ("fisher.recipe.fisher_config", "FisherConfig"),
    "fisher.inference.capabilities": ("fisher.compute.capabilities", "inference_capabilities"),
    "fisher.inference.precision": ("fisher.compute.precision", "inference_copy"),
    "fisher.eval.rmis.demo": ("fisher.eval.rmis.auc_table", "auc_table"),
    "fisher.cli.limits": ("fisher.clikit.limits", "bounded_int"),
    "fisher.cli.outputs": ("fisher.clikit.outputs", "check_output_dir"),
    "fisher.inference.streaming": ("fisher.recipe.long_files", "FileEmbedding"),
    "fisher.eval.rmis.knn": ("fisher.eval.rmis.distances", "cosine_knn"),
    "fisher.pretrain.config": ("fisher.pretrain.pretrain_config", "PretrainConfig"),
    "fisher_asd.detector.config": ("fisher_asd.detector.stream_config", "StreamConfig"),
    "fisher_asd.detector.knn": ("fisher_asd.detector.bank", "knn_score"),
    "fisher_asd.encoders.beats.config": ("fisher_asd.encoders.beats.beats_config", "BEATsConfig"),
}


def fresh_import(name: str):
    sys.modules.pop(name, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(name)
    return module, [w for w in caught if issubclass(w.category, DeprecationWarning)]


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_warns_and_reexports(old):
    new, name = MOVED[old]
    module, caught = fresh_import(old)
    assert caught and new.rsplit(".", 1)[1] in str(caught[0].message), [str(w.message) for w in caught]
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_old_embed_functions_still_work():
    torch = pytest.importorskip("torch")
    from fisher import Fisher, FisherConfig

    torch.manual_seed(0)
    model = Fisher(FisherConfig.preset("tiny", depth=1))
    wave = np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1
    old, caught = fresh_import("fisher.inference.embed")
    assert caught
    np.testing.assert_array_equal(old.embed(model, wave, 8000), model.embed(wave, 8000))
    enc = old.WindowEncoder(model, 8000)
    assert (enc.num_bands, enc.dim, enc.summary) == (model.num_bands(8000), model.embed_dim, "cls")
