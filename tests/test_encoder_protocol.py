"""One encoder protocol (``fisher.eval.encoders.Encoder``) shared by the RMIS runners and ``fisher_asd``."""

from __future__ import annotations

import numpy as np

import fisher_asd.encoders as asd_encoders
from fisher import FisherConfig
from fisher.eval.baseline import LogSTFT
from fisher.eval.encoders import Encoder, FisherEncoder, resolve_encoder
from fisher_asd.encoders import create_encoder


def test_one_protocol_one_fisher_adapter_one_baseline():
    assert asd_encoders.Encoder is Encoder
    assert asd_encoders.FisherEncoder is FisherEncoder and asd_encoders.LogSTFTEncoder is LogSTFT
    rmis = resolve_encoder("random-tiny")
    asd = create_encoder("fisher", model=FisherConfig.preset("tiny"))
    assert type(rmis) is type(asd) is FisherEncoder
    assert isinstance(rmis, Encoder) and isinstance(asd, Encoder) and isinstance(LogSTFT(), Encoder)
    assert isinstance(resolve_encoder("logstft"), LogSTFT) and isinstance(create_encoder("logstft"), LogSTFT)
    # the two recipes: RMIS = one padded window per clip, the detector = chunked windows averaged
    assert (rmis.long, rmis.pad_windows, asd.long, asd.pad_windows) == ("truncate", True, "chunk", False)
    assert rmis.cache_key.startswith("fisher-") and rmis.cache_key.endswith("-concat-rmis")
    assert asd.cache_key.endswith("-concat-chunk-pad0") and rmis.cache_key != asd.cache_key


def test_same_model_same_embedding_through_both_names():
    rmis = resolve_encoder("random-tiny")
    asd = FisherEncoder(rmis.model, long="truncate", pad_frames=True)
    x = np.random.default_rng(0).standard_normal((2, 8000)).astype(np.float32)
    out = rmis.embed(x, 8000)
    assert out.shape == (2, rmis.embedding_dim(8000)) and out.dtype == np.float32
    np.testing.assert_array_equal(out, asd.embed(x, 8000, batch_size=1))
