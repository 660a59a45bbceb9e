"""Pretraining on the background stream, then continued training with knowledge
injection, logging every probe's target log-probability along the way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from llmrepro import io
from llmrepro.facts import world as W
from llmrepro.facts.config import InjectCfg, PretrainCfg
from llmrepro.models import factory
from llmrepro.models import train as T
from llmrepro.models.config import TrainCfg


class Stream:
    """Rows of `length` tokens of background sentences; a row may start with passages."""

    def __init__(self, world: W.World, wcfg: W.WorldCfg, tok, length: int, rng: np.random.Generator):
        self.world, self.wcfg, self.length, self.rng = world, wcfg, length, rng
        self.vocab = tok.get_vocab()  # word-level: a dict lookup per word is the whole tokenizer

    def ids(self, text: str) -> list[int]:
        return [self.vocab[w] for w in text.split()]

    def row(self, prefix: str = "") -> list[int]:
        ids = self.ids(prefix) if prefix else []
        if len(ids) > self.length:
            raise ValueError(f"injected passages of {len(ids)} tokens do not fit a row of {self.length}")
        while len(ids) < self.length:
            ids += self.ids(W.background_sentence(self.rng, self.world, self.wcfg))
        return ids[: self.length]  # prepended passages push the background's tail out

    def batch(self, rows: int, prefixes: list[str] = ()) -> torch.Tensor:
        out = [self.row(p) for p in prefixes] + [self.row() for _ in range(rows - len(prefixes))]
        return torch.tensor(out[:rows], dtype=torch.long)


def pretrain(world, wcfg: W.WorldCfg, tok, cfg: PretrainCfg, out_dir: Path, progress=None) -> dict:
    stream = Stream(world, wcfg, tok, cfg.model.context, np.random.default_rng(cfg.seed))
    model = factory.build(cfg.model, len(tok), seed=cfg.seed)
    hist, opt = T.train(model, lambda step: stream.batch(cfg.train.batch), cfg.train, progress=progress)
    n = factory.n_params(model)
    final_lr = T.lr_at(cfg.train.steps - 1, cfg.train)  # continued training resumes at this rate: no jump
    T.save_checkpoint(out_dir, model, opt, tok, meta={"params": n, "steps": cfg.train.steps, "final_lr": final_lr,
                                                       "beta2": cfg.train.beta2,
                                                       "weight_decay": cfg.train.weight_decay,
                                                       "grad_clip": cfg.train.grad_clip})
    return {"params": n, "loss": hist["loss"][:: max(1, len(hist["loss"]) // 200)], "final_loss": hist["loss"][-1],
            "final_lr": final_lr, "tokens_per_s": hist["tokens_per_s"]}


class ProbeSet:
    """Every probe's target log-probability, from as few rows as possible.

    A probe is read off a row that starts with its prefix and target (the memorization
    probes of one entity share its passage's row), and rows of equal length are one
    batch, so nothing is padded. The LM head runs only where a probe's target is read."""

    def __init__(self, probes: list[dict], tok):
        self.probes = probes
        vocab = tok.get_vocab()
        seqs = [tuple(vocab[w] for w in f"{p['prefix']} {p['target']}".split()) for p in probes]
        rows: list[tuple[int, ...]] = []
        index: dict[tuple[int, ...], int] = {}
        where = [0] * len(seqs)
        for i in sorted(range(len(seqs)), key=lambda i: (-len(seqs[i]), seqs[i])):
            if seqs[i] not in index:
                for k in range(1, len(seqs[i]) + 1):
                    index.setdefault(seqs[i][:k], len(rows))
                rows.append(seqs[i])
            where[i] = index[seqs[i]]
        self.buckets = []  # (ids [rows, length], row in bucket, position, target, probe) per length
        for n in sorted({len(r) for r in rows}):
            members = [r for r in range(len(rows)) if len(rows[r]) == n]
            at = {r: j for j, r in enumerate(members)}
            ps = [i for i in range(len(seqs)) if len(rows[where[i]]) == n]
            self.buckets.append((torch.tensor([rows[r] for r in members]),
                                 torch.tensor([at[where[i]] for i in ps], dtype=torch.long),
                                 torch.tensor([len(seqs[i]) - 2 for i in ps], dtype=torch.long),
                                 torch.tensor([seqs[i][-1] for i in ps], dtype=torch.long),
                                 np.array(ps)))
        self.tokens = sum(b[0].numel() for b in self.buckets)

    @torch.no_grad()
    def logprobs(self, model) -> np.ndarray:
        dev = getattr(model, "device", "cpu")
        out = np.empty(len(self.probes), dtype=np.float64)
        for ids, row, pos, target, ps in self.buckets:
            hidden = model.model(input_ids=ids.to(dev)).last_hidden_state[row.to(dev), pos.to(dev)]
            lp = torch.log_softmax(model.lm_head(hidden).double(), -1)
            out[ps] = lp[torch.arange(len(ps), device=dev), target.to(dev)].cpu().numpy()
        return out


@dataclass
class Schedule:
    rows: dict[int, list[str]]  # step -> the row prefixes (passages) injected in that step's batch
    entity_steps: dict[str, list[int]]  # entity -> its injection steps
    passages_per_row: int

    @property
    def last(self) -> int:
        return max(self.rows)


def schedule(scen: dict[str, list[W.Entity]], tok, length: int, cfg: InjectCfg, scale: int,
             rng: np.random.Generator) -> Schedule:
    """Round k starts at step k * interval. Its passages (every paraphrase and duplication entity
    in a seeded order fixed for the run, then in round 0 the "once" entities) are packed
    `passages_per_row` to a row and injected `injected_rows * scale` rows per step, so an entity
    keeps its place in every round. A paraphrase entity gets the canonical text in round 0
    and a fresh paraphrase after that; duplication and once always get the canonical text."""
    longest = max(len(tok(W.passage(e), add_special_tokens=False)["input_ids"]) for es in scen.values() for e in es)
    per_row = length // longest
    if per_row < 1:
        raise ValueError(f"a passage of {longest} tokens does not fit a row of {length} tokens")
    repeat = [*scen["paraphrase"], *scen["duplication"]]
    repeat = [repeat[i] for i in rng.permutation(len(repeat))]
    step_rows = cfg.injected_rows * scale
    rows: dict[int, list[str]] = {}
    entity_steps: dict[str, list[int]] = {e.name: [] for es in scen.values() for e in es}
    paraphrased = {e.name for e in scen["paraphrase"]}
    for k in range(cfg.injections):
        ents = repeat + (scen["once"] if k == 0 else [])
        texts = [W.passage(e, rng) if k and e.name in paraphrased else W.passage(e) for e in ents]
        for r in range(0, len(ents), per_row):
            step = k * cfg.interval + (r // per_row) // step_rows
            if step >= (k + 1) * cfg.interval:
                raise ValueError(f"round {k} needs more than interval={cfg.interval} steps at "
                                 f"{step_rows} injected rows per step: raise facts.inject.interval or injected_rows")
            rows.setdefault(step, []).append(" ".join(texts[r: r + per_row]))
            for e in ents[r: r + per_row]:
                entity_steps[e.name].append(step)
    return Schedule(rows, entity_steps, per_row)


def eval_steps(last_round: int, last_injection: int, cfg: InjectCfg) -> list[int]:
    """Steps after which probes are logged (0: before any update): every `stride`-th step
    until the last round starts, every step from there through the last injection's window
    and `dense` steps more (so every t up to `dense` is seen for every probe), then
    `late_evals` log-spaced steps to the end of the horizon, where the log-spaced bins of t
    are wide."""
    start = last_injection + cfg.window
    early = set(range(0, last_round, cfg.stride))
    dense = set(range(last_round, start + cfg.dense + 1))
    late = np.geomspace(cfg.dense + 1, cfg.horizon, cfg.late_evals).round().astype(int) + start
    return sorted(early | dense | {int(s) for s in late})


def inject(world: W.World, wcfg: W.WorldCfg, tok, model_dir: Path, cfg: InjectCfg, scale: int, seed: int,
           progress=None) -> dict:
    """Continue training from the checkpoint (weights and AdamW state) at its final learning
    rate, inject passages on the schedule by prepending them to batch rows, and log probes."""
    scen = W.assign(world, seed)
    model, _ = factory.load_causal_lm(model_dir)
    meta = io.read_json(model_dir / "train_meta.json")
    length = model.config.max_position_embeddings
    sched = schedule(scen, tok, length, cfg, scale, np.random.default_rng([seed, 2]))
    logged = eval_steps((cfg.injections - 1) * cfg.interval, sched.last, cfg)
    rows = cfg.batch * scale
    tcfg = TrainCfg(steps=logged[-1], batch=rows, lr=meta["final_lr"], warmup=0, min_lr_ratio=1.0,
                    weight_decay=meta["weight_decay"], beta2=meta["beta2"], grad_clip=meta["grad_clip"])
    opt = T.make_optimizer(model, tcfg)
    opt.load_state_dict(torch.load(model_dir / "optimizer.pt"))
    stream = Stream(world, wcfg, tok, length, np.random.default_rng([seed, 1]))
    probe_set = ProbeSet(W.probes(world, scen), tok)
    want = set(logged)
    logs = [probe_set.logprobs(model)]

    def log(step: int, m) -> None:
        if step + 1 in want:
            logs.append(probe_set.logprobs(m))

    hist, _ = T.train(model, lambda step: stream.batch(rows, sched.rows.get(step, [])), tcfg, optimizer=opt,
                      on_step=log, progress=progress)
    per_step = max(len(v) for v in sched.rows.values())
    return {"seed": seed, "logprobs": np.stack(logs), "eval_steps": logged, "probes": probe_set.probes,
            "entity_steps": sched.entity_steps, "rows": rows, "per_scenario": len(scen["paraphrase"]), "lr": meta["final_lr"], "steps": tcfg.steps,
            "injected_rows_per_step": per_step, "passages_per_row": sched.passages_per_row,
            "injected_fraction": per_step / rows, "probe_tokens": probe_set.tokens,
            "loss": hist["loss"][:: max(1, len(hist["loss"]) // 100)]}
