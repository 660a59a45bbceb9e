"""Claims: the paper's statement, the metric we compute, and a test fixed in code.

A check compares one metric (a dotted path into the paper's metrics.json) with
a threshold. A metric is a number, a boolean, or `{"value": v, "ci": [lo, hi]}`.
With `on="ci"` the whole interval must clear the threshold: an interval that
straddles it is *inconclusive*, one on the wrong side is *not reproduced*.

A metric may also be `{"value": None, "why": "<reason>"}`: a statistic that has
no value for a stated reason (a flat curve has no decay, a fit with one point no
slope). A check on it is *inconclusive* with that reason, never a failure; so is
a NaN.

Verdict of a claim: a failed precondition makes it inconclusive; otherwise any
failed check makes it "not reproduced", any inconclusive check "inconclusive",
and only all-pass is "reproduced". Thresholds live in code, next to the claim,
and are chosen before results exist; the report shows them.

`Tol` says how far a recomputed metric may move before `llmrepro verify` calls it
a different result (another CPU, another run); the default is "inside the
committed 95 % interval" for a metric with one, and relative 1e-6 otherwise.
`ClaimSet.timings` names the wall-clock fields of metrics.json: they are compared
as ratios, and left out of the byte-identical rerun check.
"""

from __future__ import annotations

import operator
import fnmatch
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
PASS, FAIL, UNSURE = "pass", "fail", "inconclusive"
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class Tol:
    """Agreement between a committed and a recomputed metric.

    `abs` + `rel`·|committed|: a bound on the difference; `ratio`: recomputed/committed within
    [1/ratio, ratio] (timings); `ci`: inside the committed interval (falls back to rel 1e-6 where
    the committed metric has none). Booleans and None must be equal whatever the tolerance."""

    abs: float = 0.0
    rel: float = 0.0
    ratio: float | None = None
    ci: bool = False

    def __post_init__(self):
        if self.abs < 0 or self.rel < 0 or (self.ratio is not None and self.ratio < 1):
            raise ValueError(f"Tol({self.abs}, {self.rel}, ratio={self.ratio}): bounds must be >= 0, ratio >= 1")

    @property
    def text(self) -> str:
        if self.ratio is not None:
            return f"ratio within {self.ratio:g}x"
        if self.ci:
            return "inside the committed 95% CI"
        return " + ".join([f"abs {self.abs:g}"] * bool(self.abs) + [f"rel {self.rel:g}"] * bool(self.rel)) or "exact"

    def effective(self, old: Any) -> Tol:
        """The tolerance that applies to this committed metric: `ci` needs an interval to be inside."""
        has_ci = isinstance(old, Mapping) and old.get("ci") and None not in old["ci"]
        if self.ci and not has_ci:
            return DETERMINISTIC
        return self

    def agrees(self, old: Any, new: Any) -> bool:
        if self.effective(old) is not self:
            return self.effective(old).agrees(old, new)
        ov, oci = (old.get("value"), old.get("ci")) if isinstance(old, Mapping) else (old, None)
        nv = new.get("value") if isinstance(new, Mapping) else new
        if ov is None or nv is None:
            return ov is nv
        if isinstance(ov, bool) or isinstance(nv, bool):
            return type(ov) is type(nv) and ov == nv  # True == 1.0 in Python; not here
        ov, nv = float(ov), float(nv)
        if not (math.isfinite(ov) and math.isfinite(nv)):
            return ov == nv or (math.isnan(ov) and math.isnan(nv))
        if self.ratio is not None:
            return ov == nv or (ov * nv > 0 and 1 / self.ratio <= nv / ov <= self.ratio)
        if self.ci:
            return oci[0] <= nv <= oci[1]
        return abs(nv - ov) <= self.abs + self.rel * abs(ov)


ESTIMATE = Tol(ci=True)
DETERMINISTIC = Tol(rel=1e-6)
TIMING = Tol(ratio=5.0)


@dataclass(frozen=True)
class Check:
    metric: str
    op: str
    threshold: Any
    on: str = "value"  # "value" or "ci"
    label: str = ""
    tol: Tol | None = None  # for `llmrepro verify`; None: the default (see Tol)

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
        value = raw.get("value") if isinstance(raw, Mapping) else raw
        ci = raw.get("ci") if isinstance(raw, Mapping) else None
        if hasattr(value, "item"):  # numpy scalars, numpy bool_ included
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out = {"metric": self.metric, "test": self.test, "measured": value, "ci": ci}
        if value is None:
            why = raw.get("why") if isinstance(raw, Mapping) else None
            return {**out, "outcome": UNSURE, "why": why or ("not measured" if raw is None else "no value (NaN)")}
        if self.on == "value" or isinstance(value, bool):
            return {**out, "outcome": PASS if self._holds(value) else FAIL}
        if ci is None or any(v is None for v in ci):
            return {**out, "outcome": UNSURE, "why": "no interval (fewer than 2 runs)"}
        lo_ok, hi_ok = self._holds(ci[0]), self._holds(ci[1])
        if lo_ok and hi_ok:
            return {**out, "outcome": PASS}
        if self.op == "in":
            lo, hi = self.threshold
            outside = ci[1] < lo or ci[0] > hi
        else:
            outside = not lo_ok and not hi_ok
        if outside:
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
    revised: str = ""  # why the check changed after its first result was known (the page keeps the old one)

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
                "precondition": pre, "checks": checks, "note": self.note,
                **({"revised": self.revised} if self.revised else {})}


@dataclass(frozen=True)
class ClaimSet:
    paper: str
    claims: tuple[Claim, ...] = field(default_factory=tuple)
    timings: tuple[str, ...] = ()  # dotted metrics.json paths of wall-clock fields; `*` matches one level
    # claims about the measuring machine itself (its latency noise): on another CPU they describe another
    # device, so `llmrepro verify` shows a moved one as a warning there; on the same CPU their verdicts must
    # be equal, and their metrics, which a second measurement moves past any useful tolerance, only warn
    device_bound: tuple[str, ...] = ()
    # verdicts seen to move outside the seed-shift run: (claim, verdict, the verdict seen instead, where).
    # While the committed verdict is the first, the claim is marked fragile as if the seed shift had moved it.
    seen_moving: tuple[tuple[str, str, str, str], ...] = ()

    def __post_init__(self):
        seen = set()
        for c in self.claims:
            if c.id in seen:
                raise ValueError(f"paper {self.paper!r}: claim id {c.id!r} is declared twice")
            seen.add(c.id)
        for cid, was, other, where in self.seen_moving:
            if was == other:
                raise ValueError(f"paper {self.paper!r}: seen_moving {cid}: {was!r} seen as {other!r} ({where}) "
                                 "is no move")
        for name, ids in (("device_bound", self.device_bound), ("seen_moving", [m[0] for m in self.seen_moving])):
            unknown = [cid for cid in ids if cid not in seen]
            if unknown:
                raise ValueError(f"paper {self.paper!r}: {name} names {', '.join(unknown)}, which are not claims "
                                 f"(claims: {', '.join(sorted(seen))})")

    def is_timing(self, path: str) -> bool:
        parts = path.split(".")
        return any(len(p.split(".")) <= len(parts) and
                   all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, p.split(".")))
                   for p in self.timings)

    def tolerance(self, check: Check) -> Tol:
        if check.tol is not None:
            return check.tol
        return TIMING if self.is_timing(check.metric) else ESTIMATE

    def checks(self) -> list[tuple[Claim, Check]]:
        return [(c, k) for c in self.claims for k in (*c.precondition, *c.checks)]

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
