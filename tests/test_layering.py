"""The subpackage layers of ``fisher`` and ``fisher_asd`` (docs/architecture.md), enforced on the source text.

Every ``import`` / ``from … import`` counts — module level and deferred (inside functions) — except those under
``if TYPE_CHECKING:``. A subpackage (or top-level leaf module) may import only from its own subpackage and from
subpackages of *lower* layers; nothing inside ``fisher`` imports the package root ``fisher``; no function is longer
than 80 lines; ``Fisher.embed`` is defined in the class.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 80

# Bottom → top. Units of one layer never import each other (only lower layers).
LAYERS: list[tuple[str, ...]] = [
    ("fisher.types", "fisher.version", "fisher.extras"),  # leaves: no fisher imports
    ("fisher.files",),  # atomic writes, manifests
    ("fisher.signals", "fisher.clikit"),  # reading / checking signals; command-line building blocks
    ("fisher.recipe",),  # torch-free: FisherConfig, framing, the embedding recipe, long files
    ("fisher.compute",),  # torch: devices, CPU capabilities, precision copies
    ("fisher.hub",),  # registry, name resolution, checkpoint formats
    ("fisher.model",),  # the network and its torch backend: Fisher.embed / embed_file / from_pretrained
    ("fisher.inference", "fisher.deploy", "fisher.search"),  # many files at once; ONNX; k-NN indexes
    ("fisher.eval", "fisher.bench"),  # encoders protocol, baselines, RMIS / DCASE, metrics; `fisher bench`
    ("fisher.demo", "fisher.pretrain"),  # the demo job; self-supervised pretraining
    ("fisher.cli",),  # the `fisher` command assembles the commands
    ("fisher_asd._extra",),
    ("fisher_asd.adapters",),  # heads, LoRA
    ("fisher_asd.encoders",),  # BEATs, CLAP, WavLM, AST (+ the fisher registry)
    ("fisher_asd.streams",),  # the MEF streams
    ("fisher_asd.detector",),  # banks, k-NN, rank normalisation, fusion, the Detector
    ("fisher_asd.cli",),  # the `fisher-asd` command
]
RANK = {unit: i for i, units in enumerate(LAYERS) for unit in units}
ROOTS = {"fisher": 0, "fisher_asd": len(LAYERS) - 1}  # package roots: fisher_asd's root may use its detector


def unit_of(module: str) -> str:
    """``fisher.model.network`` → ``fisher.model``; ``fisher.types`` → itself; roots map to themselves."""
    parts = module.split(".")
    if len(parts) == 1:
        return module
    unit = ".".join(parts[:2])
    path = ROOT.joinpath(*parts[:2])
    return unit if path.is_dir() or path.with_suffix(".py").is_file() else parts[0]  # `fisher.__version__` → root


def rank_of(unit: str) -> int:
    if unit in ROOTS:
        return ROOTS[unit]
    assert unit in RANK, f"{unit} is in no layer of tests/test_layering.py: add it (and to docs/architecture.md)"
    return RANK[unit]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return out


def imports(path: Path, module: str) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every fisher / fisher_asd import of a file, TYPE_CHECKING blocks excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_nodes(tree)
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                names = [".".join([*base, node.module] if node.module else base)]
            else:
                names = [node.module or ""]
            if names[0] in ("fisher", "fisher_asd"):  # `from fisher import x`: x may be a subpackage
                names = [f"{names[0]}.{a.name}" for a in node.names]
        else:
            continue
        out += [(n, node.lineno) for n in names if n.split(".")[0] in ("fisher", "fisher_asd")]
    return out


def source_files() -> list[tuple[str, Path]]:
    out = []
    for package in ("fisher", "fisher_asd"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return out


def layer_violations(files: list[tuple[str, Path]]) -> list[str]:
    bad = []
    for module, path in files:
        unit = unit_of(module)
        for target, line in imports(path, module):
            other = unit_of(target)
            if module == unit and unit in ROOTS:
                continue  # a package root re-exports from its own subpackages
            if other == unit:
                continue
            if rank_of(other) >= rank_of(unit):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {unit} imports {target} (same or higher layer)")
    return bad


def test_subpackages_form_the_documented_layers():
    bad = layer_violations(source_files())
    assert not bad, "layering violations:\n" + "\n".join(bad)


def test_nothing_inside_fisher_imports_its_root():
    bad = [
        f"{path.relative_to(ROOT)}:{line}"
        for module, path in source_files()
        if module != "fisher" and module.startswith("fisher.")
        for target, line in imports(path, module)
        if target == "fisher" or target == "fisher.__version__"
    ]
    assert not bad, f"these import the package root `fisher` (use fisher.version or a leaf module): {bad}"


def test_the_checker_sees_violations(tmp_path):
    """The rule can fail: an upward deferred import is caught, one under TYPE_CHECKING is not."""
    src = tmp_path / "fisher" / "model" / "x.py"
    src.parent.mkdir(parents=True)
    (tmp_path / "fisher" / "inference").mkdir()
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from fisher.eval.encoders import Encoder\n"
        "def f():\n    from fisher.inference.parallel import embed_files\n    import fisher\n"
    )
    found = imports(src, "fisher.model.x")
    assert [n for n, _ in found] == ["fisher.inference.parallel", "fisher"]
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        bad = layer_violations([("fisher.model.x", src)])
    finally:
        ROOT = saved
    assert len(bad) == 1 and "fisher.inference.parallel" in bad[0]


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_function_over_80_lines():
    bad = [line for _, path in source_files() for line in long_functions(path)]
    assert not bad, "functions over 80 lines (split them):\n" + "\n".join(bad)


def test_embed_is_a_method_of_the_class():
    pytest.importorskip("torch")
    from fisher.model.network import Fisher

    for name in ("embed", "embed_file"):
        assert name in Fisher.__dict__, name
        assert Fisher.__dict__[name].__qualname__ == f"Fisher.{name}"
        assert Fisher.__dict__[name].__module__ == "fisher.model.network"
