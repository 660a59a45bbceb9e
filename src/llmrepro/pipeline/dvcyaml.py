"""Render dvc.yaml from the registry: fully expanded, no templating, stable order."""

from __future__ import annotations

from typing import Any

import yaml

from llmrepro.pipeline.registry import Registry
from llmrepro.pipeline.stage import Stage, strip

HEADER = """\
# GENERATED from the stage registry (stages/*.py) by `llmrepro dvc-yaml`. Do not edit:
# change the stage declarations and regenerate; tests/pipeline/test_sync.py fails
# when this file and the registry disagree.
"""


# Every output is `persist: true`: DVC must not delete it before the command runs, because the
# runner validates params and inputs first and only then replaces outputs atomically. A stage
# refused for a bad param therefore loses nothing (git-tracked provenance included), and DVC's
# run-cache, which skips persistent outputs, never restores a stage behind the runner's back.
def _out(path: str, cache: bool = True) -> dict[str, Any]:
    return {strip(path): {"cache": cache, "persist": True} if not cache else {"persist": True}}


def _nocache(paths) -> list[Any]:
    return [_out(p, cache=False) for p in paths]


def stage_entry(s: Stage) -> dict[str, Any]:
    entry: dict[str, Any] = {"cmd": s.cmd}
    if s.desc:
        entry["desc"] = s.desc
    if s.always_changed:
        entry["always_changed"] = True
    entry["deps"] = [strip(p) for p in s.dep_paths()]
    if s.params:
        entry["params"] = list(s.params)
    # Data and models go to the DVC cache; reports are small and live in git.
    outs: list[Any] = []
    for p in s.outs.values():
        outs.append(_out(p, cache=not p.startswith("reports/")))
    outs += _nocache([s.provenance])
    entry["outs"] = outs
    if s.metrics:
        entry["metrics"] = _nocache(s.metrics.values())
    if s.plots:
        entry["plots"] = _nocache(s.plots.values())
    return entry


def render(reg: Registry) -> str:
    doc: dict[str, Any] = {"stages": {s.name: stage_entry(s) for s in reg.stages}}
    curves = [{c.path: c.props()} for s in reg.stages for c in s.curves]
    if curves:  # `dvc plots show` draws these from data; the PNG figures stay as stage plots
        doc["plots"] = curves
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=120)
