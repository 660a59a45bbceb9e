"""The stage record and the per-paper group that declares stages.

A stage is a frozen record: what it runs, what it reads, what it writes. Both
engines (DVC through the generated dvc.yaml, Snakemake through the Snakefile)
are driven from these records, so they cannot disagree about the DAG.

Paths ending in "/" are directories. That is the one convention that tells
Snakemake to wrap an output in directory(); DVC does not need it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Written by `report_params`, which depends on the whole of params.yaml, with the same bytes whenever
# the params are valid. Every other stage depends on it, so a plain `dvc repro <stage>` validates the
# whole file (unknown keys included) first, and a valid change leaves every stage's status alone.
PARAMS_CHECK, PARAMS_STAMP = "report_params", "data/params/validated.json"
# Written by `report_code`, which depends on every stage's code files: one stamp per stage, listing
# the hash of each file that stage runs. Under DVC a stage depends on its stamp instead of its code
# files, because DVC records every dependency in dvc.lock and rewrites the whole file after every
# stage (the code files were most of it); an edit changes the stamps of exactly the stages that run
# the file. Snakemake keeps no lock file and reads the code files directly.
CODE_CHECK, CODE_STAMPS = "report_code", "data/code/"
# The code check's own dependencies, as DVC records them: the folders that hold every code file, one
# dvc.lock entry each instead of one per file (.dvcignore leaves bytecode out). Any edit in them, the
# machinery's too, reruns the check; stamps that keep their bytes rerun nothing after it.
CODE_DIRS = ("src/llmrepro/", "stages/")
CODE_KEY = "code_checked"  # a stage's dep on its code stamp


def code_stamp(stage: str) -> str:
    return f"{CODE_STAMPS}{stage}.json"


def is_stamp(path: str) -> bool:
    """A params or code stamp: a dep that only orders DVC's stages (Snakemake reads params and code itself)."""
    return path == PARAMS_STAMP or path.startswith(CODE_STAMPS)


class RegistryError(ValueError):
    """A stage declaration is inconsistent. The message names the stage."""


@dataclass(frozen=True)
class Resources:
    """What Snakemake asks a scheduler for. DVC ignores it."""

    threads: int = 2
    mem_mb: int = 4000
    gpu: int = 0
    runtime: int = 30  # minutes

    def merged(self, override: Mapping[str, Any] | None) -> Resources:
        if not override:
            return self
        return Resources(**{**self.__dict__, **dict(override)})


def is_dir(path: str) -> bool:
    return path.endswith("/")


def strip(path: str) -> str:
    return path.rstrip("/")


def _frozen(m: Mapping[str, str] | None, what: str, stage: str) -> Mapping[str, str]:
    m = dict(m or {})
    for k in m:
        if not KEY_RE.match(k):
            raise RegistryError(f"stage {stage!r}: {what} key {k!r} must match {KEY_RE.pattern}")
    return MappingProxyType(m)


@dataclass(frozen=True)
class Curve:
    """A curve `dvc plots show` draws from a stage's data file (a JSON list of records)."""

    path: str
    x: str
    y: str | tuple[str, ...]
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    template: str = "linear"

    def props(self) -> dict[str, Any]:
        out = {"x": self.x, "y": list(self.y) if isinstance(self.y, tuple) else self.y, "template": self.template}
        out.update({k: v for k, v in (("title", self.title), ("x_label", self.x_label),
                                      ("y_label", self.y_label)) if v})
        return out


@dataclass(frozen=True)
class Stage:
    name: str
    paper: str
    fn: Callable[..., None] = field(compare=False, repr=False)
    code: tuple[str, ...] = ()
    deps: Mapping[str, str] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    outs: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, str] = field(default_factory=dict)
    plots: Mapping[str, str] = field(default_factory=dict)
    curves: tuple[Curve, ...] = ()  # data files among `outs` that DVC plots as curves
    resources: Resources = Resources()
    light: bool = False  # runs on the submit host under SLURM (localrules)
    always_changed: bool = False  # DVC reruns it every time (it reads the machine, not files)
    args: Mapping[str, Any] = field(default_factory=dict)
    desc: str = ""

    @property
    def step(self) -> str:
        """The name without the paper prefix: the key for resource overrides."""
        return self.name[len(self.paper) + 1:]

    @property
    def cmd(self) -> str:
        return f"python -m stages.{self.paper} {self.name}"

    @property
    def provenance(self) -> str:
        return f"reports/{self.paper}/provenance/{self.name}.json"

    def all_outs(self) -> dict[str, str]:
        """Every path this stage writes, keyed by its name in the stage code."""
        return {**self.outs, **self.metrics, **self.plots, "provenance": self.provenance}

    def dep_paths(self) -> list[str]:
        """Its dependencies as DVC records them: its code stamp stands for its code files."""
        if self.name == CODE_CHECK:
            return [*CODE_DIRS, *self.deps.values()]
        return [*(() if CODE_KEY in self.deps else self.code), *self.deps.values()]


