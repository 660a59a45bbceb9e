"""What each cherryq stage computes, given its inputs' paths and params."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from llmrepro.cherryq import experiments as E
from llmrepro.cherryq import gptq as G
from llmrepro.cherryq import impact as I
from llmrepro.cherryq.config import PretrainedCfg, QatModelCfg
from llmrepro.models.factory import load_source
from llmrepro.pipeline import pool


def _impact_file(out_dir: Path, r: int) -> Path:
    return out_dir / f"impact_{r}.safetensors"


def impact(cfg: QatModelCfg, model_dir: Path, corpus_dirs, out_dir: Path, progress=None) -> dict:
    """Impact per calibration subset (saved, one file each), and the heterogeneity table."""
    model, tok = load_source(cfg.model, model_dir)
    train, _ = E.load_texts(corpus_dirs, cfg.data)
    calib = E.subsets(tok, train, cfg.calib)
    imps = [I.fisher(model, c, cfg.calib.batch, progress) for c in calib]
    _, table = E.impact_and_hs(model, E.random_init_like(model, cfg.seed), imps, calib[0], cfg.calib.batch,
                               progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    for r, imp in enumerate(imps):
        save_file({k: v.contiguous() for k, v in imp.items()}, _impact_file(out_dir, r))
    return {**table, "setup": {"ptq": E.setup(model, cfg.ptq.fraction), "qat": E.setup(model, cfg.qat.fraction)}}


def _impacts(impact_dir: Path, n: int) -> list[dict]:
    return [load_file(_impact_file(impact_dir, r)) for r in range(n)]


def ptq(cfg: QatModelCfg, model_dir: Path, impact_dir: Path, corpus_dirs, progress=None) -> list[dict]:
    model, tok = load_source(cfg.model, model_dir)
    train, test = E.load_texts(corpus_dirs, cfg.data)
    H = [G.hessians(model, c) for c in E.subsets(tok, train, cfg.calib)]
    return E.ptq(model, _impacts(impact_dir, len(cfg.calib.seeds)), H, E.encode(tok, test), cfg.ptq, cfg.eval,
                 cfg.calib.seeds, progress)


def runs(cfg: QatModelCfg) -> list[tuple[int, str, int]]:
    """(bits, method, replicate) of every QAT run."""
    return [(b, m, r) for b, ms in cfg.qat.methods.items() for r in range(len(cfg.qat.seeds)) for m in ms]


def qat(cfg: QatModelCfg, model_dir: Path, impact_dir: Path, corpus_dirs, progress=None) -> list[dict]:
    """Every QAT run, one single-thread worker per core (pipeline.pool): the runs are independent."""
    return pool.run(_qat_one, runs(cfg), init=_qat_setup, initargs=(cfg, model_dir, impact_dir, corpus_dirs),
                    progress=progress, desc="qat")


def _qat_setup(cfg: QatModelCfg, model_dir: Path, impact_dir: Path, corpus_dirs) -> dict:
    model, tok = load_source(cfg.model, model_dir)
    train, test = E.load_texts(corpus_dirs, cfg.data)
    return {"cfg": cfg, "model": model, "imps": _impacts(impact_dir, len(cfg.calib.seeds)),
            "stream": np.concatenate([np.asarray(v) for _, v in sorted(E.encode(tok, train).items())]),
            "test": E.encode(tok, test), "context": min(model.config.max_position_embeddings, cfg.calib.length)}


def _qat_one(s: dict, bits: int, method: str, r: int) -> dict:
    cfg = s["cfg"]
    return E.qat_run(s["model"], s["imps"][r], s["stream"], s["test"], cfg.qat, cfg.eval, bits, method, r,
                     s["context"])


def pretrained(cfg: PretrainedCfg, model_dir: Path, corpus_dirs, progress=None) -> dict:
    """Impact per calibration subset with GPTQ's Hessians from the same passes, heterogeneity,
    and PTQ with and without cherries; the model is loaded once and restored between variants."""
    model, tok = load_source(cfg.model, model_dir)
    train, test = E.load_texts(corpus_dirs, cfg.data)
    calib = E.subsets(tok, train, cfg.calib)
    acc = G.HessianSum()  # GPTQ's Hessians, pooled over the subsets
    imps = [I.fisher(model, c, cfg.calib.batch, progress, hessians=acc) for c in calib]
    H = acc.result(I.target_linears(model))
    init = E.random_init_like(model, cfg.seed)
    _, table = E.impact_and_hs(model, init, imps, calib[0][: cfg.init_sequences], cfg.calib.batch, progress)
    del init, acc
    with torch.no_grad():
        rows = E.ptq(model, imps, H, E.encode(tok, test), cfg.ptq, cfg.eval, cfg.calib.seeds, progress)
    return {"hs": {**table, "setup": E.setup(model, cfg.ptq.fraction)}, "ptq": rows}
