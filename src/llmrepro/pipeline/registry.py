"""The stage registry: every stage of every paper, checked as one DAG.

`load_registry(root)` imports `stages/*.py` from the project root (the glue
layer; the library itself never imports it), expands code directories into
file lists, and rejects: duplicate names, an output with two producers, a dep
that is neither a source file nor another stage's output, a param key that
params.yaml lacks, a resource override for a step that does not exist, and
cycles.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from llmrepro.pipeline.params import has_key
from llmrepro.pipeline.stage import CODE_CHECK, CODE_DIRS, Paper, RegistryError, Stage, is_dir, strip


class Registry:
    def __init__(self, stages: Iterable[Stage], params: dict[str, Any] | None = None,
                 root: Path | None = None):
        self.root = root
        by_name: dict[str, Stage] = {}
        for s in stages:
            if s.name in by_name:
                raise RegistryError(f"stage {s.name!r} is declared twice "
                                    f"(papers {by_name[s.name].paper!r} and {s.paper!r})")
            by_name[s.name] = s
        self._check_outputs(by_name.values())
        self.upstream = self._edges(by_name.values())
        self.stages = self._toposort(by_name)
        self._by_name = {s.name: s for s in self.stages}
        if params is not None:
            self._check_params(params)

    # -- lookups
    def __iter__(self):
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    def __getitem__(self, name: str) -> Stage:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no stage {name!r}; known stages: {', '.join(self._by_name)}") from None

    def papers(self) -> dict[str, list[Stage]]:
        out: dict[str, list[Stage]] = {}
        for s in self.stages:
            out.setdefault(s.paper, []).append(s)
        return out

    def paper(self, paper: str) -> list[Stage]:
        papers = self.papers()
        if paper not in papers:
            raise KeyError(f"no paper {paper!r}; papers with stages: {', '.join(papers)}")
        return papers[paper]

    def edges(self) -> set[tuple[str, str]]:
        return {(u, s) for s, ups in self.upstream.items() for u in ups}

    def downstream(self, names: Iterable[str]) -> set[str]:
        """The names plus everything that (transitively) depends on them."""
        down: dict[str, set[str]] = {s.name: set() for s in self.stages}
        for s, ups in self.upstream.items():
            for u in ups:
                down[u].add(s)
        out, todo = set(), list(names)
        while todo:
            n = todo.pop()
            if n not in out:
                out.add(n)
                todo.extend(down[n])
        return out

    def ancestors(self, names: Iterable[str]) -> set[str]:
        out, todo = set(), list(names)
        while todo:
            n = todo.pop()
            if n not in out:
                out.add(n)
                todo.extend(self.upstream[n])
        return out

    def producer_of(self, path: str) -> str | None:
        """The stage whose output is `path` or contains it (a file inside a directory out)."""
        p = strip(path)
        for s in self.stages:
            for out in s.all_outs().values():
                o = strip(out)
                if p == o or (is_dir(out) and p.startswith(o + "/")):
                    return s.name
        return None

    # -- checks
    @staticmethod
    def _check_outputs(stages: Iterable[Stage]) -> None:
        owner: dict[str, tuple[str, str]] = {}
        for s in stages:
            for out in s.all_outs().values():
                o = strip(out)
                for other, (who, raw) in owner.items():
                    nested = (is_dir(raw) and o.startswith(other + "/")) or (is_dir(out) and other.startswith(o + "/"))
                    if o == other or nested:
                        raise RegistryError(f"output {out!r} of stage {s.name!r} overlaps output {raw!r} of "
                                            f"stage {who!r}: every output has exactly one producer")
                owner[o] = (s.name, out)

    def _edges(self, stages: Iterable[Stage]) -> dict[str, set[str]]:
        stages = list(stages)
        outs = [(strip(o), is_dir(o), s.name) for s in stages for o in s.all_outs().values()]
        upstream: dict[str, set[str]] = {}
        for s in stages:
            ups = set()
            for dep in s.deps.values():
                d = strip(dep)
                hit = [n for o, isdir, n in outs if d == o or (isdir and d.startswith(o + "/"))]
                if hit:
                    ups.add(hit[0])
                elif self.root is not None and not (self.root / d).exists():
                    raise RegistryError(f"stage {s.name!r}: dep {dep!r} is neither a source file nor "
                                        f"another stage's output")
            for code in s.code:
                if self.root is not None and not (self.root / code).exists():
                    raise RegistryError(f"stage {s.name!r}: code file {code!r} does not exist")
            upstream[s.name] = ups - {s.name}
            if s.name in ups:
                raise RegistryError(f"stage {s.name!r} depends on its own output")
        return upstream

    def _toposort(self, by_name: dict[str, Stage]) -> list[Stage]:
        # Kahn's algorithm; declaration order breaks ties so the order is stable.
        order, done = [], set()
        pending = list(by_name)
        while pending:
            ready = [n for n in pending if self.upstream[n] <= done]
            if not ready:
                raise RegistryError("cycle among stages: " + " -> ".join(sorted(pending)))
            for n in ready:
                order.append(by_name[n])
                done.add(n)
            pending = [n for n in pending if n not in done]
        return order

    def _check_params(self, params: dict[str, Any]) -> None:
        for s in self.stages:
            for key in s.params:
                if not has_key(params, key):
                    raise RegistryError(f"stage {s.name!r} declares param {key!r}, which params.yaml lacks")
        steps = {(s.paper, s.step) for s in self.stages}
        for paper, section in params.items():
            for step in (section or {}).get("resources", {}) if isinstance(section, dict) else ():
                if (paper, step) not in steps:
                    known = sorted(st for p, st in steps if p == paper)
                    raise RegistryError(f"params.yaml: {paper}.resources.{step}: no stage {paper}_{step}; "
                                        f"steps of {paper}: {', '.join(known)}")


def expand_code(root: Path, stage: Stage) -> Stage:
    """The stage's code dependencies: its declared entries (a directory ending in "/"
    becomes the sorted source files below it) plus every module its imports reach."""
    from llmrepro.pipeline.codedeps import stage_code

    declared: list[str] = []
    for c in stage.code:
        if is_dir(c):
            d = root / c
            if not d.is_dir():
                raise RegistryError(f"stage {stage.name!r}: code directory {c!r} does not exist")
            declared += sorted(p.relative_to(root).as_posix() for p in d.rglob("*")
                               if p.suffix in (".py", ".md") and "__pycache__" not in p.parts)
        else:
            declared.append(c)
    missing = [c for c in declared if not (root / c).exists()]
    if missing:
        raise RegistryError(f"stage {stage.name!r}: code file {missing[0]!r} does not exist")
    return replace(stage, code=stage_code(root, stage.code[0], stage.fn, tuple(dict.fromkeys(declared))))


def stage_modules(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "stages").glob("*.py") if p.stem != "__init__")


def load_registry(root: Path | str, params: dict[str, Any] | None = None) -> Registry:
    root = Path(root).resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    stages: list[Stage] = []
    for mod_name in stage_modules(root):
        mod = importlib.import_module(f"stages.{mod_name}")
        paper = getattr(mod, "paper", None)
        if not isinstance(paper, Paper) or paper.id != mod_name:
            raise RegistryError(f"stages/{mod_name}.py must define `paper = Paper({mod_name!r}, ...)`")
        stages += [expand_code(root, s) for s in paper.stages.values()]
    # the code check depends on every file any stage runs (see CODE_STAMPS), all inside CODE_DIRS
    union = sorted({c for s in stages for c in s.code})
    outside = [c for c in union if not c.startswith(CODE_DIRS)]
    if outside:
        raise RegistryError(f"code file {outside[0]!r} is outside {', '.join(CODE_DIRS)}, which the code check "
                            "watches: move it there")
    stages = [replace(s, code=tuple(dict.fromkeys([*s.code, *union]))) if s.name == CODE_CHECK else s for s in stages]
    return Registry(stages, params=params, root=root)
