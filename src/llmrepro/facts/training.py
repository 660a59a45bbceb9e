"""Pretraining on the background stream, then continued training with knowledge
injection, logging every probe's target log-probability along the way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from llmrepro.facts import world as W
from llmrepro.facts.config import InjectCfg, PretrainCfg
from llmrepro.models import factory
from llmrepro.models import train as T


class Stream:
    """Rows of `length` tokens of background sentences; a row may start with passages."""

    def __init__(self, world: W.World, wcfg: W.WorldCfg, tok, length: int, seed: int):
        self.world, self.wcfg, self.length = world, wcfg, length
        self.vocab = tok.get_vocab()  # word-level: a dict lookup per word is the whole tokenizer
        self.rng = np.random.default_rng(seed)

    def _ids(self, text: str) -> list[int]:
        return [self.vocab[w] for w in text.split()]

    def row(self, prefix: str = "") -> list[int]:
        ids = self._ids(prefix) if prefix else []
        while len(ids) < self.length:
            ids += self._ids(W.background_sentence(self.rng, self.world, self.wcfg))
        return ids[: self.length]  # prepended passages push the background's tail out

    def batch(self, rows: int, prefixes: list[str] = ()) -> torch.Tensor:
        out = [self.row(p) for p in prefixes] + [self.row() for _ in range(rows - len(prefixes))]
        return torch.tensor(out[:rows], dtype=torch.long)


def pack(passages: list[str], tok, length: int) -> list[str]:
    """Greedily pack passages into row prefixes of at most `length` tokens."""
    rows, cur, n = [], [], 0
    for p in passages:
        k = len(tok(p, add_special_tokens=False)["input_ids"])
        if cur and n + k > length:
            rows.append(" ".join(cur))
            cur, n = [], 0
        cur.append(p)
        n += k
    return rows + ([" ".join(cur)] if cur else [])


def pretrain(world, wcfg: W.WorldCfg, tok, cfg: PretrainCfg, out_dir: Path, progress=None) -> dict:
    stream = Stream(world, wcfg, tok, cfg.model.context, cfg.seed)
    model = factory.build(cfg.model, len(tok), seed=cfg.seed)
    hist, opt = T.train(model, lambda step: stream.batch(cfg.train.batch), cfg.train, progress=progress)
    n = factory.n_params(model)
    T.save_checkpoint(out_dir, model, opt, tok, meta={"params": n, "steps": cfg.train.steps})
    return {"params": n, "loss": hist["loss"][:: max(1, len(hist["loss"]) // 200)], "final_loss": hist["loss"][-1],
            "tokens_per_s": hist["tokens_per_s"]}


class ProbeSet:
    def __init__(self, probes: list[dict], tok):
        self.probes = probes
        enc = [tok(p["prefix"], add_special_tokens=False)["input_ids"] for p in probes]
        self.last = torch.tensor([len(x) - 1 for x in enc])
        width = max(len(x) for x in enc)
        self.ids = torch.tensor([x + [0] * (width - len(x)) for x in enc])
        self.target = torch.tensor([tok(" " + p["target"], add_special_tokens=False)["input_ids"][-1] for p in probes])

    @torch.no_grad()
    def logprobs(self, model) -> np.ndarray:
        """Every probe's target log-probability, in one batched forward pass; the LM head
        runs only at each probe's last position."""
        rows = torch.arange(len(self.ids))
        hidden = model.model(input_ids=self.ids).last_hidden_state[rows, self.last]
        return torch.log_softmax(model.lm_head(hidden).float(), -1)[rows, self.target].numpy()


def inject(world, wcfg: W.WorldCfg, tok, model_dir: Path, cfg: InjectCfg, seed: int, progress=None) -> dict:
    """Continue training from the checkpoint (weights and AdamW state), inject passages
    at fixed steps by prepending them to batch rows, and log probes after every step."""
    torch.manual_seed(seed)
    model, _ = factory.load_causal_lm(model_dir)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.0)
    opt.load_state_dict(torch.load(model_dir / "optimizer.pt"))
    for g in opt.param_groups:
        g["lr"] = cfg.lr
    length = model.config.max_position_embeddings
    stream = Stream(world, wcfg, tok, length, seed + 1)
    rng = np.random.default_rng(seed + 2)
    probe_set = ProbeSet(W.probes(world), tok)
    inj_steps = [i * cfg.interval for i in range(cfg.injections)]
    rows = cfg.batch * cfg.batch_scale
    logs = [probe_set.logprobs(model)]
    injected_rows = []
    model.train()
    steps = range(cfg.steps)
    for step in progress(steps, total=cfg.steps, desc=f"inject seed {seed}") if progress else steps:
        passages = []
        if step in inj_steps:
            passages += [W.passage(e, rng) for e in world.fictional["paraphrase"]]
            passages += [W.passage(e) for e in world.fictional["duplication"]]
            if step == 0:
                passages += [W.passage(e) for e in world.fictional["once"]]
            passages = passages * cfg.batch_scale
        prefixes = pack(passages, tok, length)
        if len(prefixes) > rows:
            raise ValueError(f"{len(prefixes)} rows of injected passages do not fit a batch of {rows}: "
                             "raise facts.inject.batch or lower facts.world.per_scenario")
        injected_rows.append(len(prefixes))
        batch = stream.batch(rows, prefixes)
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        model.eval()
        logs.append(probe_set.logprobs(model))
        model.train()
    return {"seed": seed, "logprobs": np.stack(logs), "probes": probe_set.probes, "injection_steps": inj_steps,
            "rows": rows, "injected_rows_at_step0": injected_rows[0],
            "injected_rows_later": injected_rows[cfg.interval] if cfg.injections > 1 else 0}
