"""A tiny CLIP: transformers' CLIPTextModel and an MLP image tower, trained with
symmetric InfoNCE and a learnable temperature; zero-shot by prompt ensembles.

The text embedding is the last real token's hidden state (we append an EOS and
read it by position), which sidesteps CLIPTextModel's legacy argmax-of-ids
pooling when eos_token_id is 2.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from llmrepro.freq.config import ClipCfg


class TinyClip(nn.Module):
    def __init__(self, vocab: int, image_dim: int, cfg: ClipCfg):
        super().__init__()
        from transformers import CLIPTextConfig, CLIPTextModel

        self.text = CLIPTextModel(CLIPTextConfig(
            vocab_size=vocab, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
            intermediate_size=2 * cfg.hidden, max_position_embeddings=cfg.max_len, pad_token_id=3,
            bos_token_id=1, eos_token_id=2))
        self.text_proj = nn.Linear(cfg.hidden, cfg.embed, bias=False)
        self.image = nn.Sequential(nn.Linear(image_dim, 128), nn.GELU(), nn.Linear(128, cfg.embed))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.text(input_ids=ids, attention_mask=mask).last_hidden_state
        last = mask.sum(1) - 1
        return nn.functional.normalize(self.text_proj(h[torch.arange(len(ids)), last]), dim=-1)

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.image(x), dim=-1)


def encode(tok, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    enc = tok([t + " <eos>" for t in texts], padding="max_length", truncation=True, max_length=max_len,
              return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def train(world, tok, cfg: ClipCfg, seed: int, progress=None) -> tuple[TinyClip, list[float]]:
    torch.manual_seed(seed)
    ids, mask = encode(tok, world.captions, cfg.max_len)
    images = torch.from_numpy(np.asarray(world.images, dtype=np.float32))
    model = TinyClip(len(tok), images.shape[1], cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    n = len(ids)
    losses = []
    steps = [(e, i) for e in range(cfg.epochs) for i in range(0, n - cfg.batch + 1, cfg.batch)]
    order = {e: torch.randperm(n, generator=g) for e in range(cfg.epochs)}
    model.train()
    for e, i in progress(steps, desc="clip") if progress else steps:
        b = order[e][i:i + cfg.batch]
        t, v = model.encode_text(ids[b], mask[b]), model.encode_image(images[b])
        logits = model.logit_scale.exp().clamp(max=100) * t @ v.T
        target = torch.arange(len(b))
        loss = (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return model, losses


@torch.no_grad()
def zero_shot(model: TinyClip, tok, names: list[str], prompts: tuple[str, ...], x: np.ndarray, y: np.ndarray,
              max_len: int) -> np.ndarray:
    """Per-concept top-1 accuracy (%) over the K concepts, prompt-ensemble class embeddings."""
    K = len(names)
    emb = torch.zeros(K, model.text_proj.out_features)
    for p in prompts:
        ids, mask = encode(tok, [p.format(s=n) for n in names], max_len)
        emb += model.encode_text(ids, mask)
    emb = nn.functional.normalize(emb, dim=-1)
    pred = (model.encode_image(torch.from_numpy(x)) @ emb.T).argmax(1).numpy()
    return np.array([100.0 * (pred[y == c] == c).mean() for c in range(K)])
