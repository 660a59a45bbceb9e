"""VaL Probing at full scale: the paper's three tasks, its per-example metrics, its
position buckets, Avg and Gap. Real models are run greedily (the paper: vLLM,
temperature 0, 128 new tokens); the authors' released generations can be scored
the same way, which audits the paper's Table 1 without a GPU.

Rows follow the hub dataset `In2Training/VaLProbing-32K`: `prompt`, `position_id`,
`set_id`, and `completion` (document, code) or `label` + `description` (database).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SPAN = 50  # positions per bucket, as in VaLProbing/plot.py


def score(split: str, row: dict, pred: str) -> float:
    """The paper's metric for one example."""
    if split.startswith("document"):  # word-set recall of the gold sentence
        gold = set(row["completion"].strip().lower().split())
        return len(gold & set(pred.strip().lower().split())) / len(gold) if gold else 0.0
    if split.startswith("code"):  # the gold function name appears in the answer
        return float(row["completion"].strip(".") in pred)
    if split.startswith("database"):  # the label or the description appears
        p = pred.lower()
        return float(row["label"].strip(".").lower() in p or row["description"].strip(".").lower() in p)
    raise ValueError(f"unknown VaL split {split!r}")


def curve(rows: list[dict], scores: list[float], span: int = SPAN) -> dict:
    """Accuracy per bucket of `span` positions, averaged over sets (error bar: std over
    sets, as plot.py draws it), then Avg and Gap. Every position is used; plot.py's
    range(start, start + 49) leaves the last of each bucket out, which is not copied."""
    if not rows:
        return {"buckets": [], "std": [], "avg": None, "gap": None, "why": "no rows"}
    pos = np.array([r["position_id"] for r in rows])
    sets = np.array([r["set_id"] for r in rows])
    sc = np.asarray(scores, float)
    n_buckets = int(pos.max()) // span + 1
    per_set = []
    for s in sorted(set(sets.tolist())):
        m = sets == s
        per_set.append([sc[m & (pos // span == b)].mean() if (m & (pos // span == b)).any() else np.nan
                        for b in range(n_buckets)])
    per_set = np.array(per_set)
    mean = np.nanmean(per_set, axis=0)
    return {"buckets": mean.tolist(), "std": np.nanstd(per_set, axis=0).tolist(),
            "avg": float(np.nanmean(mean)), "gap": float(np.nanmax(mean) - np.nanmin(mean)), "examples": len(rows)}


def load_rows(ds, split: str, sets: list[int]) -> list[dict]:
    """A split at a pinned revision from the hub, or `<dir>/<split>.jsonl` from a local
    folder laid out as the authors' download.py writes it; indices are kept so skip
    lists (indices into the full split) still apply."""
    local = Path(ds.id)
    if local.is_dir():
        lines = (local / f"{split}.jsonl").read_text().splitlines()
        rows = [json.loads(x) for x in lines if x.strip()]
    else:
        import datasets

        rows = list(datasets.load_dataset(ds.id, revision=ds.revision, split=split))
    return [{**r, "index": i} for i, r in enumerate(rows) if r["set_id"] in sets]


def generate(model, tok, prompts: list[str], max_new_tokens: int, batch: int, progress=None) -> list[str]:
    """Greedy decoding, left-padded batches."""
    import torch

    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    out = []
    chunks = range(0, len(prompts), batch)
    for s in progress(chunks, total=len(chunks), desc="generate") if progress else chunks:
        enc = tok(prompts[s:s + batch], return_tensors="pt", padding=True).to(model.device)
        with torch.no_grad():
            ids = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tok.pad_token_id)
        out += tok.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return out


def evaluate(split: str, rows: list[dict], preds: list[str], skip: set[int] = frozenset()) -> dict:
    keep = [(r, p) for r, p in zip(rows, preds) if r["index"] not in skip]
    return curve([r for r, _ in keep], [score(split, r, p) for r, p in keep])


def run(cfg, progress=None) -> dict:
    """Every configured model on every split (the sets chosen); nothing at mini scale."""
    if not cfg.models:
        return {"models": {}, "note": "VaL Probing of real models runs at full scale only"}
    if cfg.dataset is None:
        raise ValueError("in2.valprobe.dataset is not pinned: set {id: In2Training/VaLProbing-32K, revision: <commit>} "
                         "before probing real models")
    import torch

    from llmrepro.models.factory import load_causal_lm

    rows = {s: load_rows(cfg.dataset, s, cfg.sets) for s in cfg.splits}
    out = {"dataset": f"{cfg.dataset.id}@{cfg.dataset.revision}", "sets": cfg.sets, "models": {}}
    for ref in cfg.models:
        model, tok = load_causal_lm(ref.id, ref.revision, dtype=cfg.dtype)
        if torch.cuda.is_available():
            model.to("cuda")
        res = {}
        for split, rs in rows.items():
            preds = generate(model, tok, [r["prompt"] for r in rs], cfg.max_new_tokens, cfg.batch, progress)
            res[split] = evaluate(split, rs, preds)
        res["all"] = {"avg": float(np.mean([res[s]["avg"] for s in rows])),
                      "gap": float(np.mean([res[s]["gap"] for s in rows]))}
        out["models"][f"{ref.id}@{ref.revision}"] = res
        del model
    return out
