"""Small file helpers shared by every stage: JSON that is byte-stable, and hashes."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import yaml


def _clean(obj: Any) -> Any:
    # NaN/inf are not JSON; None says "not measured" honestly.
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return _clean(obj.item())  # numpy / torch scalars
    if hasattr(obj, "tolist"):
        return _clean(obj.tolist())
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_clean(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_json(path: Path | str, obj: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(obj))
    return path


def read_json(path: Path | str) -> Any:
    return json.loads(Path(path).read_text())


def file_hash(path: Path | str, algo: str = "md5", chunk: int = 1 << 20) -> str:
    """md5 by default: the hash dvc.lock records, so provenance can be checked against it."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# Files an engine drops into a directory output: Snakemake stamps each one it finishes.
ENGINE_MARKERS = frozenset({".snakemake_timestamp"})


def tree_hash(path: Path | str, algo: str = "md5") -> dict[str, Any]:
    """A file's hash, or for a directory the hash of each file in it."""
    path = Path(path)
    if path.is_file():
        return {algo: file_hash(path, algo), "size": path.stat().st_size}
    files = {p.relative_to(path).as_posix(): file_hash(p, algo) for p in sorted(path.rglob("*"))
             if p.is_file() and p.name not in ENGINE_MARKERS}
    digest = hashlib.new(algo, dumps(files).encode()).hexdigest()
    return {algo: digest, "nfiles": len(files), "files": files if len(files) <= 64 else None}


# libyaml's loader parses params.yaml and dvc.lock (7,600 lines) about 8x faster than PyYAML's Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`, through libyaml where PyYAML was built with it."""
    return yaml.load(text, Loader=_YAML_LOADER)
