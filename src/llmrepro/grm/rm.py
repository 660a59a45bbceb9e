"""Reward models on the cached trunk: the top layer's MLP (LoRA via peft), the retained LM head and
a value head.

As in the paper, the reward head and the LM head read the same final hidden states; the reward is
the head's output at the last token, and the regularizers use the LM head's log-probabilities of
the response tokens, summed. Everything above the cache works position by position, so every
cached vector is pushed once through the frozen parts (the MLP's input norm and its gate and up
projections) and training computes only what LoRA changes: exactly the LoRA'd module's output,
at a third of the cost (`tests/grm` checks it against peft's own forward).

The LM softmax runs over a fixed shortlist of the vocabulary (every token of the world plus the
frozen model's top-k at sampled positions, `backbone.shortlist`), which the cache stage reports
as covering nearly all of the frozen model's probability mass: the full softmax over 49k tokens
at every response position would cost more than this paper's whole budget.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from llmrepro.grm import losses

MLP = ("gate_proj", "up_proj", "down_proj")


@dataclass
class Top:
    """The frozen modules above the cached state, taken from the backbone itself."""

    mlp: object
    post_norm: object
    final_norm: object
    lm_rows: object  # (K, H) LM-head rows of the shortlist


def load_top(model, shortlist_ids: list[int], device: str = "cpu") -> Top:
    import torch

    layer = model.model.layers[-1]
    rows = model.lm_head.weight.detach()[torch.tensor(shortlist_ids)].float().clone()
    f32 = lambda m: copy.deepcopy(m).float().to(device)
    return Top(f32(layer.mlp), f32(layer.post_attention_layernorm), f32(model.model.norm), rows.to(device))


class Table:
    """Every cached vector once (h_mid), with the frozen parts of the top MLP: its normed input x and
    gate/up projections g, u (needed only where LoRA adapts gate or up), its activation a = act(g) u,
    its output W_down a, and the frozen final features. `precompute` keeps them all in memory (mini
    scale, CPU); otherwise they are recomputed per batch (a 2B model's MLP activations for every
    cached vector would not fit)."""

    def __init__(self, h, top: Top, targets=MLP, device: str = "cpu", precompute: bool = True,
                 chunk: int = 4096):
        import torch

        self.h, self.top = h.float().to(device), top
        self.names = (*(("x", "g", "u") if {"gate_proj", "up_proj"} & set(targets) else ()), "a", "out", "feat")
        self.cached: dict = {}
        if precompute:
            parts = [self._compute(torch.arange(i, min(i + chunk, len(self.h)))) for i in range(0, len(self.h), chunk)]
            self.cached = {k: torch.cat([p[k] for p in parts]) for k in self.names}

    def _compute(self, idx) -> dict:
        import torch

        top = self.top
        with torch.no_grad():
            h = self.h[idx]
            x = top.post_norm(h)
            g, u = top.mlp.gate_proj(x), top.mlp.up_proj(x)
            a = top.mlp.act_fn(g) * u
            out = top.mlp.down_proj(a)
            got = {"x": x, "g": g, "u": u, "a": a, "out": out, "feat": top.final_norm(h + out)}
        return {k: got[k] for k in self.names}

    def get(self, name: str, idx):
        if self.cached:
            return self.cached[name][idx]
        return self._compute(idx)[name]


def _delta(layer, x):
    """What LoRA adds to a peft-wrapped Linear's output (zero for a plain Linear)."""
    from peft.tuners.lora import LoraLayer

    if not isinstance(layer, LoraLayer):
        return 0.0
    out = 0.0
    for name in layer.active_adapters:
        out = out + layer.lora_B[name](layer.lora_A[name](layer.lora_dropout[name](x))) * layer.scaling[name]
    return out


