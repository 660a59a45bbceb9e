"""Claim-change rows read from results recorded at several seed blocks (the committed seeds and those of
`llmrepro verify --seeds`), so the old numbers on a page are never copied by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmrepro.report.pages import ClaimChange, with_ci


def block_changes(before: Mapping[str, Any], how: str, reasons: Mapping[str, str]) -> tuple[ClaimChange, ...]:
    """One ClaimChange per old check of every claim in `reasons`, with its verdict and numbers at each seed
    block of `before` ({"commit", "blocks": {block name: claims.json's "claims"}}), e.g. the committed and the
    shifted seeds of `llmrepro verify --seeds`; `how` says what the old interval was."""
    blocks = {b: {c["id"]: c for c in claims} for b, claims in before["blocks"].items()}
    out = []
    for old in next(iter(before["blocks"].values())):
        if old["id"] not in reasons:
            continue
        for i, k in enumerate(old["checks"]):
            verdicts, numbers = [], []
            for b, claims in blocks.items():
                kk = claims[old["id"]]["checks"][i]
                verdicts.append(f"{claims[old['id']]['verdict']} ({b})")
                numbers.append(f"{with_ci(kk['measured'], kk.get('ci'))} ({b})")
            out.append(ClaimChange(old["id"], f"{k['test']}; {how}", "; ".join(verdicts), "; ".join(numbers),
                                   reasons[old["id"]], before["commit"]))
    return tuple(out)
