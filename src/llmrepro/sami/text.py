"""The paper's setting (full scale): TL;DR posts from the hub, the official constitution
files at a pinned commit, and a hub model and tokenizer at a pinned revision, behind the
same task interface as the synthetic world (`queries`, `prompt`, `eos`, `pad`), so SAMI's
loop, loss and sampling are the mini's own code.

Constitution k follows the world's layout: bit k // 2 picks the first principle or its
antithesis, bit k % 2 the second; k = 0 is the desired constitution (both principles).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Our wording of the task; the official code's generation prompt adds a few-shot format example.
PROMPT = ("System: Write a summary of the post below that follows the principles of the constitution.\n\n"
          "Constitution:\n{constitution}\n\nPOST: {post}\n\nSummary:")


def principles(files: list[dict]) -> tuple[str, str, str, str]:
    """(first principle, second, antithesis of the first, of the second) from the official
    constitution files: each has a `positive` text listing both principles and a `negative`
    one with one or both replaced, and `identifiers` saying which ("neg ..." / "pos ...")."""
    def items(text: str) -> list[str]:
        return [re.sub(r"^\s*\d+\.\s*", "", line).strip() for line in text.strip().split("\n") if line.strip()]

    pos = items(files[0]["positive"])
    if len(pos) != 2:
        raise ValueError(f"expected two principles in a positive constitution, got {len(pos)}: {pos}")
    anti: dict[int, str] = {}
    for f in files:
        p, neg = items(f["positive"]), items(f["negative"])
        for slot, ident in enumerate(f["identifiers"]["negative"]):
            if ident.startswith("neg"):
                # the file may list the principles in either order: match the slot to ours
                ours = pos.index(p[slot]) if p[slot] in pos else slot
                anti.setdefault(ours, neg[slot])
    if set(anti) != {0, 1}:
        raise ValueError(f"the constitution files negate principles {sorted(anti)} only; need both")
    return pos[0], pos[1], anti[0], anti[1]


def constitutions(p1: str, p2: str, a1: str, a2: str) -> list[str]:
    return [f"1. {(p1, a1)[k // 2]}\n2. {(p2, a2)[k % 2]}" for k in range(4)]


def load_constitutions(source, directory: str, dest: Path) -> list[str]:
    """The six official files (0.json .. 5.json) at the pinned commit, through the mirror or GitHub."""
    from llmrepro.data.sources import fetch_github

    files = []
    for i in range(6):
        fetch_github(source, f"{directory}/{i}.json", dest)
        files.append(json.loads((dest / directory / f"{i}.json").read_text()))
    return constitutions(*principles(files))


def field(row: dict, dotted: str):
    for part in dotted.split("."):
        row = row[part]
    return row


def load_posts(ds) -> list[str]:
    """Unique posts of a hub dataset split at a pinned revision, in order (the paper: the first
    250 unique posts of the comparisons' validation split); `text_field` may be dotted (info.post)."""
    import datasets

    kw = {"data_files": ds.data_files} if ds.data_files else {}
    rows = datasets.load_dataset(ds.id, ds.config, revision=ds.revision, split=ds.split, **kw)
    seen: dict[str, None] = {}
    for row in rows:
        seen.setdefault(field(row, ds.text_field).strip(), None)
        if ds.max_rows is not None and len(seen) >= ds.max_rows:
            break
    return list(seen)


@dataclass
class TextTask:
    """Posts and constitutions as text; queries are post indices."""

    tokenizer: object
    posts: list[str]
    constitutions: list[str]

    @property
    def eos(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def pad(self) -> int:
        pad = self.tokenizer.pad_token_id
        return self.eos if pad is None else pad

    def queries(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.posts), size=n, replace=n > len(self.posts))

    def prompt(self, k: int, q) -> list[int]:
        text = PROMPT.format(constitution=self.constitutions[k], post=self.posts[int(q)])
        return self.tokenizer(text, add_special_tokens=True)["input_ids"]

    def text(self, response: list[int]) -> str:
        return self.tokenizer.decode([t for t in response if t != self.eos], skip_special_tokens=True).strip()


def build_task(ps, model_dir_or_id: str, revision: str | None, posts_ref) -> TextTask:
    """A TextTask for the paper scale: the tokenizer of the model, the posts, the constitutions."""
    from transformers import AutoTokenizer

    kw = {"revision": revision} if revision else {}
    tok = AutoTokenizer.from_pretrained(model_dir_or_id, **kw)
    with tempfile.TemporaryDirectory() as tmp:
        cons = load_constitutions(ps.constitutions, ps.constitutions_dir, Path(tmp))
    return TextTask(tok, load_posts(posts_ref), cons)
