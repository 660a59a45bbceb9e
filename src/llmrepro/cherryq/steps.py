"""What each cherryq stage computes, given its inputs' paths and params."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from llmrepro.cherryq import experiments as E
from llmrepro.cherryq.config import PretrainedCfg, QatModelCfg
from llmrepro.cherryq import gptq as G
from llmrepro.models.factory import load_source


def _load(cfg, local_dir: Path, corpus_dirs: dict[str, Path]):
    model, tok = load_source(cfg.model, local_dir)
    train, test = E.load_data(tok, corpus_dirs, cfg.data)
    return model, train, test


def impact(cfg: QatModelCfg, model_dir: Path, corpus_dirs, out_dir: Path, progress=None) -> dict:
    model, train, _ = _load(cfg, model_dir, corpus_dirs)
    calib = E.calibration(train, cfg.calib_sequences, cfg.calib_len, cfg.seed)
    imp, table = E.impact_and_hs(model, E.random_init_like(model, cfg.seed), calib, calib, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in imp.items()}, out_dir / "impact.safetensors")
    return table


def ptq(cfg: QatModelCfg, model_dir: Path, impact_dir: Path, corpus_dirs, progress=None) -> list[dict]:
    model, train, test = _load(cfg, model_dir, corpus_dirs)
    H = G.hessians(model, E.calibration(train, cfg.calib_sequences, cfg.calib_len, cfg.seed))
    return E.ptq(model, load_file(impact_dir / "impact.safetensors"), test, cfg.ptq, cfg.eval, H, progress)


def qat(cfg: QatModelCfg, model_dir: Path, impact_dir: Path, corpus_dirs,
        runs: list[tuple[int, str, float, int]], progress=None) -> list[dict]:
    model, train, test = _load(cfg, model_dir, corpus_dirs)
    imp = load_file(impact_dir / "impact.safetensors")
    stream = np.concatenate([train[c] for c in sorted(train)])
    context = min(model.config.max_position_embeddings, cfg.calib_len)
    return [E.qat_run(model, imp, stream, test, cfg.qat, cfg.eval, b, m, f, s, context)
            for b, m, f, s in (progress(runs, total=len(runs), desc="qat") if progress else runs)]


def main_runs(cfg: QatModelCfg) -> list[tuple[int, str, float, int]]:
    return [(b, m, cfg.qat.fraction, s) for b, ms in cfg.qat.methods.items() for s in cfg.qat.seeds for m in ms]


def sweep_runs(cfg: QatModelCfg) -> list[tuple[int, str, float, int]]:
    return [(cfg.sweep.bits, c, f, cfg.sweep.seed) for f in cfg.sweep.fractions for c in cfg.sweep.criteria]


def pretrained(cfg: PretrainedCfg, model_dir: Path, corpus_dirs, progress=None) -> dict:
    model, train, test = _load(cfg, model_dir, corpus_dirs)
    calib = E.calibration(train, cfg.calib_sequences, cfg.calib_len, cfg.seed)
    init = E.random_init_like(model, cfg.seed)
    imp, table = E.impact_and_hs(model, init, calib, calib[: cfg.init_sequences], progress)
    del init
    with torch.no_grad():
        H = G.hessians(model, calib, progress)
        rows = E.ptq(model, imp, test, cfg.ptq, cfg.eval, H, progress)
    return {"hs": table, "ptq": rows}
