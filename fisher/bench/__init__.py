"""``fisher bench``: measure this machine with one FISHER model and say which inference settings to use.

:func:`~fisher.bench.run.run_bench` times torch fp32, ``precision="auto"``, ``precision="int8"`` and ONNX Runtime fp32
(when installed) round-robin within a time budget, reports clips/s, GFLOP/s (analytic and FlopCounterMode FLOPs),
the ratio to the machine's GEMM rate on the model's own linear layers, the speed-up over fp32 and the accuracy of each
path against fp32, and recommends the fastest exact path (:func:`~fisher.bench.run.recommend`). Modules: ``machine``
(CPU facts, FLOPs, GEMM reference), ``paths`` (the inference paths), ``run`` (protocol, result, recommendation),
``report`` (the text table).
"""

from fisher.bench.report import format_report
from fisher.bench.run import BenchResult, PathResult, recommend, run_bench

__all__ = ["BenchResult", "PathResult", "format_report", "recommend", "run_bench"]
