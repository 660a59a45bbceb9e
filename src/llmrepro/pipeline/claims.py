"""Claims: the paper's statement, the metric we compute, and a test fixed in code.

A check compares one metric (a dotted path into the paper's metrics.json) with
a threshold. A metric is a number, a boolean, or `{"value": v, "ci": [lo, hi]}`.
With `on="ci"` the whole interval must clear the threshold: an interval that
straddles it is *inconclusive*, one on the wrong side is *not reproduced*.

Verdict of a claim: a failed precondition makes it inconclusive; otherwise any
failed check makes it "not reproduced", any inconclusive check "inconclusive",
and only all-pass is "reproduced". Thresholds live in code, next to the claim,
and are chosen before results exist; the report shows them.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
PASS, FAIL, UNSURE = "pass", "fail", "inconclusive"
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class Check:
    metric: str
    op: str
    threshold: Any
    on: str = "value"  # "value" or "ci"
    label: str = ""

    def __post_init__(self):
        if self.op not in _OPS and self.op != "in":
            raise ValueError(f"check on {self.metric!r}: op {self.op!r} is not one of {', '.join([*_OPS, 'in'])}")
        if self.on not in ("value", "ci"):
            raise ValueError(f"check on {self.metric!r}: on={self.on!r} must be 'value' or 'ci'")

    @property
    def test(self) -> str:
        thr = f"[{self.threshold[0]}, {self.threshold[1]}]" if self.op == "in" else f"{self.threshold}"
        return f"{self.label or self.metric} {self.op} {thr}" + (" (whole 95% CI)" if self.on == "ci" else "")

    def _holds(self, v: float) -> bool:
        if self.op == "in":
            lo, hi = self.threshold
            return lo <= v <= hi
        return bool(_OPS[self.op](v, self.threshold))

    def evaluate(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        raw = lookup_metric(metrics, self.metric)
        value = raw.get("value") if isinstance(raw, dict) else raw
        ci = raw.get("ci") if isinstance(raw, dict) else None
        out = {"metric": self.metric, "test": self.test, "measured": value, "ci": ci}
        if value is None:
            return {**out, "outcome": UNSURE, "why": "not measured"}
        if self.on == "value" or isinstance(value, bool):
            return {**out, "outcome": PASS if self._holds(value) else FAIL}
        if ci is None:
            return {**out, "outcome": UNSURE, "why": "no interval (fewer than 2 runs)"}
        lo_ok, hi_ok = self._holds(ci[0]), self._holds(ci[1])
        if lo_ok and hi_ok:
            return {**out, "outcome": PASS}
        if not lo_ok and not hi_ok and self.op != "in":
            return {**out, "outcome": FAIL}
        return {**out, "outcome": UNSURE, "why": "interval straddles the threshold"}


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    checks: tuple[Check, ...]
    paper_value: str | None = None
    precondition: tuple[Check, ...] = ()
    scales: tuple[str, ...] = ("smoke", "mini", "full")
    note: str = ""

    def evaluate(self, metrics: Mapping[str, Any], scale: str) -> dict[str, Any]:
        pre = [c.evaluate(metrics) for c in self.precondition]
        checks = [c.evaluate(metrics) for c in self.checks]
        if any(p["outcome"] != PASS for p in pre):
            verdict = INCONCLUSIVE
        elif any(c["outcome"] == FAIL for c in checks):
            verdict = NOT_REPRODUCED
        elif any(c["outcome"] == UNSURE for c in checks):
            verdict = INCONCLUSIVE
        else:
            verdict = REPRODUCED
        return {"id": self.id, "statement": self.statement, "paper_value": self.paper_value,
                "verdict": verdict if scale in self.scales else "not applicable at this scale",
                "precondition": pre, "checks": checks, "note": self.note}


@dataclass(frozen=True)
class ClaimSet:
    paper: str
    claims: tuple[Claim, ...] = field(default_factory=tuple)

    def __post_init__(self):
        seen = set()
        for c in self.claims:
            if c.id in seen:
                raise ValueError(f"paper {self.paper!r}: claim id {c.id!r} is declared twice")
            seen.add(c.id)

    def evaluate(self, metrics: Mapping[str, Any], scale: str) -> dict[str, Any]:
        return {"paper": self.paper, "scale": scale,
                "claims": [c.evaluate(metrics, scale) for c in self.claims]}


def lookup_metric(metrics: Mapping[str, Any], path: str) -> Any:
    node: Any = metrics
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def counts(claims_doc: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in claims_doc["claims"]:
        out[c["verdict"]] = out.get(c["verdict"], 0) + 1
    return out


def verdicts(docs: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    return [(d["paper"], c["id"], c["verdict"]) for d in docs for c in d["claims"]]
