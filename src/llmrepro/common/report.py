"""The common section's metrics, claims and page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmrepro import io


def report(ctx) -> None:
    from llmrepro.common.claims import CLAIMS
    from llmrepro.report.pages import Report, publish

    hist = io.read_json(ctx.dep.history)
    ppl = io.read_json(ctx.dep.ppl)
    first, last = hist["eval"][0], hist["eval"][-1]
    corpora = [k.removeprefix("val_ppl_") for k in last if k.startswith("val_ppl_")]
    metrics: dict[str, Any] = {
        "tinylm": {
            "params": hist["params"], "steps": hist["step"][-1], "tokens_seen": hist["tokens"],
            **{f"val_ppl_start_{c}": first[f"val_ppl_{c}"] for c in corpora},
            **{f"val_ppl_end_{c}": last[f"val_ppl_{c}"] for c in corpora},
            **{f"ratio_end_to_start_{c}": last[f"val_ppl_{c}"] / first[f"val_ppl_{c}"] for c in corpora},
            **{f"ratio_to_unigram_{c}": last[f"val_ppl_{c}"] / hist["unigram_ppl"][c] for c in corpora},
            "unigram_ppl": hist["unigram_ppl"],
        },
        "smollm2": {k: v for k, v in ppl.items() if isinstance(v, dict) and "ppl" in v},
    }
    rows = [(f"SmolLM2 perplexity, held-out {c}", "– (the paper of SmolLM2 reports no Shakespeare/KJV numbers)",
             f"{v['ppl']:.2f} (unigram {v.get('unigram_ppl', float('nan')):.1f})")
            for c, v in metrics["smollm2"].items()]
    rows += [(f"tiny LM validation perplexity, {c}", "–",
              f"{first[f'val_ppl_{c}']:.1f} → {last[f'val_ppl_{c}']:.1f} after {hist['step'][-1]} steps")
             for c in corpora]
    narrative = (Path(__file__).parent / "report.md").read_text()
    publish(ctx, Report(paper="common", metrics=metrics, claims=CLAIMS, scale=ctx.params.common.scale,
                        narrative=narrative, rows=rows,
                        figures=[("tinylm_loss.png", "Training loss and validation perplexity of the tiny Llama"),
                                 ("smollm2_ppl.png", "SmolLM2 against a unigram model on held-out text")]))
