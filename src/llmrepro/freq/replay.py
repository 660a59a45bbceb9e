"""Replay of the paper's own released numbers (bethgelab/frequency_determines_performance).

The reference for every replayed rho is the value the authors' own figure prints, written into
params beside the figure file's path in the released repository: the raster PNGs' legends were
read by eye; the vector PDFs' legends are read from the file by `legend_values`, and
tests/freq/test_freq.py checks every PDF value in params against the file itself. The pipeline
does not download the figures: the offline mirror the pipeline relies on carries only the
released data.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.freq import analysis as A
from llmrepro.freq.config import Pair, ReplayCfg

# The 18 classification datasets the paper's notebook pools (imagenet-r is left out there).
DATASETS = ("imagenet", "cifar10", "cifar100", "caltech101", "caltech256", "sun397", "birdsnap", "country211", "cub",
            "dtd", "eurosat", "fgvcaircraft", "flowers102", "food101", "imagenet-sketch", "oxfordpets",
            "stanfordcars", "ucf101")


def count_type(cfg: ReplayCfg, p: Pair) -> str:
    return p.count_type or cfg.count_type


def files(cfg: ReplayCfg) -> list[str]:
    counts = sorted({(p.pretrain, count_type(cfg, p)) for p in cfg.pairs})
    out = [f"search_counts/{d}_{pre}_{ct}_search_counts.json" for pre, ct in counts for d in DATASETS]
    out += [f"zero_shot_evaluations/{d}_{prompt}_results.json"
            for prompt in sorted({p.prompt for p in cfg.pairs}) for d in DATASETS]
    imnet = f"zero_shot_evaluations/imagenet_{cfg.let_it_wag_prompt}_results.json"
    return out + [imnet] * (imnet not in out) + ["let_it_wag_datasets/evaluations/let_it_wag_ensemble_results.json",
                                                 "LICENSE"]


def pdf_texts(pdf: bytes) -> list[str]:
    """The text runs of a matplotlib-written PDF: per BT...ET block, its Tj and TJ strings
    joined, control characters (mathtext glyphs such as rho) left out."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            s = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for block in re.finditer(rb"BT(.*?)ET", s, re.S):
            parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", block.group(1))
            text = b"".join(re.sub(rb"\\(.)", rb"\1", p) for p in parts).decode("latin-1")
            out.append("".join(ch for ch in text if ch.isprintable()))
    return out


LEGEND = re.compile(r"(?P<label>.*?),?\s*=(?P<value>-?\d+\.\d+)\**")


def legend_values(pdf: bytes) -> dict[str, float]:
    """Legend entries "<label>, rho=<value>[**]" of the paper's log-linear figures."""
    out = {}
    for t in pdf_texts(pdf):
        m = LEGEND.fullmatch(t.strip())
        if m:
            out[m.group("label").strip()] = float(m.group("value"))
    return out


def legend_entry(pdf: bytes, p: Pair) -> float:
    """The value a vector figure's legend prints for this pair."""
    label = p.label if p.label is not None else p.model
    found = legend_values(pdf)
    if label not in found:
        raise ValueError(f"{p.figure}: no legend entry {label!r}; the legend has {found}")
    return found[label]


def reference(p: Pair) -> dict:
    """The legend value the authors' figure prints for this pair, and how it was read."""
    how = ("from the vector figure's legend text (tests/freq check it against the file)" if p.figure.endswith(".pdf")
           else "by eye from the raster figure")
    return {"legend_rho": p.legend_rho, "figure": p.figure, "read": how}


def concept_table(root: Path, cfg: ReplayCfg, p: Pair) -> tuple[list[int], list[float]]:
    """(count, accuracy) per class entry, matched by class name as the notebook does."""
    counts, accs = [], []
    for ds in DATASETS:
        c = io.read_json(root / f"search_counts/{ds}_{p.pretrain}_{count_type(cfg, p)}_search_counts.json")
        res = io.read_json(root / f"zero_shot_evaluations/{ds}_{p.prompt}_results.json")
        key = next((k for k in res if p.pretrain in k and p.model in k), None)
        if key is None:
            raise KeyError(f"{ds}: no zero-shot result for model {p.model} on {p.pretrain}; have {', '.join(res)}")
        acc = dict(res[key]["classwise"])
        if ds == "cifar10":  # the one name that differs between the two files
            acc["airplane"] = acc.pop("plane")
        for name in sorted(c):
            counts.append(c[name])
            accs.append(acc[name])
    return counts, accs


def let_it_wag_gap(root: Path, prompt: str) -> dict:
    liw = io.read_json(root / "let_it_wag_datasets/evaluations/let_it_wag_ensemble_results.json")
    imnet = io.read_json(root / f"zero_shot_evaluations/imagenet_{prompt}_results.json")
    models = [m for m in liw if m in imnet]
    drops = [imnet[m]["full"] - liw[m]["full"] for m in models]
    return {"models": len(models), "mean_drop_pp": float(np.mean(drops)) if drops else None,
            "per_model": {m: {"imagenet": imnet[m]["full"], "let_it_wag": liw[m]["full"]} for m in models}}


def pair_key(p: Pair) -> str:
    return f"{p.set}/{p.pretrain}/{p.model}"


def replay(root: Path, cfg: ReplayCfg) -> dict:
    out = {}
    for p in cfg.pairs:
        counts, acc = concept_table(root, cfg, p)
        rho = A.binned_rho(counts, acc, p.drop_low, p.drop_high)
        ref = reference(p)
        edges, means, sizes = A.binned(counts, acc)
        out[pair_key(p)] = {
            "set": p.set, "pretrain": p.pretrain, "model": p.model, "prompt": p.prompt,
            "count_type": count_type(cfg, p), "drop": [p.drop_low, p.drop_high], "binned_rho": rho["value"],
            "empty_bins": rho["empty_bins"], **ref,
            "abs_diff": abs(rho["value"] - ref["legend_rho"]) if rho["value"] is not None else None,
            **A.per_concept(counts, acc), "slope_pp_per_decade": A.slope_ci(counts, acc, cfg.n_boot),
            "bins": {"edges": edges, "means": means, "sizes": sizes}, "counts": counts, "acc": acc,
        }
    sets = {}
    for s in sorted({p.set for p in cfg.pairs}):
        diffs = [v["abs_diff"] for v in out.values() if v["set"] == s]
        sets[s] = {"pairs": len(diffs), "max_abs_diff": None if None in diffs else max(diffs)}
    return {"pairs": out, "sets": sets, "let_it_wag": let_it_wag_gap(root, cfg.let_it_wag_prompt)}
