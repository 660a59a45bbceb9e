"""Replay of the paper's own released numbers (bethgelab/frequency_determines_performance)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmrepro import io
from llmrepro.freq import analysis as A
from llmrepro.freq.config import ReplayCfg

# The 18 classification datasets the paper's notebook pools (imagenet-r is left out there).
DATASETS = ("imagenet", "cifar10", "cifar100", "caltech101", "caltech256", "sun397", "birdsnap", "country211", "cub",
            "dtd", "eurosat", "fgvcaircraft", "flowers102", "food101", "imagenet-sketch", "oxfordpets",
            "stanfordcars", "ucf101")


def files(cfg: ReplayCfg) -> list[str]:
    pre = sorted({p.pretrain for p in cfg.pairs})
    out = [f"search_counts/{d}_{p}_{cfg.count_type}_search_counts.json" for d in DATASETS for p in pre]
    out += [f"zero_shot_evaluations/{d}_{cfg.prompt}_results.json" for d in DATASETS]
    return out + ["let_it_wag_datasets/evaluations/let_it_wag_ensemble_results.json", "LICENSE"]


def concept_table(root: Path, cfg: ReplayCfg, pretrain: str, model: str) -> tuple[list[int], list[float]]:
    """(count, accuracy) per class entry, matched by class name as the notebook does."""
    counts, accs = [], []
    for ds in DATASETS:
        c = io.read_json(root / f"search_counts/{ds}_{pretrain}_{cfg.count_type}_search_counts.json")
        res = io.read_json(root / f"zero_shot_evaluations/{ds}_{cfg.prompt}_results.json")
        key = next((k for k in res if pretrain in k and model in k), None)
        if key is None:
            raise KeyError(f"{ds}: no zero-shot result for model {model} on {pretrain}; have {', '.join(res)}")
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
    return {"models": len(models), "mean_drop_pp": float(np.mean(drops)),
            "per_model": {m: {"imagenet": imnet[m]["full"], "let_it_wag": liw[m]["full"]} for m in models}}


def replay(root: Path, cfg: ReplayCfg) -> dict:
    out = {}
    for p in cfg.pairs:
        counts, acc = concept_table(root, cfg, p.pretrain, p.model)
        rho = A.binned_rho(counts, acc, p.drop_low, 1)
        edges, means, sizes = A.binned(counts, acc)
        out[f"{p.pretrain}/{p.model}"] = {
            "binned_rho": rho, "legend_rho": p.legend_rho, "abs_diff": abs(rho - p.legend_rho),
            **A.per_concept(counts, acc), "slope_pp_per_decade": A.slope_ci(counts, acc, cfg.n_boot),
            "bins": {"edges": edges, "means": means, "sizes": sizes}, "counts": counts, "acc": acc,
        }
    return {"pairs": out, "max_abs_diff": max(v["abs_diff"] for v in out.values()),
            "max_per_concept_r": max(v["pearson_r"] for v in out.values()),
            "let_it_wag": let_it_wag_gap(root, cfg.prompt)}
