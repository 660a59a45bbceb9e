"""CherryQ experiments: impact and heterogeneity, PTQ baselines, QAT with cherries."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import torch

from llmrepro.cherryq import gptq as G
from llmrepro.cherryq import impact as I
from llmrepro.cherryq import qat as Q
from llmrepro.cherryq.config import DataCfg, EvalCfg, PtqCfg, QatCfg
from llmrepro.cherryq.quant import bits_per_weight, cherry_count, quantize_matrix, scores_for, select, target_linears
from llmrepro.data.corpora import read_split
from llmrepro.data.tokenizer import encode_corpus
from llmrepro.models.evaluate import window_nlls

# ---------------------------------------------------------------- data

def corpus_ids(tok, corpus_dirs: dict[str, Path], split: str) -> dict[str, np.ndarray]:
    return {c: np.asarray(encode_corpus(tok, read_split(d, split))) for c, d in corpus_dirs.items()}


def load_data(tok, corpus_dirs: dict[str, Path], data: DataCfg) -> tuple[dict, dict]:
    """(train, test) token ids per corpus: the common corpora, or hub datasets when set."""
    from llmrepro.data.sources import load_hub_text

    ids = lambda ds: np.asarray(encode_corpus(tok, load_hub_text(ds)))
    train = {data.hub_calib.id: ids(data.hub_calib)} if data.hub_calib else corpus_ids(tok, corpus_dirs, "train")
    test = {ds.id: ids(ds) for ds in data.hub_eval} if data.hub_eval else corpus_ids(tok, corpus_dirs, "test")
    return train, test


def calibration(ids: dict[str, np.ndarray], n: int, length: int, seed: int) -> torch.Tensor:
    """n random windows, alternating between corpora, from the train split."""
    rng = np.random.default_rng(seed)
    names = sorted(ids)
    out = []
    for i in range(n):
        x = ids[names[i % len(names)]]
        s = int(rng.integers(0, len(x) - length))
        out.append(x[s: s + length])
    return torch.from_numpy(np.stack(out).astype(np.int64))


def perplexity(model, test: dict[str, np.ndarray], cfg: EvalCfg) -> dict[str, float]:
    """Per-corpus perplexity and the perplexity of both corpora pooled (mean NLL)."""
    nlls = {c: window_nlls(model, ids, cfg.seq_len, cfg.windows, cfg.batch) for c, ids in test.items()}
    return {**{c: float(math.exp(n.mean())) for c, n in nlls.items()},
            "both": float(math.exp(np.concatenate(list(nlls.values())).mean()))}


# ---------------------------------------------------------------- quantization

def masks_for(model, impact: dict[str, torch.Tensor], criterion: str | None, fraction: float,
              seed: int) -> dict[str, torch.Tensor | None]:
    out = {}
    for i, (name, m) in enumerate(target_linears(model).items()):
        k = cherry_count(m.in_features, fraction) if criterion else 0
        out[name] = select(scores_for(criterion, m.weight.detach(), impact.get(name), seed + i), k) if k else None
    return out


def rtn(model, bits: int, group: int, masks: dict[str, torch.Tensor | None]) -> None:
    """Round-to-nearest in place; entries under a mask (cherries) keep full precision."""
    with torch.no_grad():
        for name, m in target_linears(model).items():
            m.weight.copy_(quantize_matrix(m.weight, bits, group, masks.get(name)))


def storage_bits(model, bits: int, group: int, fraction: float) -> float:
    lins = target_linears(model).values()
    total = sum(m.in_features * m.out_features for m in lins)
    return sum(bits_per_weight(m.in_features, bits, group, cherry_count(m.in_features, fraction))
               * m.in_features * m.out_features for m in lins) / total


def ptq(model, impact, test, cfg: PtqCfg, ev: EvalCfg, H: dict | None = None, progress=None) -> list[dict]:
    """RTN, GPTQ (when Hessians are given) and RTN with cherries by each criterion."""
    rows = [{"method": "fp", "bits": 16, "bpw": 16.0, **perplexity(model, test, ev)}]
    runs = [(b, "rtn", None) for b in cfg.bits] + [(b, "gptq", None) for b in cfg.bits if H is not None]
    runs += [(b, f"rtn+{c}", c) for b in cfg.bits for c in cfg.criteria]
    for bits, method, crit in progress(runs, total=len(runs), desc="ptq") if progress else runs:
        m = copy.deepcopy(model)
        if method == "gptq":
            G.quantize_model(m, H, bits, cfg.group)
        else:
            rtn(m, bits, cfg.group, masks_for(m, impact, crit, cfg.fraction, seed=bits))
        frac = cfg.fraction if crit else 0.0
        rows.append({"method": method, "bits": bits, "bpw": storage_bits(m, bits, cfg.group, frac),
                     **perplexity(m, test, ev)})
        del m
    return rows


# ---------------------------------------------------------------- QAT

def qat_run(model, impact, train_ids: np.ndarray, test, cfg: QatCfg, ev: EvalCfg, bits: int, method: str,
            fraction: float, seed: int, context: int) -> dict:
    from llmrepro.models import train as T

    torch.manual_seed(seed)
    m = copy.deepcopy(model)
    crit = None if method == "qat" else method
    wrapped = Q.wrap(m, bits, cfg.group, masks_for(m, impact, crit, fraction, seed))
    tcfg = T.TrainCfg(steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, warmup=cfg.warmup, min_lr_ratio=cfg.min_lr_ratio)
    hist, _ = T.train(m, T.window_batches(train_ids, cfg.batch, context, seed), tcfg)
    Q.unwrap(m, wrapped, bake=True)
    return {"method": method, "fraction": fraction if crit else 0.0, "seed": seed, "bits": bits,
            "loss_first": hist["loss"][0], "loss_last": hist["loss"][-1], **perplexity(m, test, ev)}


# ---------------------------------------------------------------- models

def impact_and_hs(model, init_model, calib: torch.Tensor, init_calib: torch.Tensor, progress=None) -> tuple[dict, dict]:
    imp = I.fisher(model, calib, progress)
    init_imp = I.fisher(init_model, init_calib, progress)
    table = I.hs_table(model, imp, init_imp)
    first = next(iter(imp))
    table["curves"] = {"trained": I.sorted_curve(imp[first]), "init": I.sorted_curve(init_imp[first]),
                       "magnitude": I.sorted_curve(target_linears(model)[first].weight.detach().abs()),
                       "matrix": first}
    return imp, table


def random_init_like(model, seed: int):
    torch.manual_seed(seed)
    return type(model)(copy.deepcopy(model.config)).eval()
