"""The frozen trunk, run once: states cached for every response, and best-of-n samples.

The reward models train the top layer's MLP (LoRA), the reward head and the retained LM head
on top of a frozen trunk. Every module above the top layer's attention works position by
position, so the trunk's output there, the residual stream entering the top layer's MLP
(`h_mid`), is all they need. It is computed once here (in bf16 autocast where `backbone.bf16`) and cached in bf16.

Every world has its own few-shot prefix, so its states are its own. Within a world, sequences share
work by construction: one few-shot prefix (its KV cache is computed once), one
prompt per pair (chosen and rejected continue the same cache), and one response for both
suffixes (with and without the marker). Per response the cache holds, in order of position:
  S[0..L]  the last prompt token and each response digit (they predict the digits, then the
           marker or the end token)
  m        the marker (predicts the end token in the marked variant)
  eA, eB   the end token without and with the marker: the reward's read-out state
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from llmrepro.grm.world import answer, gold, prefix_text, prompt_text
from llmrepro.models.device import device


def single_token(tok, text: str, what: str) -> int:
    ids = tok(text, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ValueError(f"grm.world.{what} = {text!r} must be one token of the backbone's tokenizer, got {ids}")
    return ids[0]


def digit_ids(tok) -> list[int]:
    return [single_token(tok, str(d), f"digit {d}") for d in range(10)]


class Trunk:
    """The frozen causal LM, read at the input of its top layer's MLP."""

    def __init__(self, model, tok, marker: str, end: str, bf16: bool, device: str = "cpu"):
        import torch

        self.model, self.tok, self.bf16, self.device = model.to(device), tok, bf16, device
        self.digits = digit_ids(tok)
        self.marker, self.end = single_token(tok, marker, "marker"), single_token(tok, end, "end")
        self._h = None
        top = model.model.layers[-1]
        top.post_attention_layernorm.register_forward_pre_hook(lambda mod, args: setattr(self, "_h", args[0]))
        self._torch = torch

    def step(self, ids, cache, **kw):
        """Feed `ids` (B, T) after `cache` (`kw`: position_ids, a 4D attention_mask); return h_mid
        (B, T, H) in bf16."""
        torch = self._torch
        kw = {k: v.to(self.device) for k, v in kw.items()}
        with torch.no_grad(), torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16, enabled=self.bf16):
            self.model.model(input_ids=ids.to(self.device), cache=cache, use_cache=True, **kw)
        return self._h.to("cpu", torch.bfloat16)

    def next_logits(self, h_mid):
        """Frozen next-token logits from h_mid (the top MLP, final norm and LM head)."""
        torch = self._torch
        top = self.model.model.layers[-1]
        with torch.no_grad():
            h = h_mid.to(self.device, self.model.dtype)
            h = h + top.mlp(top.post_attention_layernorm(h))
            return self.model.lm_head(self.model.model.norm(h)).float().cpu()

    def prefix(self, text: str):
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        self.step(self._torch.tensor([ids]), cache)
        return cache, len(ids)

    def digits_of(self, s: str) -> list[int]:
        return [self.digits[int(c)] for c in s]

    def encode_prompt(self, task: str, x: str) -> list[int]:
        return self.tok(prompt_text(task, x), add_special_tokens=False)["input_ids"]

    def suffix(self, cache, n: int):
        """After n responses in `cache`: both read-outs in one row of three tokens, [end, marker, end].
        The first end (eA, right after the response) and the marker share a position and do not see each
        other; the last end (eB) follows the marker. One row per response, not two, and no position
        spent on an end token that nothing reads. Returns eA, m, eB (n, H)."""
        torch = self._torch
        past = cache.get_seq_length()
        ids = torch.tensor([[self.end, self.marker, self.end]]).expand(n, 3)
        pos = torch.tensor([[past, past, past + 1]]).expand(n, 3)
        sees = torch.ones(3, past + 3, dtype=torch.bool)
        sees[:, past:] = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 1, 1]], dtype=torch.bool)
        h = self.step(ids, cache, position_ids=pos, attention_mask=sees.expand(n, 1, 3, past + 3))
        return h[:, 0], h[:, 1], h[:, 2]


def _groups(items: Sequence[dict], trunk: Trunk) -> dict[tuple[int, int], list[int]]:
    """Items whose prompt and response lengths agree run in one batch (no padding anywhere)."""
    out: dict[tuple[int, int], list[int]] = {}
    for i, it in enumerate(items):
        out.setdefault((len(trunk.encode_prompt(it["task"], it["x"])), len(it["chosen"])), []).append(i)
    return out


