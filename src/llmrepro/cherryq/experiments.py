"""CherryQ experiments: impact and heterogeneity, PTQ baselines, QAT with cherries.

Replicate r is calibration subset r (`calib.seeds[r]`): its impact picks the cherries
and its Hessians drive GPTQ, and QAT run r trains with data order `qat.seeds[r]`.
Intervals are taken over replicates, so they cover which calibration text was drawn
as well as the QAT data order.
"""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from llmrepro.cherryq import gptq as G
from llmrepro.cherryq import impact as I
from llmrepro.cherryq import qat as Q
from llmrepro.cherryq.config import CalibCfg, DataCfg, EvalCfg, PtqCfg, QatCfg
from llmrepro.cherryq.quant import (bits_per_weight, cherry_count, equal_bits_group, parse_criterion,
                                    quantize_matrix, scores_for, select, target_linears)
from llmrepro.data.corpora import read_split
from llmrepro.data.tokenizer import encode_corpus
from llmrepro.models.evaluate import window_nlls

# ---------------------------------------------------------------- data

def load_texts(corpus_dirs: dict[str, Path], data: DataCfg) -> tuple[dict[str, str], dict[str, str]]:
    """(calibration/training, evaluation) texts per corpus: the common corpora's train split and
    `data.eval_split`, or hub datasets when set."""
    from llmrepro.data.sources import load_hub_text

    train = ({data.hub_calib.id: load_hub_text(data.hub_calib)} if data.hub_calib
             else {c: read_split(d, "train") for c, d in corpus_dirs.items()})
    test = ({ds.id: load_hub_text(ds) for ds in data.hub_eval} if data.hub_eval
            else {c: read_split(d, data.eval_split) for c, d in corpus_dirs.items()})
    return train, test


def encode(tok, texts: dict[str, str]) -> dict[str, np.ndarray]:
    return {c: np.asarray(encode_corpus(tok, t)) for c, t in texts.items()}


def calibration(tok, texts: dict[str, str], n: int, length: int, seed: int) -> torch.Tensor:
    """n windows of `length` tokens, alternating between corpora, each from the first line
    break after a random character offset. Only the windows are tokenized, not the corpus."""
    rng = np.random.default_rng(seed)
    names = sorted(texts)
    out = []
    for i in range(n):
        text = texts[names[i % len(names)]]
        span = 32 * length  # characters: far more than `length` tokens of any tokenizer here
        if len(text) <= span:
            raise ValueError(f"calibration text {names[i % len(names)]!r} has {len(text)} characters, fewer than "
                             f"{span} for a window of {length} tokens")
        start = text.find("\n", int(rng.integers(0, len(text) - span))) + 1
        ids = tok(text[start: start + span], add_special_tokens=False)["input_ids"][:length]
        if len(ids) < length:
            raise ValueError(f"a calibration window of {span} characters gave {len(ids)} < {length} tokens")
        out.append(ids)
    return torch.tensor(out, dtype=torch.int64)


def subsets(tok, texts: dict[str, str], calib: CalibCfg) -> list[torch.Tensor]:
    return [calibration(tok, texts, calib.sequences, calib.length, s) for s in calib.seeds]


def perplexity(model, test: dict[str, np.ndarray], cfg: EvalCfg) -> dict[str, float]:
    """Per-corpus perplexity and the perplexity of both corpora pooled (mean NLL)."""
    nlls = {c: window_nlls(model, ids, cfg.seq_len, cfg.windows, cfg.batch) for c, ids in test.items()}
    return {**{c: float(math.exp(n.mean())) for c, n in nlls.items()},
            "both": float(math.exp(np.concatenate(list(nlls.values())).mean()))}


# ---------------------------------------------------------------- quantization

def in_features(model) -> list[int]:
    return [m.in_features for m in target_linears(model).values()]


def masks_for(model, impact: dict[str, torch.Tensor] | None, criterion: str | None, fraction: float,
              seed: int) -> dict[str, torch.Tensor | None]:
    out = {}
    crit = parse_criterion(criterion)[0] if criterion else None
    for i, (name, m) in enumerate(target_linears(model).items()):
        k = cherry_count(m.in_features, fraction) if crit else 0
        scores = scores_for(crit, m.weight.detach(), impact.get(name) if impact else None, seed + i) if k else None
        out[name] = select(scores, k) if k else None
    return out


def rtn(model, bits: int, group: int, masks: dict[str, torch.Tensor | None], prescale: bool = False) -> None:
    """Round-to-nearest in place; entries under a mask (cherries) keep full precision."""
    with torch.no_grad():
        for name, m in target_linears(model).items():
            m.weight.copy_(quantize_matrix(m.weight, bits, group, masks.get(name), prescale))


def storage_bits(model, bits: int, group: int, fraction: float, prescale: bool = False) -> float:
    lins = target_linears(model).values()
    total = sum(m.in_features * m.out_features for m in lins)
    return sum(bits_per_weight(m.in_features, bits, group, cherry_count(m.in_features, fraction), prescale)
               * m.in_features * m.out_features for m in lins) / total


@contextmanager
def restored(model):
    """Quantize a model in place inside the block; its target weights come back after it."""
    saved = {n: m.weight.detach().clone() for n, m in target_linears(model).items()}
    try:
        yield model
    finally:
        with torch.no_grad():
            for n, m in target_linears(model).items():
                m.weight.copy_(saved[n])


