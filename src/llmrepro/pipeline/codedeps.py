"""A stage's code dependencies, read off its imports.

Neither DVC nor Snakemake sees Python imports, so every stage must list the source
files it runs, or an edit to one of them would not rerun it. Rather than keep those
lists by hand, the registry computes them: the stage file, the llmrepro modules its
function imports (and the stage file imports at top level), and, transitively, the
llmrepro modules those import. The machinery every stage runs under (the package
root, `io`, `pipeline/`) is left out: it does not change what a stage computes.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from pathlib import Path

MACHINERY = ("src/llmrepro/__init__.py", "src/llmrepro/io.py", "src/llmrepro/pipeline/")


def module_file(root: Path, mod: str) -> str | None:
    base = root / "src" / Path(*mod.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand.relative_to(root).as_posix()
    return None


def imported(tree: ast.AST) -> set[str]:
    """llmrepro modules a syntax tree imports; `from llmrepro.x import y` may name module x.y."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("llmrepro"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("llmrepro")}
    return out


@functools.lru_cache(maxsize=4096)
def source_imports(source: str) -> frozenset[str]:
    """`imported` of a file's text. Keyed by the text, so an edit is never served stale; every registry
    load parses each of ~150 files for each of ~80 stages otherwise (10 s of every `llmrepro` call)."""
    return frozenset(imported(ast.parse(source)))


def _files(root: Path, mods: set[str]) -> set[str]:
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py first: they are code the stage runs too.
    with_parents = {".".join(m.split(".")[:i]) for m in mods for i in range(1, m.count(".") + 2)}
    return {f for f in (module_file(root, m) for m in with_parents) if f and not f.startswith(MACHINERY)}


def closure(root: Path, files: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = [f for f in files if f.endswith(".py")]
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo += _files(root, set(source_imports((root / f).read_text())))
    return seen


def stage_code(root: Path, stage_file: str, fn, declared: tuple[str, ...]) -> tuple[str, ...]:
    """The stage file first, then every source file the stage's function reaches, sorted.
    `declared` adds what imports cannot show (report text, modules loaded by name)."""
    top = ast.parse((root / stage_file).read_text())
    roots = imported(ast.Module(body=[n for n in top.body if isinstance(n, (ast.Import, ast.ImportFrom))],
                                type_ignores=[]))
    try:
        roots |= imported(ast.parse(textwrap.dedent(inspect.getsource(fn))))
    except (OSError, TypeError):  # no source (a builtin, a lambda defined at runtime): declared code only
        pass
    lib = _files(root, roots) | {d for d in declared if d.startswith("src/") and d.endswith(".py")}
    found = closure(root, lib) | {d for d in declared if d != stage_file}
    return (stage_file, *sorted(found))


def stamp(root: Path, stage) -> dict:
    """What `report_code` writes for a stage (see CODE_STAMPS): the hash of each file it runs."""
    from llmrepro import io

    return {"stage": stage.name, "code": {c: io.file_hash(root / c) for c in stage.code}}


def stale_stamps(root: Path) -> list[str]:
    """Stages whose code stamp on disk differs from their code now: the stages a code edit reruns
    once `report_code` has run. DVC sees the edit only at `report_code` until then."""
    from llmrepro import io
    from llmrepro.pipeline.registry import load_registry
    from llmrepro.pipeline.stage import CODE_KEY

    out = []
    for s in load_registry(root):
        path = root / s.deps.get(CODE_KEY, "")
        if CODE_KEY in s.deps and (not path.is_file() or io.read_json(path) != stamp(root, s)):
            out.append(s.name)
    return out
