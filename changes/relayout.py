"""Issue 12 relayout: move modules into the flow subpackages and rewrite dotted module paths.

The table is ``changes/12-moves.tsv`` (``old_module<TAB>new_module``); its last rows are modules merged into another
after the move commit (``fisher.rmis.encoders`` → ``fisher.eval.encoders``, ``fisher.datasets.audio`` →
``fisher.signals.reader`` ...): ``move`` skips them, ``rewrite`` applies them. One symbol moved on its own:
``split_bands`` is imported from ``fisher.model.bands`` (not ``fisher.model.network``). Two commands, run from the repository root:

* ``python changes/relayout.py move`` — ``git mv`` every old module / package to its new place (creating the new
  packages' ``__init__.py``), then rewrites the whole tree (below).
* ``python changes/relayout.py rewrite [PATH ...]`` — rewrite dotted module paths (``fisher.bank`` →
  ``fisher.search.index``, ``from fisher.dcase.names import`` → ``from fisher.eval.dcase.names import``) in the
  given files / folders (default: ``fisher fisher_asd tests docs examples benchmarks mkdocs.yml``). Use it on code
  written against the old layout, e.g. new files from another branch after a merge.

Rewrite rules (idempotent, so running it again on an already-rewritten or mixed file is safe):

* a dotted name ``fisher[_asd].a.b...`` is matched against the longest old module that is a prefix of it;
* it is left alone when a *deeper* prefix of it is a module or package that exists in the current tree (e.g.
  ``fisher.signals.validate`` is already new, although ``fisher.signals`` is an old module name);
* ``fisher.spectrogram(`` and ``from fisher import spectrogram`` are left alone (the public function);
* ``from fisher import baseline`` (a moved module imported by name) becomes ``from fisher.eval import baseline``.

Consequence for new code: import from the defining submodule (``fisher.model.network``), not from a package whose
name was an old module (``fisher.model``, ``fisher.signals``, ``fisher.hub``): the rewrite would redirect it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "changes" / "12-moves.tsv"
DEFAULT_PATHS = ["fisher", "fisher_asd", "tests", "docs", "examples", "benchmarks", "mkdocs.yml", "README.md"]
SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".cfg", ".txt"}
NAME = re.compile(r"\b(?:fisher_asd|fisher)(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def read_table() -> list[tuple[str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            old, new = line.split("\t")
            rows.append((old.strip(), new.strip()))
    return rows


def module_path(name: str) -> Path:
    return ROOT.joinpath(*name.split("."))


def exists(name: str) -> bool:
    path = module_path(name)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def rewrite_name(name: str, table: list[tuple[str, str]]) -> str:
    parts = name.split(".")
    for depth in range(len(parts), 0, -1):
        prefix = ".".join(parts[:depth])
        new = dict(table).get(prefix)
        if new is None:
            continue
        if any(exists(".".join(parts[:d])) for d in range(depth + 1, len(parts) + 1)):
            return name  # already in the new layout
        return ".".join([new, *parts[depth:]])
    return name


RELATIVE = re.compile(r"^(\s*from\s+)(\.+)([A-Za-z_][\w.]*)?(\s+import\b)", re.MULTILINE)


def module_name(path: Path) -> str | None:
    """Dotted module name of a file inside ``fisher`` / ``fisher_asd`` (``None`` elsewhere)."""
    rel = path.resolve().relative_to(ROOT).with_suffix("")
    if rel.parts[0] not in ("fisher", "fisher_asd"):
        return None
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def absolutize(text: str, module: str, is_package: bool, moved: bool, table: list[tuple[str, str]]) -> str:
    """Turn ``from ..x import y`` into ``from pkg.x import y`` when the file moves or ``pkg.x`` is an old module."""
    olds = [old for old, _ in table]

    def repl(match: re.Match[str]) -> str:
        dots, rest = len(match.group(2)), match.group(3) or ""
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (dots - 1)]
        target = ".".join([*base, rest] if rest else base)
        if moved or any(target == o or target.startswith(o + ".") for o in olds):
            return f"{match.group(1)}{target}{match.group(4)}"
        return match.group(0)

    return RELATIVE.sub(repl, text)


FROM_IMPORT = re.compile(
    r"^(\s*)from\s+((?:fisher_asd|fisher)(?:\.\w+)*)\s+import\s+(\w+(?:\s+as\s+\w+)?(?:\s*,\s*\w+(?:\s+as\s+\w+)?)*)[ \t]*$",
    re.MULTILINE,
)
PUBLIC_FUNCTIONS = {"fisher.spectrogram"}  # ``from fisher import spectrogram`` is the function, not the module


def rewrite_module_imports(text: str, table: list[tuple[str, str]]) -> str:
    """``from fisher import baseline`` -> ``from fisher.eval import baseline`` (a module imported by name)."""
    moves = dict(table)

    def repl(match: re.Match[str]) -> str:
        indent, package, names = match.groups()
        kept, lines = [], []
        for item in (n.strip() for n in names.split(",")):
            name, _, alias = (part.strip() for part in item.partition(" as "))
            old = f"{package}.{name}"
            if old not in moves or old in PUBLIC_FUNCTIONS:
                kept.append(item)
                continue
            parent, _, last = moves[old].rpartition(".")
            alias = alias or (name if last != name else "")
            lines.append(f"{indent}from {parent} import {last}" + (f" as {alias}" if alias else ""))
        if not lines:
            return match.group(0)
        if kept:
            lines.insert(0, f"{indent}from {package} import {', '.join(kept)}")
        return "\n".join(lines)

    return FROM_IMPORT.sub(repl, text)


def rewrite_text(text: str, table: list[tuple[str, str]]) -> str:
    text = rewrite_module_imports(text, table)

    def repl(match: re.Match[str]) -> str:
        end = match.end()
        if text[end : end + 1] == "(" and match.group(0) in PUBLIC_FUNCTIONS:
            return match.group(0)  # a module name called like a function: the public function (fisher.spectrogram)
        return rewrite_name(match.group(0), table)

    return NAME.sub(repl, text)


def iter_files(paths: list[str]):
    for p in paths:
        path = ROOT / p
        if path.is_file():
            yield path
        elif path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.is_file() and f.suffix in SUFFIXES and "__pycache__" not in f.parts:
                    yield f


def rewrite(paths: list[str], moved: set[Path] = frozenset()) -> int:
    table = read_table()
    changed = 0
    for f in iter_files(paths):
        text = f.read_text(encoding="utf-8")
        new = text
        module = module_name(f) if f.suffix == ".py" else None
        if module is not None:
            new = absolutize(new, module, f.name == "__init__.py", f.resolve() in moved, table)
        new = rewrite_text(new, table)
        if new != text:
            f.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def rewrite_relative_only(moved: set[Path], table: list[tuple[str, str]]) -> None:
    for f in iter_files(["fisher", "fisher_asd"]):
        if f.suffix != ".py":
            continue
        text = f.read_text(encoding="utf-8")
        new = absolutize(text, module_name(f), f.name == "__init__.py", f.resolve() in moved, table)
        if new != text:
            f.write_text(new, encoding="utf-8")


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True)


def move() -> None:
    table = read_table()
    moved = set()
    for old, _ in table:
        src = module_path(old)
        if not (src.with_suffix(".py").is_file() or src.is_dir()):
            continue
        moved |= {src.with_suffix(".py").resolve()} if src.with_suffix(".py").is_file() else set(src.rglob("*.py"))
    # relative imports are resolved against the old locations, before anything moves
    rewrite_relative_only(moved, table)
    for old, new in table:
        if not (module_path(old).with_suffix(".py").is_file() or module_path(old).is_dir()):
            continue  # already moved, or a later row (a module merged into another after the move commit)
        is_file = module_path(old).with_suffix(".py").is_file()
        src = module_path(old).with_suffix(".py") if is_file else module_path(old)
        dst = module_path(new).with_suffix(".py") if is_file else module_path(new)
        if module_path(new).with_suffix(".py").exists() or module_path(new).is_dir():
            continue  # moved already (running `move` twice is harmless)
        # every package between the package root and the destination needs an __init__.py
        for parent in reversed(dst.parents):
            if parent == ROOT or ROOT not in parent.parents:
                continue
            if parent.name in ("fisher", "fisher_asd") and parent.parent == ROOT:
                continue
            init = parent / "__init__.py"
            if not init.exists() and not (not is_file and parent == dst):
                parent.mkdir(parents=True, exist_ok=True)
                init.write_text(f'"""The ``{parent.name}`` subpackage."""\n', encoding="utf-8")
                git("add", str(init))
        git("mv", str(src), str(dst))
    print(f"rewrote {rewrite(DEFAULT_PATHS)} files")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("move", "rewrite"):
        sys.exit(__doc__)
    if argv[0] == "move":
        move()
    else:
        print(f"rewrote {rewrite(argv[1:] or DEFAULT_PATHS)} files")


if __name__ == "__main__":
    main(sys.argv[1:])
