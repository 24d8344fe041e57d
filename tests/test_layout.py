"""Package layout rules (docs/architecture.md): no import cycle between modules, a short top level.

The module graph is built from the source text, not from what happens to be imported at run time:

* nodes: every ``.py`` file of ``fisher`` and ``fisher_asd`` (a package is its ``__init__.py``);
* edges: every ``import`` / ``from ... import`` statement anywhere in the file — module level, inside functions and
  methods (deferred imports) and under ``if TYPE_CHECKING:`` — whose target is in ``fisher`` / ``fisher_asd``;
* ``from pkg import name`` points at the module ``pkg.name`` when that is a module, else at ``pkg``;
  relative imports are resolved against the importing file;
* importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first, but those implicit parent edges are not added:
  a package ``__init__`` that re-exports its own submodules is allowed, and a submodule importing names back from
  its own package ``__init__`` shows up as a cycle through the explicit edges (``pkg/__init__ -> pkg.sub -> pkg``).

Any cycle fails the test, and the message prints it (``a -> b -> a``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import run_python

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fisher", "fisher_asd")
MAX_TOP_LEVEL_MODULES = 8


def module_files() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of ``fisher`` / ``fisher_asd`` imported anywhere in ``path``."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, path.name == "__init__.py", node)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:  # ``import fisher.x.y`` of a name below a module
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {m: imports_of(m, p, modules) for m, p in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or ``None`` (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                path = [n for n, _ in stack]
                return path[path.index(child) :] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_graph_sees_deferred_and_relative_imports():
    graph = import_graph()
    # deferred (function-level) import: Fisher.from_pretrained imports the checkpoint reader when called
    assert "fisher.hub.checkpoint" in graph["fisher.model.network"]
    # relative import inside fisher_asd.detector
    assert "fisher_asd.detector.stream_config" in graph["fisher_asd.detector.presets"]


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_short_top_level():
    top = sorted(p.name for p in (ROOT / "fisher").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules directly under fisher/: {top}"


def test_types_import_without_torch():
    """``fisher.types`` is a torch-free leaf: the torch-free ONNX runtime and ``fisher.signals.checks`` can use it."""
    code = (
        "import sys; sys.modules['torch'] = None\n"  # any `import torch` now raises ImportError
        "import fisher.types as t\n"
        "assert set(t.__all__) == {'ArrayLike', 'PathLike', 'SampleRate', 'WaveLike'}\n"
        "import fisher.signals.checks, fisher.recipe.framing\n"
        "print('ok')\n"
    )
    run = run_python(code, cwd=ROOT.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