class Paper:
    """The stages of one paper, declared in `stages/<id>.py`.

    >>> paper = Paper("attngrad", code=["src/llmrepro/attngrad/"])
    >>> @paper.stage(params=["attngrad.runtime"], outs={"timings": "data/attngrad/runtime.json"})
    ... def runtime(ctx): ...

    Fan-out over variants is a plain loop over `paper.add(...)`.
    """

    def __init__(self, id: str, code: list[str] | tuple[str, ...] = ()):
        if not NAME_RE.match(id):
            raise RegistryError(f"paper id {id!r} must match {NAME_RE.pattern}")
        self.id = id
        self.code = tuple(code)
        self.stages: dict[str, Stage] = {}

    def add(self, step: str, fn: Callable[..., None], *, code=(), deps=None, params=(), outs=None,
            metrics=None, plots=None, resources: Resources | None = None, light: bool = False,
            args: Mapping[str, Any] | None = None, desc: str = "", curves: Mapping[str, Curve] | None = None,
            always_changed: bool = False) -> Stage:
        name = f"{self.id}_{step}"
        if not NAME_RE.match(name):
            raise RegistryError(f"stage name {name!r} must match {NAME_RE.pattern}")
        if name in self.stages:
            raise RegistryError(f"stage {name!r} is declared twice in stages/{self.id}.py")
        if name not in (PARAMS_CHECK, CODE_CHECK):
            deps = {**(deps or {}), "params_checked": PARAMS_STAMP, CODE_KEY: code_stamp(name)}
        stage = Stage(
            name=name, paper=self.id, fn=fn,
            code=tuple(dict.fromkeys([f"stages/{self.id}.py", *self.code, *code])),
            deps=_frozen(deps, "deps", name), params=tuple(params),
            outs=_frozen({**(outs or {}), **{k: c.path for k, c in (curves or {}).items()}}, "outs", name),
            metrics=_frozen(metrics, "metrics", name), curves=tuple((curves or {}).values()),
            plots=_frozen(plots, "plots", name),
            # light stages (downloads, figures, reports) take one thread, so `snakemake -c2` runs two at once
            resources=resources or (Resources(threads=1) if light else Resources()),
            light=light, always_changed=always_changed, args=MappingProxyType(dict(args or {})),
            desc=desc or (fn.__doc__ or "").strip().split("\n")[0],
        )
        self.stages[name] = stage
        return stage

    def report(self, deps: Mapping[str, str], params=(), code=(), desc: str = "Claims and the paper's page") -> Stage:
        """The paper's claims stage: `llmrepro.<id>.report.report(ctx)` writes
        reports/<id>/README.md, claims.json and metrics.json from the results in `deps`
        (through `report.pages.publish`, which also reads reports/robustness.json)."""
        own = [f"src/llmrepro/{self.id}/{f}" for f in ("claims.py", "report.py", "report.md")]
        return self.add("report", _report, code=["src/llmrepro/report/pages.py", "src/llmrepro/report/site.py",
                                                 "src/llmrepro/pipeline/claims.py", *own, *code],
                        deps={**deps, "robustness": "reports/robustness.json"}, params=["common.scale", *params],
                        light=True, desc=desc,
                        outs={"readme": f"reports/{self.id}/README.md", "claims": f"reports/{self.id}/claims.json",
                              "html": f"reports/{self.id}/index.html"},
                        metrics={"metrics": f"reports/{self.id}/metrics.json"})

    def figures(self, deps: Mapping[str, str], plots: Mapping[str, str], code=(), desc: str = "",
                curves: Mapping[str, Curve] | None = None) -> Stage:
        """The paper's figures: `llmrepro.<id>.figures.draw_all(ctx.dep, ctx.out)`. `curves` are data
        files (reports/<id>/plots/*.json) it also writes, which `dvc plots show` draws."""
        return self.add("figures", _figures, code=["src/llmrepro/report/plots.py",
                                                   f"src/llmrepro/{self.id}/figures.py", *code],
                        deps=deps, plots=plots, light=True, desc=desc or "The paper's figures", curves=curves)

    def stage(self, **kw) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorator form of `add`; the step is the function's name."""

        def wrap(fn):
            self.add(fn.__name__, fn, **kw)
            return fn

        return wrap

    def main(self, argv: list[str] | None = None) -> None:
        """Entry point of `python -m stages.<id> <stage>`."""
        import os
        import sys

        from llmrepro.pipeline.runner import run_stage

        argv = sys.argv[1:] if argv is None else argv
        if os.environ.get("PYTHONHASHSEED") != "0":
            # str hashes, and with them set and dict-of-set orders, must be the same in every run
            os.environ["PYTHONHASHSEED"] = "0"
            os.execv(sys.executable, [sys.executable, "-m", f"stages.{self.id}", *argv])
        if len(argv) != 1 or argv[0] not in self.stages:
            known = ", ".join(self.stages) or "(none)"
            raise SystemExit(f"usage: python -m stages.{self.id} <stage>; stages of {self.id}: {known}")
        run_stage(self.stages[argv[0]], Path.cwd())


def _report(ctx) -> None:
    import importlib

    importlib.import_module(f"llmrepro.{ctx.stage.paper}.report").report(ctx)


def _figures(ctx) -> None:
    import importlib

    importlib.import_module(f"llmrepro.{ctx.stage.paper}.figures").draw_all(ctx.dep, ctx.out)