def build(top: Top, lora, head_hidden: int, head_dropout: float, seed: int):
    """A reward model whose trainable parts are the LoRA factors (None: a frozen backbone) and the
    value head (the paper's MLP head), initialised from `seed`."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class RM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lora = lora is not None
            self.gate_up = self.lora and bool({"gate_proj", "up_proj"} & set(lora.targets))
            self.top = nn.Module()
            self.top.mlp = copy.deepcopy(top.mlp)
            self.final_norm = copy.deepcopy(top.final_norm)
            for p in [*self.top.parameters(), *self.final_norm.parameters()]:
                p.requires_grad_(False)
            if self.lora:
                from peft import LoraConfig, inject_adapter_in_model

                inject_adapter_in_model(LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                                   target_modules=list(lora.targets)), self.top)
            self.register_buffer("lm_rows", top.lm_rows.float())
            H = top.lm_rows.shape[1]
            self.head = nn.Sequential(nn.Dropout(head_dropout), nn.Linear(H, head_hidden), nn.ReLU(),
                                      nn.Linear(head_hidden, 1))

        def features(self, table: Table, idx):
            if not self.lora:
                return table.get("feat", idx)
            mlp = self.top.mlp
            if self.gate_up:
                x = table.get("x", idx)
                a = (mlp.act_fn(table.get("g", idx) + _delta(mlp.gate_proj, x))
                     * (table.get("u", idx) + _delta(mlp.up_proj, x)))
                out = getattr(mlp.down_proj, "base_layer", mlp.down_proj)(a)
            else:  # the activation is frozen: only the output projection's LoRA term is new
                a, out = table.get("a", idx), table.get("out", idx)
            return self.final_norm(table.h[idx] + out + _delta(mlp.down_proj, a))

        def reward(self, table: Table, idx):
            return self.head(self.features(table, idx)).squeeze(-1)

        def logprob(self, table: Table, idx, targets):
            """Log-probability of each target (a shortlist index) given the state before it."""
            logits = self.features(table, idx) @ self.lm_rows.T
            return torch.log_softmax(logits, -1).gather(-1, targets[:, None]).squeeze(-1)

    return RM()


class Responses:
    """The cached responses of one group as indices into the Table, with both variants (unmarked 0,
    marked 1). Variant f of response i is a token sequence: vectors X[f, i] (-1 pads) predict the
    shortlist targets T[f, i]; `digit[f, i]` marks the targets that are answer digits; the reward
    reads R[f, i]."""

    def __init__(self, R, X, T, digit):
        self.R, self.X, self.T, self.digit = R, X, T, digit

    def readout(self, rows, marked):
        return self.R[marked.long(), rows]

    def seq_logprob(self, model, table: Table, rows, marked, digits_only: bool = False):
        """Summed log-probability of each response (in its variant) under the model's LM head."""
        import torch

        X, T = self.X[marked.long(), rows], self.T[marked.long(), rows]
        valid = T >= 0
        if digits_only:
            valid &= self.digit[marked.long(), rows]
        lp = model.logprob(table, X[valid], T[valid].to(table.h.device))
        owner = torch.arange(len(rows))[:, None].expand_as(T)[valid]
        return lp.new_zeros(len(rows)).index_add(0, owner.to(lp.device), lp)


def tabulate(tensors: dict, groups: list[str], marker_id: int, end_id: int, shortlist: list[int]):
    """The Table's vectors (h_mid, stacked) and one Responses per group, from the cache's tensors."""
    import torch

    short = {t: i for i, t in enumerate(shortlist)}
    vecs, out, base = [], {}, 0

    def add(v):
        nonlocal base
        vecs.append(v)
        idx = torch.arange(base, base + len(v))
        base += len(v)
        return idx

    for g in groups:
        S, y, lens = tensors[f"{g}.S"], tensors[f"{g}.y"], tensors[f"{g}.len"]
        n, lmax = y.shape
        valid = torch.arange(lmax + 1)[None] <= lens[:, None]
        iS = torch.full((n, lmax + 1), -1, dtype=torch.long)
        iS[valid] = add(S[valid])
        im, ia, ib = add(tensors[f"{g}.m"]), add(tensors[f"{g}.eA"]), add(tensors[f"{g}.eB"])
        X = torch.full((2, n, lmax + 2), -1, dtype=torch.long)
        T = torch.full((2, n, lmax + 2), -1, dtype=torch.long)
        digit = torch.zeros((2, n, lmax + 2), dtype=torch.bool)
        for i in range(n):
            L = int(lens[i])
            ys = [short[int(t)] for t in y[i, :L]]
            X[:, i, :L + 1] = iS[i, :L + 1]
            X[1, i, L + 1] = im[i]
            T[0, i, :L + 1] = torch.tensor(ys + [short[end_id]])
            T[1, i, :L + 2] = torch.tensor(ys + [short[marker_id], short[end_id]])
            digit[:, i, :L] = True
        out[g] = Responses(torch.stack([ia, ib]), X, T, digit)
    return torch.cat(vecs), out


