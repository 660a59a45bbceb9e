"""The bodies of the hwgpt stages (stages/hwgpt.py is glue): each reads its inputs, calls the
method code and writes JSON (or .npy) outputs."""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from llmrepro import io
from llmrepro.hwgpt import training as TR
from llmrepro.hwgpt.space import Arch, Space
from llmrepro.pipeline import pool

HUB_VALID_FRACTION = 0.01  # full scale: the last 1 % of the OpenWebText rows are the validation text


def space_of(p, vocab: int) -> Space:
    return Space.from_params(p.space, vocab)


def tokens(p, tok_dir: Path, corpus_dirs: list[Path], out: Path) -> dict:
    if p.data.hub_dataset is None:
        return TR.build_tokens(tok_dir, corpus_dirs, p.space.context, p.data.eval_windows, out)
    return _hub_tokens(p, out)


def _hub_tokens(p, out: Path) -> dict:
    """Full scale: OpenWebText at a pinned revision with the gpt2 tokenizer (the paper's data)."""
    from transformers import AutoTokenizer

    from llmrepro.data.sources import load_hub_text
    from llmrepro.models.evaluate import windows

    ref = p.data.hub_tokenizer
    tok = AutoTokenizer.from_pretrained(ref.id, revision=ref.revision)
    text = load_hub_text(p.data.hub_dataset)
    cut = text.rfind("\n\n", 0, int(len(text) * (1 - HUB_VALID_FRACTION)))
    train = np.asarray(tok(text[:cut])["input_ids"], dtype=np.int32)
    valid = windows(tok(text[cut:])["input_ids"], p.space.context, p.data.eval_windows).astype(np.int32)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "train.npy", train)
    np.save(out / "valid_owt.npy", valid)
    meta = {"vocab": len(tok), "context": p.space.context, "train_tokens": int(len(train)),
            "valid": {"owt": {"windows": int(len(valid)), "tokens": int(valid.size)}}}
    io.write_json(out / "meta.json", meta)
    return meta


def supernet(ctx, p, tok_dir: Path, out: Path) -> dict:
    from safetensors.torch import save_file

    train_ids, valid, meta = TR.load_tokens(tok_dir)
    space = space_of(p, meta["vocab"])
    model = TR.new_supernet(space, None, p.supernet.seed)
    if p.supernet.init_from is not None:  # full scale: GPT-2's weights, as the paper's v3
        from transformers import GPT2LMHeadModel

        from llmrepro.hwgpt.supernet import load_gpt2_state_dict

        ref = p.supernet.init_from
        load_gpt2_state_dict(model, GPT2LMHeadModel.from_pretrained(ref.id, revision=ref.revision).state_dict())
    model, hist = TR.sandwich_train(space, p.supernet, train_ids, ctx.progress, model=model)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, out / "supernet.safetensors")
    from llmrepro.models.evaluate import unigram_perplexity

    hist["final"] = {a: TR.nll(model.set_arch(getattr(space, a)), valid, p.data.eval_batch) for a in ("largest", "smallest")}
    # the floor a learned LM must beat, on the same validation windows (tokens 2..T, as the NLL)
    hist["unigram_nll"] = float(np.log(unigram_perplexity(train_ids, valid[:, 1:].ravel(), space.vocab)))
    io.write_json(out / "history.json", hist)
    ctx.record(tokens_per_s=hist["tokens_per_s"], params=sum(t.numel() for t in model.parameters()))
    return hist


def load_supernet(space: Space, model_dir: Path):
    from safetensors.torch import load_file

    model = TR.new_supernet(space, None, 0)
    model.load_state_dict(load_file(model_dir / "supernet.safetensors"))
    return model.eval()


def standalone_archs(space: Space, p) -> list[Arch]:
    return TR.pick_by_size(space, p.standalone.archs)


def standalone(ctx, p, tok_dir: Path) -> dict:
    """Each picked architecture trained alone with the supernet's schedule; the middle one also with a
    second initialisation, to measure how much training noise alone moves a standalone perplexity."""
    _, _, meta = TR.load_tokens(tok_dir)
    archs = standalone_archs(space_of(p, meta["vocab"]), p)
    mid = len(archs) // 2
    jobs = [(a, p.standalone.seed) for a in archs] + [(archs[mid], p.standalone.seed + 1)]
    runs = pool.run(_standalone_one, jobs, init=_standalone_setup, initargs=(p, tok_dir), progress=ctx.progress,
                    desc="standalone")
    return {"runs": runs[:len(archs)], "noise_repeat": {"key": archs[mid].key, "seeds": [runs[mid]["seed"], runs[-1]["seed"]],
                                                          "nll": [runs[mid]["nll"], runs[-1]["nll"]]}}


def _standalone_setup(p, tok_dir: Path) -> dict:
    train_ids, valid, meta = TR.load_tokens(tok_dir)
    return {"p": p, "space": space_of(p, meta["vocab"]), "train": train_ids, "valid": valid}