def cache_pairs(trunk: Trunk, prefix, pairs: Sequence[dict], batch: int, progress=None) -> dict:
    """States of every chosen and rejected response (rows 2i and 2i+1): S (2n, Lmax+1, H), m, eA, eB
    (2n, H), target digit ids y (2n, Lmax; -1 pads) and lengths."""
    torch = trunk._torch
    n, lmax = len(pairs), max(len(p["chosen"]) for p in pairs)
    H = trunk.model.config.hidden_size
    S = torch.zeros(2 * n, lmax + 1, H, dtype=torch.bfloat16)
    m, eA, eB = (torch.zeros(2 * n, H, dtype=torch.bfloat16) for _ in range(3))
    y = torch.full((2 * n, lmax), -1, dtype=torch.long)
    lens = torch.zeros(2 * n, dtype=torch.long)
    chunks = [(k, idx[i:i + batch]) for k, idx in sorted(_groups(pairs, trunk).items())
              for i in range(0, len(idx), batch)]
    for (_, L), idx in (progress(chunks, total=len(chunks), desc="pairs") if progress else chunks):
        cache = copy.deepcopy(prefix)
        cache.reorder_cache(torch.zeros(len(idx), dtype=torch.long))
        h_prompt = trunk.step(torch.tensor([trunk.encode_prompt(pairs[i]["task"], pairs[i]["x"]) for i in idx]),
                              cache)[:, -1]
        cache.reorder_cache(torch.arange(len(idx)).repeat_interleave(2))
        resp = torch.tensor([trunk.digits_of(pairs[i][side]) for i in idx for side in ("chosen", "rejected")])
        h_resp = trunk.step(resp, cache)
        a, mm, b = trunk.suffix(cache, 2 * len(idx))
        rows = torch.tensor([2 * i + s for i in idx for s in (0, 1)])
        S[rows, 0] = h_prompt.repeat_interleave(2, dim=0)
        S[rows, 1:L + 1] = h_resp
        m[rows], eA[rows], eB[rows] = mm, a, b
        y[rows, :L] = resp
        lens[rows] = L
    return {"S": S, "m": m, "eA": eA, "eB": eB, "y": y, "len": lens}


def sample_bon(trunk: Trunk, prefix, prompt: dict, n: int, rng: np.random.Generator) -> dict:
    """n responses of the prompt's length sampled at temperature 1 from the backbone, restricted
    to digit tokens. Samples that agree so far share one cache row, so the trunk runs once per
    distinct prefix. Returns the distinct responses with their states and each sample's index."""
    torch = trunk._torch
    L = len(prompt["x"])
    cache = copy.deepcopy(prefix)
    h = trunk.step(torch.tensor([trunk.encode_prompt(prompt["task"], prompt["x"])]), cache)[:, -1]
    digits = torch.tensor(trunk.digits)
    paths: list[str] = [""]  # distinct prefixes, one cache row each
    states = [[h[0]]]  # per distinct prefix: its S[0..t]
    of_sample = np.zeros(n, dtype=np.int64)
    for t in range(L):
        probs = torch.softmax(trunk.next_logits(torch.stack([s[-1] for s in states]))[:, digits], -1).double().numpy()
        cum = np.cumsum(probs[of_sample], 1)
        draws = np.minimum((cum < rng.random(n)[:, None] * cum[:, -1:]).sum(1), 9)
        new = sorted({(int(p), int(d)) for p, d in zip(of_sample, draws)})
        key = {k: j for j, k in enumerate(new)}
        of_sample = np.array([key[(int(p), int(d))] for p, d in zip(of_sample, draws)])
        parents = torch.tensor([p for p, _ in new])
        cache.reorder_cache(parents)
        hs = trunk.step(torch.tensor([[trunk.digits[d]] for _, d in new]), cache)[:, 0]
        paths = [paths[p] + str(d) for p, d in new]
        states = [states[p] + [hs[j]] for j, (p, _) in enumerate(new)]
    a, mm, b = trunk.suffix(cache, len(paths))
    golds = [gold(prompt["task"], prompt["x"], r) for r in paths]
    return {"responses": paths, "S": torch.stack([torch.stack(s) for s in states]), "m": mm, "eA": a, "eB": b,
            "y": torch.tensor([trunk.digits_of(r) for r in paths]), "gold": golds,
            "sample": of_sample.tolist(), "answer": answer(prompt["task"], prompt["x"])}


def natural_tokenization(trunk: Trunk, world: dict, pairs: Sequence[dict]) -> float:
    """Fraction of sequences whose cached token ids equal the tokenizer's own reading of the whole
    text (1.0 for SmolLM2: digits are single tokens and nothing merges across the pieces)."""
    enc = lambda s: trunk.tok(s, add_special_tokens=False)["input_ids"]
    pre, same, n = prefix_text(world), 0, 0
    for p in pairs:
        for y in (p["chosen"], p["rejected"]):
            for marked in (False, True):
                ids = (enc(pre) + trunk.encode_prompt(p["task"], p["x"]) + trunk.digits_of(y)
                       + [trunk.marker] * marked + [trunk.end])
                text = pre + prompt_text(p["task"], p["x"]) + y + world["marker"] * marked + world["end"]
                same += ids == enc(text)
                n += 1
    return same / n


