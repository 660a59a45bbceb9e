"""The weight-sharing GPT-2 supernet (weight entanglement, as HW-GPT-Bench's super modules).

Every sub-network uses the top-left slice of the supernet's matrices: embeddings and norms the
first `embed` columns, attention the first `heads` heads of q, k and v, the MLP the first
`ratio x embed` hidden units, the blocks the first `layers` layers. The blocks are GPT-2's (pre
LayerNorm, causal attention, tanh GELU, learned positions, tied LM head), so a homogeneous
sub-network whose attention width equals its embedding width is exactly a `GPT2LMHeadModel`
(tests/hwgpt/test_supernet.py). HF's GPT-2 cannot express per-layer widths or an attention width
decoupled from the embedding, hence this module.

One class serves both roles: the supernet is built at the largest architecture and sliced by
`set_arch`; `materialize(arch)` copies the slices into a model built at `arch` itself, so that a
timed forward pass has the sub-network's real size.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
import torch.nn as nn
import torch.nn.functional as F

from llmrepro.hwgpt.space import Arch

LN_EPS = 1e-5  # GPT-2's layer_norm_epsilon


def _ln(x, mod: nn.LayerNorm, E: int):
    return F.layer_norm(x, (E,), mod.weight[:E], mod.bias[:E], LN_EPS)


class Block(nn.Module):
    def __init__(self, embed: int, heads: int, mlp_hidden: int, head_size: int):
        super().__init__()
        W = heads * head_size
        self.head_size = head_size
        self.ln_1, self.ln_2 = nn.LayerNorm(embed, eps=LN_EPS), nn.LayerNorm(embed, eps=LN_EPS)
        # q, k and v kept apart so that "the first h heads" is one slice of each
        self.q, self.k, self.v = nn.Linear(embed, W), nn.Linear(embed, W), nn.Linear(embed, W)
        self.proj = nn.Linear(W, embed)
        self.fc, self.fc_out = nn.Linear(embed, mlp_hidden), nn.Linear(mlp_hidden, embed)

    def forward(self, x, heads: int, mlp_hidden: int):
        B, T, E = x.shape
        W = heads * self.head_size
        a = _ln(x, self.ln_1, E)
        q, k, v = (F.linear(a, m.weight[:W, :E], m.bias[:W]).view(B, T, heads, self.head_size).transpose(1, 2)
                   for m in (self.q, self.k, self.v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, W)
        x = x + F.linear(y, self.proj.weight[:E, :W], self.proj.bias[:E])
        h = F.gelu(F.linear(_ln(x, self.ln_2, E), self.fc.weight[:mlp_hidden, :E], self.fc.bias[:mlp_hidden]),
                   approximate="tanh")
        return x + F.linear(h, self.fc_out.weight[:E, :mlp_hidden], self.fc_out.bias[:E])


class SuperGPT(nn.Module):
    """A GPT-2-style LM whose every layer may have its own width; `set_arch` picks a sub-network."""

    def __init__(self, arch: Arch, vocab: int, context: int, head_size: int):
        super().__init__()
        self.max_arch, self.vocab, self.context, self.head_size = arch, vocab, context, head_size
        E = arch.embed
        self.wte, self.wpe = nn.Embedding(vocab, E), nn.Embedding(context, E)
        self.blocks = nn.ModuleList(Block(E, h, r * E, head_size) for h, r in zip(arch.heads, arch.mlp))
        self.ln_f = nn.LayerNorm(E, eps=LN_EPS)
        self.arch = arch

    def init_weights(self, seed: int) -> SuperGPT:
        """GPT-2's initialisation (normal 0.02, residual projections scaled by 1/sqrt(2L)), seeded."""
        g = torch.Generator().manual_seed(seed)
        resid = 0.02 / math.sqrt(2 * self.max_arch.layers)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.zero_()
                elif ".ln_" in name or name.startswith("ln_f"):
                    p.fill_(1.0)
                else:
                    std = resid if name.endswith(("proj.weight", "fc_out.weight")) else 0.02
                    p.copy_(torch.randn(p.shape, generator=g) * std)
        return self

    def fits(self, arch: Arch) -> bool:
        m = self.max_arch
        return (arch.embed <= m.embed and arch.layers <= m.layers
                and all(h <= mh and r * arch.embed <= mr * m.embed
                        for h, r, mh, mr in zip(arch.heads, arch.mlp, m.heads, m.mlp)))

    def set_arch(self, arch: Arch) -> SuperGPT:
        if not self.fits(arch):
            raise ValueError(f"{arch.key} does not fit in the supernet {self.max_arch.key}")
        self.arch = arch
        return self

    def forward(self, input_ids, labels=None):
        a = self.arch
        E, T = a.embed, input_ids.shape[1]
        x = F.embedding(input_ids, self.wte.weight[:, :E]) + self.wpe.weight[:T, :E]
        for block, h, r in zip(self.blocks, a.heads, a.mlp):
            x = block(x, h, r * E)
        logits = F.linear(_ln(x, self.ln_f, E), self.wte.weight[:, :E])  # tied LM head
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
        return SimpleNamespace(logits=logits, loss=loss)

    @torch.no_grad()
    def materialize(self, arch: Arch) -> SuperGPT:
        """A compact model of `arch` carrying the supernet's slices (same outputs, its real size)."""
        self.set_arch(arch)
        sub = SuperGPT(arch, self.vocab, self.context, self.head_size)
        E, hs = arch.embed, self.head_size
        sub.wte.weight.copy_(self.wte.weight[:, :E])
        sub.wpe.weight.copy_(self.wpe.weight[:, :E])
        sub.ln_f.weight.copy_(self.ln_f.weight[:E])
        sub.ln_f.bias.copy_(self.ln_f.bias[:E])
        for src, dst, h, r in zip(self.blocks, sub.blocks, arch.heads, arch.mlp):
            W, H = h * hs, r * E
            for name in ("ln_1", "ln_2"):
                getattr(dst, name).weight.copy_(getattr(src, name).weight[:E])
                getattr(dst, name).bias.copy_(getattr(src, name).bias[:E])
            for name, rows, cols in (("q", W, E), ("k", W, E), ("v", W, E), ("proj", E, W), ("fc", H, E),
                                     ("fc_out", E, H)):
                getattr(dst, name).weight.copy_(getattr(src, name).weight[:rows, :cols])
                getattr(dst, name).bias.copy_(getattr(src, name).bias[:rows])
        return sub.eval()


