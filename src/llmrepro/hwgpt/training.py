"""Token streams, the supernet's sandwich training, standalone training, and perplexity of a
sub-network with inherited weights. Training goes through the project's one loop
(`llmrepro.models.train`), so the supernet and the standalone models share optimiser, schedule,
clipping and data order."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from llmrepro import io
from llmrepro.hwgpt.space import Arch, Space


def build_tokens(tok_dir: Path, corpus_dirs: list[Path], context: int, eval_windows: int, out_dir: Path) -> dict:
    """The training stream (both corpora's train splits) and fixed validation windows per corpus,
    tokenised once for every hwgpt stage."""
    from llmrepro.data import corpora as C
    from llmrepro.data import tokenizer as T
    from llmrepro.models.evaluate import windows

    tok = T.load(tok_dir)
    train = np.concatenate([np.asarray(T.encode_corpus(tok, C.read_split(d, "train")) + [tok.eos_token_id])
                            for d in corpus_dirs]).astype(np.int32)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "train.npy", train)
    meta: dict[str, Any] = {"vocab": len(tok), "context": context, "train_tokens": int(len(train)), "valid": {}}
    for d in corpus_dirs:
        w = windows(T.encode_corpus(tok, C.read_split(d, "valid")), context, eval_windows).astype(np.int32)
        np.save(out_dir / f"valid_{d.name}.npy", w)
        meta["valid"][d.name] = {"windows": int(len(w)), "tokens": int(w.size)}
    io.write_json(out_dir / "meta.json", meta)
    return meta


def load_tokens(tok_dir: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    meta = io.read_json(tok_dir / "meta.json")
    valid = np.concatenate([np.load(tok_dir / f"valid_{c}.npy") for c in sorted(meta["valid"])])
    return np.load(tok_dir / "train.npy").astype(np.int64), valid.astype(np.int64), meta


def new_supernet(space: Space, arch: Arch | None, seed: int):
    from llmrepro.hwgpt.supernet import SuperGPT

    return SuperGPT(arch or space.largest, space.vocab, space.context, space.head_size).init_weights(seed)


def sandwich_train(space: Space, cfg, train_ids: np.ndarray, progress=None, model=None):
    """The sandwich rule: every step the largest, the smallest and `random_subnets` random
    sub-networks each take a forward/backward pass on their own batch (as the paper's DDP ranks do),
    and the averaged gradient updates the shared weights once."""
    import torch

    from llmrepro.models import train

    model = model or new_supernet(space, None, cfg.seed)
    k = 2 + cfg.random_subnets
    rng = np.random.default_rng(cfg.seed + 1)  # the random subnets' draws, apart from the data order
    per_subnet: list[list[float]] = []

    def loss_fn(m, batch):
        archs = [space.largest, space.smallest, *(space.sample(rng) for _ in range(cfg.random_subnets))]
        losses = []
        for arch, rows in zip(archs, torch.chunk(batch, k)):
            m.set_arch(arch)
            losses.append(m(rows, labels=rows).loss)
        per_subnet.append([float(x.detach()) for x in losses])
        return torch.stack(losses).mean()

    next_batch = train.window_batches(train_ids, cfg.train.batch * k, space.context, cfg.seed)
    hist, _ = train.train(model, next_batch, cfg.train, loss_fn=loss_fn, progress=progress)
    model.set_arch(space.largest)
    hist["loss_largest"] = [r[0] for r in per_subnet]
    hist["loss_smallest"] = [r[1] for r in per_subnet]
    hist["tokens_per_subnet"] = hist["tokens"] // k
    return model, hist


def standalone_train(space: Space, arch: Arch, train_cfg, seed: int, train_ids: np.ndarray):
    """`arch` alone, from scratch, with the supernet's schedule and batch per sub-network."""
    from llmrepro.models import train

    model = new_supernet(space, arch, seed)
    next_batch = train.window_batches(train_ids, train_cfg.batch, space.context, seed)
    hist, _ = train.train(model, next_batch, train_cfg, loss_fn=lambda m, b: m(b, labels=b).loss)
    return model, hist


def nll(model, windows: np.ndarray, batch: int) -> float:
    """Mean next-token NLL (nats) over the fixed validation windows."""
    import torch

    from llmrepro.models.evaluate import nll_per_token

    model.eval()
    per = [nll_per_token(model, torch.from_numpy(windows[i:i + batch])) for i in range(0, len(windows), batch)]
    return float(np.concatenate(per).mean())


def inherited_nll(model, archs: list[Arch], windows: np.ndarray, batch: int, progress=None) -> list[float]:
    out = []
    for a in (progress(archs, total=len(archs), desc="ppl") if progress else archs):
        model.set_arch(a)
        out.append(nll(model, windows, batch))
    return out


def pick_by_size(space: Space, n: int) -> list[Arch]:
    """`n` architectures whose parameter counts are evenly spaced strictly between the smallest's and
    the largest's (the closest in the space to each target; ties to the enumeration order). The two
    extremes are left out: the sandwich rule trains them directly every step, so they would make
    the supernet look better than inheritance does. Fixed by the space, no seed."""
    sizes = np.array([space.params(a) for a in space.all])
    targets = np.linspace(sizes.min(), sizes.max(), n + 2)[1:-1]
    out: list[Arch] = []
    for t in targets:
        order = np.argsort(np.abs(sizes - t), kind="stable")
        out.append(next(space.all[i] for i in order if space.all[i] not in out))
    return out


def ppl(nll_value: float) -> float:
    return math.exp(nll_value)
