"""The ``fisher demo`` main job: a calibrated synthetic detection task (``task``), the user's own folders (``data``),
the demo's weight choice (``weights``) and its figure (``figure``). The command (options, run) is :mod:`fisher.demo.command`."""
