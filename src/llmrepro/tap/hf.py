"""A local transformers chat model behind the chat interface (target or attacker).

Built for many short answers: conversations that share a system prompt reuse its
key/value cache (computed once per system prompt, then copied into the batch), rows are
batched, generation is capped at `max_new_tokens`, and a row stops as soon as its
`stop` predicate fires on the text so far (the target stops at the first leak) or it
emits the end-of-turn token. Greedy at temperature 0; nucleus sampling otherwise, seeded.

Batch layout, per row: [pad][system prefix][pad][rest of the conversation][generated].
Pads are masked out and positions count only real tokens, so each row computes what it
would compute alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from llmrepro.tap.world import stable_int


class HFChat:
    def __init__(self, model, tok, max_new_tokens: int = 24, batch: int = 32, temperature: float = 0.0,
                 top_p: float = 1.0, prefix_cache: int = 64):
        self.model, self.tok = model, tok
        self.max_new_tokens, self.batch = max_new_tokens, batch
        self.temperature, self.top_p = temperature, top_p
        self.pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.eos = {t for t in (tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>")) if isinstance(t, int)
                    and t >= 0 and t != tok.unk_token_id}
        self._prefixes: OrderedDict[tuple[int, ...], list] = OrderedDict()
        self._max_prefixes = prefix_cache
        self.generated_tokens = 0
        self.prompt_tokens = 0

    def _encode(self, conv: list[dict]) -> tuple[list[int], list[int]]:
        """(system prefix ids, remaining ids); the prefix is empty where it does not tokenize apart."""
        ids = self.tok.apply_chat_template(conv, add_generation_prompt=True, tokenize=True)
        ids = list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        if conv and conv[0]["role"] == "system" and len(conv) > 1:
            pre = self.tok.apply_chat_template(conv[:1], add_generation_prompt=False, tokenize=True)
            pre = list(pre["input_ids"] if isinstance(pre, dict) or hasattr(pre, "keys") else pre)
            if 0 < len(pre) < len(ids) and ids[:len(pre)] == pre:
                return pre, ids[len(pre):]
        return [], ids

    def _prefix_kv(self, pre: tuple[int, ...]) -> list:
        import torch

        if pre in self._prefixes:
            self._prefixes.move_to_end(pre)
            return self._prefixes[pre]
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([pre]), use_cache=True)
        kv = [(layer.keys, layer.values) for layer in out.cache.layers]
        self.prompt_tokens += len(pre)
        self._prefixes[pre] = kv
        if len(self._prefixes) > self._max_prefixes:
            self._prefixes.popitem(last=False)
        return kv

    def _next(self, logits, seeds: Sequence[int]):
        import torch

        if self.temperature <= 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits / self.temperature, -1)
        if self.top_p < 1:
            sp, si = probs.sort(-1, descending=True)
            cut = sp.cumsum(-1) - sp > self.top_p
            sp[cut] = 0
            probs = torch.zeros_like(probs).scatter(-1, si, sp)
        gen = torch.Generator().manual_seed(stable_int("sample", tuple(seeds), self.generated_tokens) % 2**63)
        return torch.multinomial(probs / probs.sum(-1, keepdim=True), 1, generator=gen).squeeze(-1)

    def _generate(self, rows: list[tuple[list[int], list[int]]], stops: list[Callable[[str], bool] | None],
                  seeds: Sequence[int]) -> list[str]:
        import torch
        from transformers import DynamicCache

        B = len(rows)
        P = max(len(p) for p, _ in rows)
        S = max(len(s) for _, s in rows)
        mask = torch.zeros(B, P + S, dtype=torch.long)
        ids = torch.full((B, S), self.pad, dtype=torch.long)
        for i, (p, s) in enumerate(rows):
            mask[i, P - len(p):P] = 1
            mask[i, P + S - len(s):] = 1
            ids[i, S - len(s):] = torch.tensor(s)
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = None
        if P:
            kvs = [self._prefix_kv(tuple(p)) if p else None for p, _ in rows]
            ref = next(kv for kv in kvs if kv is not None)
            data = []
            for layer, (k0, v0) in enumerate(ref):
                k = k0.new_zeros(B, k0.shape[1], P, k0.shape[3])
                v = v0.new_zeros(B, v0.shape[1], P, v0.shape[3])
                for i, kv in enumerate(kvs):
                    if kv is not None:
                        n = kv[layer][0].shape[2]
                        k[i, :, P - n:] = kv[layer][0][0]
                        v[i, :, P - n:] = kv[layer][1][0]
                data.append((k, v))
            cache = DynamicCache(data)
        self.prompt_tokens += sum(len(s) for _, s in rows)
        texts = [""] * B
        out_ids: list[list[int]] = [[] for _ in range(B)]
        live = list(range(B))  # row index of each batch position
        step_ids, step_pos = ids, pos[:, P:]
        with torch.inference_mode():
            for _ in range(self.max_new_tokens):
                out = self.model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                                 cache=cache, use_cache=True, logits_to_keep=1)
                cache = out.cache
                nxt = self._next(out.logits[:, -1, :].float(), [seeds[i] for i in live])
                self.generated_tokens += len(live)
                keep = []
                for j, i in enumerate(live):
                    t = int(nxt[j])
                    if t in self.eos:
                        continue
                    out_ids[i].append(t)
                    texts[i] = self.tok.decode(out_ids[i], skip_special_tokens=True)
                    if stops[i] is not None and stops[i](texts[i]):
                        continue
                    keep.append(j)
                if not keep:
                    break
                if len(keep) < len(live):
                    idx = torch.tensor(keep)
                    cache.batch_select_indices(idx)
                    mask, nxt, step_pos = mask[idx], nxt[idx], step_pos[idx]
                    live = [live[j] for j in keep]
                mask = torch.cat([mask, torch.ones(len(live), 1, dtype=torch.long)], -1)
                step_ids = nxt[:, None]
                step_pos = step_pos[:, -1:] + 1
        return texts

    def chat(self, convs: list[list[dict]], stops: Sequence[Callable[[str], bool] | None] | None = None,
             seeds: Sequence[int] | None = None) -> list[str]:
        stops = list(stops) if stops is not None else [None] * len(convs)
        seeds = list(seeds) if seeds is not None else [0] * len(convs)
        rows = [self._encode(c) for c in convs]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][1]))  # similar lengths: less padding
        out = [""] * len(rows)
        for start in range(0, len(order), self.batch):
            chunk = order[start:start + self.batch]
            texts = self._generate([rows[i] for i in chunk], [stops[i] for i in chunk], [seeds[i] for i in chunk])
            for i, t in zip(chunk, texts):
                out[i] = t
        return out


def load(model_dir, source=None, **kw) -> HFChat:
    """From the local DVC output (mini) or a pinned hub revision (full scale)."""
    from llmrepro.models.factory import load_causal_lm, load_source

    model, tok = load_source(source, model_dir) if source is not None else load_causal_lm(model_dir)
    return HFChat(model, tok, **kw)
