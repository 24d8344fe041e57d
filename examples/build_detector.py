"""Building a detector, step by step (notebook-style; runs offline on a synthetic machine in ~half a minute).

Run: ``python examples/build_detector.py``. Each ``# %%`` cell can be pasted into a notebook. The last cell shows
the report's System 1 recipe with real backbones (skipped unless ``BEATS_CHECKPOINT`` points to the BEATs weights).
The synthetic clips are 1 s long, so every detector here uses ``clip_samples=SR`` (the default fixes every clip to
160,000 samples = 10 s at 16 kHz, tiling shorter clips).
See ``docs/detector.md`` for every design decision and its parameter.
"""

# %% 1. Data: a synthetic machine with a source and a target domain (normal clips only for training)
from __future__ import annotations

import os
import tempfile

import numpy as np
import torch

from fisher import FisherConfig
from fisher.eval.metrics import partial_auc, roc_auc
from fisher_asd import Detector
from fisher_asd.detector.synthetic import synthetic_clips

torch.manual_seed(0)
SR = 16000
kw = {"sr": SR, "seconds": 1.0}
train = np.concatenate([synthetic_clips(40, seed=1, **kw), synthetic_clips(4, domain="target", seed=2, **kw)])
train_domain = ["source"] * 40 + ["target"] * 4  # 10:1, as DCASE's 990 source / 10 target
test = np.concatenate(
    [
        synthetic_clips(10, seed=3, **kw),
        synthetic_clips(10, domain="target", seed=4, **kw),
        synthetic_clips(10, anomaly=True, seed=5, **kw),
        synthetic_clips(10, anomaly=True, domain="target", seed=6, **kw),
    ]
)
test_domain = (["source"] * 10 + ["target"] * 10) * 2
label = np.array([0] * 20 + [1] * 20)


def report(name: str, score: np.ndarray) -> None:
    print(f"{name:<46} AUC {roc_auc(label, score):.3f}  pAUC {partial_auc(label, score, max_fpr=0.1):.3f}")


# %% 2. Frozen encoders need no training: fit only builds the memory banks (oversampling + MemMixup)
fisher_tiny = ("fisher", {"model": FisherConfig.preset("tiny", depth=2), "pool": "mean"})  # random weights offline
det = Detector(
    ["logstft", fisher_tiny], k=5, weights={"logstft": 0.5, "fisher": 0.5}, rank_norm="transductive", clip_samples=SR
)
det.fit(train, SR, machine="pump", domain=train_domain)
bank = det.banks_["logstft"]["pump"]
print(
    f"bank rows: {len(bank)} = 2 x (40 source + 4 target x {int((bank.row_domain[: len(bank) // 2] == 1).sum()) // 4})"
)
report("logstft + fisher, transductive, domains known", det.score(test, SR, machine="pump", domain=test_domain))

# %% 3. No domain in the test names (DCASE evaluation set): the two domain policies
for policy in ("machine", "nearest"):  # "machine": all clips of the machine ranked together; "nearest": inferred
    details = det.score_details(test, SR, machine="pump", domain_policy=policy)
    report(f"domain unknown, domain_policy={policy!r}", details["score"])

# %% 4. Online scoring: inductive rank normalisation against leave-one-out training scores
online = Detector(["logstft"], rank_norm="inductive", clip_samples=SR).fit(
    train, SR, machine="pump", domain=train_domain
)
one = online.score(test[25], SR, machine="pump", domain="source")  # a single clip, no other test clip needed
batch = online.score(test, SR, machine="pump", domain=test_domain)
assert one[0] == batch[25]
report("logstft, inductive (online)", batch)

# %% 5. Decisions: the threshold is a post-fit policy (percentile of leave-one-out training scores)
online.set_threshold(percentile=95)
pred = online.predict(test, SR, machine="pump", domain=test_domain)
print(
    f"threshold {online.thresholds_['pump']:.3f}: flagged {pred[label == 1].mean():.0%} of anomalies, "
    f"{pred[label == 0].mean():.0%} of normals"
)

# %% 6. A trained stream: a 256-d head on an encoder, contrastive training (InfoNCE + variance hinge)
trained = Detector(
    ["logstft"], train_heads=True, seed=0, clip_samples=SR, training={"epochs": 3, "batch_size": 16, "lr": 1e-3}
)
trained.fit(train, SR, machine="pump", domain=train_domain)
print("training history:", [round(e["loss"], 3) for e in trained.history_["logstft"]["epochs"]])
report("logstft + trained 256-d head", trained.score(test, SR, machine="pump", domain=test_domain))

# %% 7. Save and reload: safetensors + JSON, scores reproduced bit-exactly
with tempfile.TemporaryDirectory() as tmp:
    det.save_pretrained(tmp)
    again = Detector.from_pretrained(tmp)
    same = np.array_equal(again.score(test, SR, machine="pump"), det.score(test, SR, machine="pump"))
    print(f"saved {sorted(os.listdir(tmp))}; identical scores after reload: {same}")

# %% 8. The report's systems: recipes (untrained) — System 3 mixes 7- and 12-machine checkpoints per stream
import fisher_asd

for s in fisher_asd.preset("system3").streams:
    print(f"system3 {s.name:<10} {s.scope:>3} weight {fisher_asd.preset('system3').weights[s.name]:.2f}")
if os.environ.get("BEATS_CHECKPOINT"):  # needs the downloaded backbone weights
    mef = Detector.from_preset("system1", backbones={"beats": os.environ["BEATS_CHECKPOINT"]}, show_progress=True)
    # mef.fit(dcase_train_waves, 16000, machine=machines, domain=domains)  # trains heads / LoRA, builds banks
    print(mef)