def ptq_plan(cfg: PtqCfg, replicates: int, gptq_per_replicate: bool) -> list[tuple[str, int, int | None]]:
    """(method, bits, replicate) rows. Methods that do not read the calibration subset run
    once (replicate None); GPTQ runs per subset, or once on the pooled Hessians."""
    rows: list[tuple[str, int, int | None]] = [("fp", 16, None)]
    rows += [("rtn", b, None) for b in cfg.rtn_bits if b not in cfg.bits]
    for b in cfg.bits:
        rows += [("rtn", b, None), ("rtn_equal_bits", b, None)]
        rows += [(f"rtn+{c}", b, None) for c in cfg.criteria if parse_criterion(c)[0] == "magnitude"]
        gptq = [{"nominal": "gptq", "equal_bits": "gptq_equal_bits"}[g] for g in cfg.gptq]
        if not gptq_per_replicate:
            rows += [(g, b, None) for g in gptq]
        for r in range(replicates):
            if gptq_per_replicate:
                rows += [(g, b, r) for g in gptq]
            rows += [(f"rtn+{c}", b, r) for c in cfg.criteria if parse_criterion(c)[0] != "magnitude"]
    return rows


def ptq(model, impacts: list[dict], H: list[dict] | dict, test, cfg: PtqCfg, ev: EvalCfg, seeds: list[int],
        progress=None) -> list[dict]:
    """RTN, GPTQ and RTN with cherries by each criterion, at the nominal group size and (no
    cherries) at the equal-bits group size. `H` is one Hessian dict per replicate or one pooled
    dict; `seeds[r]` seeds replicate r's random cherries."""
    per = isinstance(H, list)
    plan = ptq_plan(cfg, len(impacts), per)
    rows = []
    for method, bits, r in progress(plan, total=len(plan), desc="ptq") if progress else plan:
        base, _, crit = method.partition("+")
        eq = base.endswith("_equal_bits")
        group = equal_bits_group(in_features(model), bits, cfg.group, cfg.fraction) if eq else cfg.group
        prescale = parse_criterion(crit)[1] if crit else False
        with restored(model):
            if base.startswith("gptq"):
                G.quantize_model(model, H[r] if per else H, bits, group)
            elif base != "fp":
                rtn(model, bits, group, masks_for(model, impacts[r] if r is not None else None, crit or None,
                                                  cfg.fraction, seeds[r] if r is not None else 0), prescale)
            bpw = 16.0 if base == "fp" else storage_bits(model, bits, group, cfg.fraction if crit else 0.0, prescale)
            rows.append({"method": method, "bits": bits, "group": None if base == "fp" else group, "bpw": bpw,
                         "replicate": r, **perplexity(model, test, ev)})
    return rows


# ---------------------------------------------------------------- QAT

def qat_run(model, impact: dict[str, torch.Tensor], stream: np.ndarray, test, cfg: QatCfg, ev: EvalCfg,
            bits: int, method: str, replicate: int, context: int) -> dict:
    """One QAT run: `method` is an arm of QatCfg.methods; replicate r uses calibration subset
    r's impact and data order qat.seeds[r]. Logs the fraction of codes QAT changed."""
    from llmrepro.models import train as T

    seed = cfg.seeds[replicate]
    torch.manual_seed(seed)
    m = copy.deepcopy(model)
    crit = None if method.startswith("qat") else method
    prescale = parse_criterion(crit)[1] if crit else False
    group = equal_bits_group(in_features(m), bits, cfg.group, cfg.fraction) if method == "qat_equal_bits" else cfg.group
    wrapped = Q.wrap(m, bits, group, masks_for(m, impact, crit, cfg.fraction, seed), prescale)
    before = Q.codes(wrapped)
    tcfg = T.TrainCfg(steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, warmup=cfg.warmup, min_lr_ratio=cfg.min_lr_ratio)
    hist, _ = T.train(m, T.window_batches(stream, cfg.batch, context, seed), tcfg)
    change = Q.code_change(before, Q.codes(wrapped))
    Q.unwrap(m, wrapped, bake=True)
    return {"method": method, "bits": bits, "group": group, "replicate": replicate, "seed": seed,
            "bpw": storage_bits(m, bits, group, cfg.fraction if crit else 0.0, prescale), "code_change": change,
            "loss_first": hist["loss"][0], "loss_last": hist["loss"][-1], **perplexity(m, test, ev)}


# ---------------------------------------------------------------- models

def setup(model, fraction: float) -> dict:
    """What the page says about a model: its size and the cherries per row."""
    ins = sorted(set(in_features(model)))
    return {"params": int(sum(p.numel() for p in model.parameters())), "in_features": ins,
            "cherries_per_row": [cherry_count(n, fraction) for n in ins], "fraction": fraction}


def impact_and_hs(model, init_model, impacts: list[dict], init_calib: torch.Tensor, batch: int,
                  progress=None) -> tuple[dict, dict]:
    """The impact pooled over calibration subsets (the Fisher of their union), its
    heterogeneity table against |w| and against the same architecture at random init."""
    pooled = {n: sum(imp[n] for imp in impacts) / len(impacts) for n in impacts[0]}
    init_imp = I.fisher(init_model, init_calib, batch, progress)
    table = I.hs_table(model, pooled, init_imp)
    first = next(iter(pooled))
    table["curves"] = {"trained": I.sorted_curve(pooled[first]), "init": I.sorted_curve(init_imp[first]),
                       "magnitude": I.sorted_curve(target_linears(model)[first].weight.detach().abs()),
                       "matrix": first}
    return pooled, table


def random_init_like(model, seed: int):
    torch.manual_seed(seed)
    return type(model)(copy.deepcopy(model.config)).eval()
