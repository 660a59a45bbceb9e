"""Evaluating one model on the held-out posts: responses under the desired constitution
(for the judge), the conditional MI bound and each principle's adherence under all four
constitutions, and held-out perplexity as the degeneration check."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from llmrepro.sami import lm
from llmrepro.sami import loss as Lo
from llmrepro.sami import world as W
from llmrepro.sami.config import EvalCfg, WorldCfg

FEATURES = ("coverage", "errors", "fillers", "length", "valid")


@dataclass(frozen=True)
class Heldout:
    posts: np.ndarray  # (posts, facts): win rates
    mi_posts: np.ndarray  # (mi_posts, facts): MI bound and adherence
    ppl_rows: list[tuple[int, np.ndarray, list]]  # base-corpus rows (rho of the world): perplexity


def heldout(wcfg: WorldCfg, world_seed: int, ecfg: EvalCfg, seed: int) -> Heldout:
    """Posts no model trains on (SAMI's queries come from other per-seed streams). Each run
    seed draws its own held-out set, so the interval over seeds covers the draw of the
    evaluation posts too (one set shared by every seed would be a common offset it misses)."""
    rng = np.random.default_rng(np.random.SeedSequence([world_seed, 424242, seed]))
    posts = W.sample_posts(rng, ecfg.posts, wcfg.n_facts, wcfg.facts)
    mi_posts = W.sample_posts(rng, ecfg.mi_posts, wcfg.n_facts, wcfg.facts)
    return Heldout(posts, mi_posts, W.corpus_rows(rng, ecfg.ppl_rows, wcfg, wcfg.rho))


def featurize(responses: list[list[int]], posts: np.ndarray, ids: W.Ids) -> dict[str, np.ndarray]:
    fs = [W.features(*lm.strip_eos(r, ids.eos), p, ids) for r, p in zip(responses, posts)]
    return {"coverage": np.array([f.coverage for f in fs]), "errors": np.array([f.errors for f in fs]),
            "fillers": np.array([f.fillers_per_fact for f in fs]), "length": np.array([f.length for f in fs]),
            "valid": np.array([f.valid for f in fs])}


def _batched_matrix(model, prompts, responses, pad: int, batch: int) -> torch.Tensor:
    step = max(1, batch // 16)
    return torch.cat([lm.matrix(model, prompts[i:i + step], responses[i:i + step], pad)
                      for i in range(0, len(prompts), step)])


def _ppl(model, prompts, targets, pad: int, batch: int) -> float:
    """exp of the mean per-token NLL of `targets` given `prompts`, over all target tokens."""
    tot, n = 0.0, 0
    for i in range(0, len(prompts), batch):
        ids, mask = lm.pack(prompts[i:i + batch], targets[i:i + batch], pad)
        lp = lm.mean_logprobs(model, ids, mask)
        k = mask.sum(-1)
        tot += float((lp * k).sum())
        n += int(k.sum())
    return math.exp(-tot / n)


@torch.no_grad()
def evaluate(model, ids: W.Ids, held: Heldout, ecfg: EvalCfg, max_new: int, seed: int) -> dict:
    """Everything the report needs about one model, as arrays (features per response) and
    scalars (MI bound, perplexities). The seed fixes the sampled responses."""
    model.eval()
    out: dict = {}
    # the judge's inputs: `samples` responses per post under `brief all`, and one greedy
    s = ecfg.samples
    prompts = [ids.prompt(W.DESIRED, p) for p in held.posts for _ in range(s)]
    resp = lm.sample(model, prompts, max_new=max_new, temperature=ecfg.temperature, seed=seed, eos=ids.eos,
                     pad=ids.pad, batch=ecfg.batch)
    for k, v in featurize(resp, np.repeat(held.posts, s, axis=0), ids).items():
        out[f"desired_{k}"] = v.reshape(len(held.posts), s)
    greedy = lm.sample(model, [ids.prompt(W.DESIRED, p) for p in held.posts], max_new=max_new, temperature=0.0,
                       seed=seed, eos=ids.eos, pad=ids.pad, batch=ecfg.batch)
    for k, v in featurize(greedy, held.posts, ids).items():
        out[f"greedy_{k}"] = v
    # one response per constitution per post: the 4 x 4 matrix and per-principle adherence
    n = len(held.mi_posts)
    prompts = [[ids.prompt(k, p) for k in range(4)] for p in held.mi_posts]
    flat = lm.sample(model, [q for row in prompts for q in row], max_new=max_new, temperature=ecfg.temperature,
                     seed=seed + 1, eos=ids.eos, pad=ids.pad, batch=ecfg.batch)
    resp4 = [flat[4 * i:4 * i + 4] for i in range(n)]
    L = _batched_matrix(model, prompts, resp4, ids.pad, ecfg.batch)
    out["mi"] = Lo.mi_bound(L).numpy()
    for k, v in featurize(flat, np.repeat(held.mi_posts, 4, axis=0), ids).items():
        out[f"cons_{k}"] = v.reshape(n, 4)
    # degeneration: the post text (never generated nor scored by SAMI), and the base corpus
    rows = held.ppl_rows
    out["ppl_post"] = _ppl(model, [[ids.bos, *ids.constitution[c], ids.sep_post] for c, _, _ in rows],
                           [[ids.fact0 + int(f) for f in p] for _, p, _ in rows], ids.pad, ecfg.batch)
    out["ppl_corpus"] = _ppl(model, [[ids.bos] for _ in rows],
                             [ids.prompt(c, p)[1:] + ids.summary(s) for c, p, s in rows], ids.pad, ecfg.batch)
    out["ppl_copy"] = _copy_ppl(model, ids, rows, ecfg.batch)
    return out


def _copy_ppl(model, ids: W.Ids, rows, batch: int) -> float:
    """Perplexity of the summaries' fact words, each predicted among the fact words only:
    which fact comes next. In the corpus that is the next fact of the post whatever the
    constitution or the behaviour, so sharpening the constitution link leaves it alone and
    it measures the copying competence that degeneration destroys."""
    tot, n = 0.0, 0
    for i in range(0, len(rows), batch):
        seqs = [ids.prompt(c, p) + ids.summary(s) for c, p, s in rows[i:i + batch]]
        x, mask = lm.pack([q[:1] for q in seqs], [q[1:] for q in seqs], ids.pad)
        facts = slice(ids.fact0, ids.fact0 + ids.n_facts)
        logits = model(input_ids=x).logits[:, :-1, facts].float()
        tgt = x[:, 1:] - ids.fact0
        is_fact = (tgt >= 0) & (tgt < ids.n_facts) & mask
        is_fact[:, :len(ids.prompt(0, rows[i][1])) - 1] = False  # the post's own words (every prompt is as long)
        logp = torch.log_softmax(logits, -1).gather(-1, tgt.clamp(0, ids.n_facts - 1)[..., None])[..., 0]
        tot += float(logp[is_fact].sum())
        n += int(is_fact.sum())
    return math.exp(-tot / n)


def scalars(rec: dict) -> dict:
    """The per-model numbers a table needs (arrays stay in the npz)."""
    cons = {f"{W.constitution_text(k)}": {"fillers": float(rec["cons_fillers"][:, k].mean()),
                                          "coverage": float(rec["cons_coverage"][:, k].mean())} for k in range(4)}
    return {"mi": float(rec["mi"].mean()), "ppl_post": rec["ppl_post"], "ppl_corpus": rec["ppl_corpus"],
            "ppl_copy": rec["ppl_copy"],
            "desired_fillers": float(rec["desired_fillers"].mean()),
            "desired_coverage": float(rec["desired_coverage"].mean()),
            "desired_length": float(rec["desired_length"].mean()), "valid": float(rec["desired_valid"].mean()),
            "constitutions": cons}