def _standalone_one(s: dict, a: Arch, seed: int) -> dict:
    p, t0 = s["p"], time.process_time()
    model, hist = TR.standalone_train(s["space"], a, p.supernet.train, seed, s["train"])
    return {"arch": a.as_dict(), "key": a.key, "seed": seed, "params": s["space"].params(a),
            "nll": TR.nll(model, s["valid"], p.data.eval_batch), "final_train_loss": float(np.mean(hist["loss"][-20:])),
            "cpu_s": time.process_time() - t0}


def perplexity_sample(space: Space, p) -> list[Arch]:
    """The architectures scored with inherited weights; the hardware stage measures the first ones."""
    rng = np.random.default_rng(p.perplexity.sample_seed)
    return space.sample_distinct(p.perplexity.archs, rng)


def perplexity(ctx, p, tok_dir: Path, model_dir: Path) -> dict:
    _, valid, meta = TR.load_tokens(tok_dir)
    space = space_of(p, meta["vocab"])
    model = load_supernet(space, model_dir)
    sample = perplexity_sample(space, p)
    picks = standalone_archs(space, p)
    nll = TR.inherited_nll(model, sample + picks, valid, p.data.eval_batch, ctx.progress)
    return {"vocab": meta["vocab"], "archs": [a.as_dict() for a in sample], "nll": nll[:len(sample)],
            "standalone_archs": [a.key for a in picks], "standalone_inherited_nll": nll[len(sample):],
            "eval_tokens": int(valid.size)}


def hardware(ctx, p, vocab: int, machine: str) -> dict:
    from llmrepro.hwgpt import hardware as H

    h = p.hardware
    space = space_of(p, vocab)
    archs = perplexity_sample(space, p)[:h.archs]
    before = H.load_reading()
    models = H.materialize_all(space, archs, h.order_seed)
    lat = H.measure_latency(models, h.devices, h.seq_len, vocab, h.warmups, h.repeats, h.order_seed, h.kind,
                            ctx.progress)
    t0 = time.perf_counter()
    mem_rng = np.random.default_rng(h.order_seed)
    mem_archs = [archs[i] for i in sorted(mem_rng.choice(len(archs), min(h.memory_archs, len(archs)), replace=False))]
    rss = H.measure_rss(space, mem_archs, h.memory_batch, h.seq_len) if h.kind == "cpu" else []
    return {"machine": machine, "load_before": before, "load_after": H.load_reading(), "vocab": vocab,
            "archs": [a.as_dict() for a in archs], **lat, "memory_check_s": time.perf_counter() - t0,
            "memory": {"batch": h.memory_batch, "seq_len": h.seq_len, "rss": rss,
                       "analytic": [H.memory_bytes(space, a, h.memory_batch, h.seq_len) for a in archs]},
            "energy": H.energy_status()}


def _test_split(n: int, fraction: float, seed: int) -> np.ndarray:
    test = np.zeros(n, bool)
    test[np.random.default_rng(seed).permutation(n)[:int(round(fraction * n))]] = True
    return test


def _coverage_splits(s, X, Y, lv, j: int, main: dict) -> dict:
    """Per-architecture coverage of the nominal interval on the held-out architectures of every
    split in `split_seeds` (the main split's from `main`; the others fit afresh with their seed).
    The other splits ask for the nominal level only: the quantile model fits each level's ends
    apart, so its interval there is the same as with every level, at 3 boosted models instead of 11."""
    from llmrepro.hwgpt import surrogates as S

    out = {"seeds": list(s.split_seeds), "level": float(lv[j]),
           "per_arch": {m: [None if r["per_arch_coverage"] is None else r["per_arch_coverage"][:, j]]
                        for m, r in main.items()}}
    one = lv[j:j + 1]
    for seed in s.split_seeds[1:]:
        test = _test_split(len(X), s.test_fraction, seed)
        for m, fit in S.FIT.items():
            _, ind, _ = S.evaluate(fit(X[~test], Y[~test], getattr(s, m), one, seed)(X[test]), Y[test], one, s.coverage)
            out["per_arch"][m].append(None if ind is None else ind.reshape(int(test.sum()), Y.shape[1]).mean(1))
    return out