def load_gpt2_state_dict(model: SuperGPT, sd: dict) -> SuperGPT:
    """Copy a `GPT2LMHeadModel` state dict into a supernet of the same (homogeneous) shape: the
    paper's full-scale supernet inherits GPT-2's weights. GPT-2 stores Conv1D weights as
    (in, out) and q, k, v concatenated along `out`."""
    W = model.max_arch.heads[0] * model.head_size
    with torch.no_grad():
        model.wte.weight.copy_(sd["transformer.wte.weight"])
        model.wpe.weight.copy_(sd["transformer.wpe.weight"][:model.context])
        model.ln_f.weight.copy_(sd["transformer.ln_f.weight"])
        model.ln_f.bias.copy_(sd["transformer.ln_f.bias"])
        for i, b in enumerate(model.blocks):
            p = f"transformer.h.{i}."
            for ours, theirs in (("ln_1", "ln_1"), ("ln_2", "ln_2")):
                getattr(b, ours).weight.copy_(sd[p + theirs + ".weight"])
                getattr(b, ours).bias.copy_(sd[p + theirs + ".bias"])
            qkv_w, qkv_b = sd[p + "attn.c_attn.weight"], sd[p + "attn.c_attn.bias"]
            for j, m in enumerate((b.q, b.k, b.v)):
                m.weight.copy_(qkv_w[:, j * W:(j + 1) * W].T)
                m.bias.copy_(qkv_b[j * W:(j + 1) * W])
            for m, name in ((b.proj, "attn.c_proj"), (b.fc, "mlp.c_fc"), (b.fc_out, "mlp.c_proj")):
                m.weight.copy_(sd[p + name + ".weight"].T)
                m.bias.copy_(sd[p + name + ".bias"])
    return model
