"""Command-line building blocks below every command: option types with their limits (:mod:`~fisher.clikit.limits`),
output-path checks (:mod:`~fisher.clikit.outputs`) and the parser runner (:mod:`~fisher.clikit.runner`). Used by
:mod:`fisher.cli`, ``python -m fisher.pretrain`` and the ``fisher-asd`` command."""