def shortlist(trunk: Trunk, groups: dict[str, dict], topk: int, positions: int, seed: int) -> dict:
    """The vocabulary the SFT/DPO regularizers normalise over: every token the world uses plus the
    frozen model's top-k at a sample of cached positions. Reports the frozen probability mass the
    shortlist covers at those positions (1.0 would be the full softmax)."""
    torch = trunk._torch
    rng = np.random.default_rng(seed)
    pool = torch.cat([torch.cat([g["S"][g["len"] >= 0].flatten(0, 1), g["m"], g["eA"], g["eB"]]) for g in
                      groups.values()])
    pool = pool[pool.abs().sum(-1) > 0]  # padded S rows are zero
    pick = torch.from_numpy(rng.choice(len(pool), size=min(positions, len(pool)), replace=False))
    logp = torch.log_softmax(trunk.next_logits(pool[pick]), -1)
    world = set(trunk.digits) | {trunk.marker, trunk.end}
    ids = sorted(world | set(logp.topk(topk, -1).indices.flatten().tolist()))
    covered = logp[:, ids].exp().sum(-1)
    return {"ids": ids, "coverage_mean": float(covered.mean()), "coverage_min": float(covered.min()),
            "positions": int(len(pick))}


def run(cfg, worlds: dict, model_dir: Path, out_dir: Path, progress: Callable | None = None) -> dict:
    """Cache every training and test response and the best-of-n pool of every world (group names
    `w<k>.<group>`); write states.safetensors and meta.json into out_dir."""
    import torch
    from safetensors.torch import save_file

    from llmrepro import io
    from llmrepro.models.factory import load_source

    b = cfg.backbone
    first = worlds["worlds"][0]
    model, tok = load_source(b.model, model_dir, b.dtype)
    trunk = Trunk(model, tok, first["marker"], first["end"], b.bf16, str(device()))
    rng = np.random.default_rng(cfg.bon_seed)
    groups, bon, metas, natural = {}, {}, [], []
    for k, world in enumerate(worlds["worlds"]):
        prefix, n_prefix = trunk.prefix(prefix_text(world))  # this world's instruct model
        groups[f"w{k}.pool"] = cache_pairs(trunk, prefix, world["pool"], b.batch, progress)
        for name, pairs in world["pairs"].items():
            groups[f"w{k}.{name}"] = cache_pairs(trunk, prefix, pairs, b.batch, progress)
        bon_meta = []
        for i, prompt in enumerate(progress(world["bon"], desc="best-of-n") if progress else world["bon"]):
            s = sample_bon(trunk, prefix, prompt, cfg.world.bon_pool, rng)
            bon[f"w{k}.bon{i}"] = {**{k_: s[k_] for k_ in ("S", "m", "eA", "eB", "y")},
                                   "len": torch.full((len(s["responses"]),), len(prompt["x"]), dtype=torch.long)}
            marked = (rng.random(cfg.world.bon_pool) < cfg.world.bon_marker_rate).tolist()
            bon_meta.append({**prompt, "responses": s["responses"], "gold": s["gold"], "sample": s["sample"],
                             "marked": marked})
        metas.append({"prefix_tokens": n_prefix, "bon": bon_meta})
        natural.append(natural_tokenization(trunk, world, world["pool"][:4]))
    sl = shortlist(trunk, groups, b.shortlist_topk, b.shortlist_positions, cfg.bon_seed)
    tensors = {f"{g}.{k}": v.contiguous() for g, d in {**groups, **bon}.items() for k, v in d.items()}
    save_file(tensors, str(out_dir / "states.safetensors"))
    meta = {"marker_id": trunk.marker, "end_id": trunk.end, "digit_ids": trunk.digits, "worlds": metas,
            "prefix_tokens": [m["prefix_tokens"] for m in metas],
            "hidden": model.config.hidden_size, "shortlist": sl, "natural_tokenization": float(np.mean(natural)),
            "vectors": int(sum(v.shape[0] * (v.shape[1] if v.dim() == 3 else 1) for k, v in tensors.items()
                               if v.dim() >= 2 and v.dtype == torch.bfloat16))}
    io.write_json(out_dir / "meta.json", meta)
    return {k: meta[k] for k in ("prefix_tokens", "hidden", "vectors", "natural_tokenization")} | {
        "shortlist_size": len(sl["ids"]), "shortlist_coverage_mean": sl["coverage_mean"]}
