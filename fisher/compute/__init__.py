"""Where and how the torch math runs: device checks, CPU capabilities (:mod:`~fisher.compute.capabilities`) and
reduced-precision model copies (:mod:`~fisher.compute.precision`). Knows nothing of FISHER itself."""