def pair_loss(method, model, table: Table, resp: Responses, rows_c, rows_r, mark_c, mark_r, margin, ref=None):
    """The method's loss on a batch of pairs; `ref` holds frozen log-probs for DPO with a reference."""
    r_c = model.reward(table, resp.readout(rows_c, mark_c))
    r_r = model.reward(table, resp.readout(rows_r, mark_r))
    kind = method.kind
    if kind in ("bt", "frozen"):
        return losses.bt(r_c, r_r)
    if kind == "margin":
        return losses.bt_margin(r_c, r_r, method.margin_scale * margin)
    if kind == "label_smoothing":
        return losses.bt_label_smoothing(r_c, r_r, method.epsilon)
    lp_c = resp.seq_logprob(model, table, rows_c, mark_c)
    if kind == "grm_sft":
        reg = losses.sft_reg(lp_c, method.beta)
    else:
        lp_r = resp.seq_logprob(model, table, rows_r, mark_r)
        reg = losses.dpo_reg(lp_c, lp_r, method.beta, *(ref if kind == "grm_dpo" else (None, None)))
    return losses.grm(losses.bt(r_c, r_r), reg, method.alpha)


def train_one(method, top: Top, table: Table, pool: Responses, pool_pairs: list[dict], pool_markers,
              subset: np.ndarray, rm_cfg, seed: int):
    """One reward model on the pairs `subset` of the pool; returns the model and its loss curve."""
    import torch

    from llmrepro.models.train import train

    cfg = rm_cfg.train.loop(len(subset))
    model = build(top, None if method.kind == "frozen" else rm_cfg.lora, rm_cfg.head.hidden, rm_cfg.head.dropout,
                  seed).to(table.h.device)
    rows_c, rows_r = torch.from_numpy(2 * subset), torch.from_numpy(2 * subset + 1)
    mk = torch.tensor(np.asarray(pool_markers, dtype=bool)[subset])
    margin = torch.tensor([pool_pairs[i]["gold_chosen"] - pool_pairs[i]["gold_rejected"] for i in subset],
                          dtype=torch.float32, device=table.h.device)
    ref = None
    if method.kind == "grm_dpo":  # LoRA starts at zero: the untrained model is the frozen reference
        model.eval()
        with torch.no_grad():
            ref = (pool.seq_logprob(model, table, rows_c, mk[:, 0]), pool.seq_logprob(model, table, rows_r, mk[:, 1]))
    rng = np.random.default_rng(seed)
    order: list[int] = []

    def next_batch(step):
        nonlocal order
        if len(order) < cfg.batch:  # a new epoch: every pair once, in a seeded order
            order += rng.permutation(len(subset)).tolist()
        b, order = order[:cfg.batch], order[cfg.batch:]
        return torch.tensor(b)

    def loss_fn(model, b):
        r = None if ref is None else (ref[0][b], ref[1][b])
        return pair_loss(method, model, table, pool, rows_c[b], rows_r[b], mk[b, 0], mk[b, 1], margin[b], r)

    hist, _ = train(model, next_batch, cfg, loss_fn=loss_fn)
    return model, hist


def rewards(model, table: Table, resp: Responses, rows, marked):
    import torch

    model.eval()
    with torch.no_grad():
        return model.reward(table, resp.readout(rows, marked)).cpu().numpy()