def surrogates(ctx, p, ppl_doc: dict, hw_doc: dict, out: Path) -> dict:
    """Held-out evaluation of every surrogate on every target, then the benchmark: the chosen
    surrogate refit on all measured architectures and queried on the whole space."""
    from llmrepro.hwgpt import calibration as K

    s = p.surrogates
    space = space_of(p, ppl_doc["vocab"])
    lv = K.levels(s.calibration_levels)
    targets: dict[str, tuple[list[Arch], np.ndarray]] = {
        "perplexity": ([Arch.from_dict(a) for a in ppl_doc["archs"]], np.asarray(ppl_doc["nll"])[:, None])}
    hw_archs = [Arch.from_dict(a) for a in hw_doc["archs"]]
    for d, rec in hw_doc["devices"].items():
        targets[f"latency_{d}"] = (hw_archs, np.asarray(rec["wall_ms"]))
    seed, j90 = s.split_seeds[0], int(np.argmin(abs(lv - s.coverage)))  # the main split; the coverage level
    # Targets are independent: one single-thread worker per core (pipeline.pool)
    jobs = [(s, name, [a.key for a in archs], space.features(archs), Y, lv, j90, seed)
            for name, (archs, Y) in targets.items()]
    heldout: dict[str, Any] = {"levels": lv.tolist(),
                               "targets": dict(zip(targets, pool.run(_heldout_one, jobs), strict=True))}
    # the benchmark: every architecture of the space scored by the chosen surrogate
    Xall = space.features(space.all)
    jobs = [(s, space.features(archs), Y, lv, seed, Xall) for archs, Y in targets.values()]
    bench = dict(zip(targets, pool.run(_benchmark_one, jobs), strict=True))
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "features.npy", Xall.astype(np.float32))
    for name, v in bench.items():
        np.save(out / f"bench_{name}.npy", v.astype(np.float64))
    io.write_json(out / "heldout.json", heldout)
    io.write_json(out / "benchmark.json", {"surrogate": s.benchmark, "targets": sorted(bench), "size": len(space.all),
                                           "vocab": ppl_doc["vocab"]})
    return heldout


@contextlib.contextmanager
def _quiet():
    """The surrogate fits without sklearn's convergence and user warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _heldout_one(s, name: str, keys: list[str], X: np.ndarray, Y: np.ndarray, lv: np.ndarray, j90: int,
                 seed: int) -> dict:
    """Every surrogate fitted on the main split of one target and scored on its held-out architectures."""
    from llmrepro.hwgpt import calibration as K
    from llmrepro.hwgpt import surrogates as S

    with _quiet():
        test = _test_split(len(keys), s.test_fraction, seed)
        res: dict[str, Any] = {"n_train": int((~test).sum()), "n_test": int(test.sum()),
                               "test_keys": [k for k, t in zip(keys, test) if t], "observed_mean": Y[test].mean(1),
                               "methods": {}}
        inds = {}
        for m, fit in S.FIT.items():
            t0 = time.process_time()
            pred = fit(X[~test], Y[~test], getattr(s, m), lv, seed)(X[test])
            metrics, ind, groups = S.evaluate(pred, Y[test], lv, s.coverage)
            inds[m] = ind
            per_arch = None if ind is None else ind.reshape(len(Y[test]), Y.shape[1], -1).mean(1)
            res["methods"][m] = {**metrics, "pred_mean": pred.mean, "pred_std": pred.std,
                                 "per_arch_coverage": per_arch,
                                 "pred_lo90": None if pred.lo is None else pred.lo[:, j90],
                                 "pred_hi90": None if pred.hi is None else pred.hi[:, j90],
                                 "fit_cpu_s": time.process_time() - t0}
        # paired bootstrap over held-out architectures: GP's miscalibration area minus each other's
        res["area_gain_over_gp"] = {m: K.area_difference_ci(inds[m], inds["gp"], lv, groups, s.n_boot, seed)
                                    for m in S.HETEROSCEDASTIC}
        if name.startswith("latency_"):  # C2's coverage: every split, each with its own surrogate seed
            res["coverage_splits"] = _coverage_splits(s, X, Y, lv, j90, res["methods"])
    return res


def _benchmark_one(s, X: np.ndarray, Y: np.ndarray, lv: np.ndarray, seed: int, Xall: np.ndarray) -> np.ndarray:
    from llmrepro.hwgpt import surrogates as S

    with _quiet():
        return S.FIT[s.benchmark](X, Y, getattr(s, s.benchmark), lv, seed)(Xall).mean


def search(ctx, p, sur_dir: Path) -> dict:
    from llmrepro.hwgpt import search as M

    meta = io.read_json(sur_dir / "benchmark.json")
    space = space_of(p, meta["vocab"])
    feats = np.load(sur_dir / "features.npy").astype(np.float64)
    ppl = np.exp(np.load(sur_dir / "bench_perplexity.npy"))
    out: dict[str, Any] = {"ref_point": p.search.ref_point, "budget": p.search.budget,
                           "small_budget": p.search.small_budget, "devices": {}}
    for name in [t for t in meta["targets"] if t.startswith("latency_")]:
        lat = np.load(sur_dir / f"bench_{name}.npy")
        bench = M.Benchmark(space, np.column_stack([ppl, lat]), p.search.ref_point)
        runs: dict[str, Any] = {}
        for method in p.search.methods:
            runs[method] = []
            for seed in ctx.progress(p.search.seeds, total=len(p.search.seeds), desc=f"{name} {method}"):
                t0 = time.process_time()
                ev = M.run(bench, method, seed, p.search, feats)
                runs[method].append({"seed": seed, "hv": bench.hv_trace(ev), "evaluated": ev,
                                     "cpu_s": time.process_time() - t0})
        out["devices"][name.removeprefix("latency_")] = {
            "hv_true": bench.hv_true, "bounds": {"lo": bench.lo, "hi": bench.hi},
            "front": [int(i) for i in bench.front], "front_keys": [space.all[i].key for i in bench.front],
            "runs": runs}
    return out
