"""Pinned sources, and the one code path that fetches them.

A source is a PyPI distribution at a pinned version, a file in a GitHub
repository at a pinned commit, or a hub model/dataset at a pinned revision.
When LLMREPRO_MIRROR is set (one or more folders, separated by ':'), a source
is first looked up in the mirror layout:

    pypi/<package>/<version>/<file>
    github/<owner>/<repo>/<commit>/<path>

and only fetched from the network when no mirror holds it. LLMREPRO_OFFLINE=1
forbids the network altogether (the tests set it). Every fetch returns the
sha256 of what it got, and a pinned sha256 is verified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from llmrepro.data.config import GithubSource, HubDataset, PypiSource

MIRROR_ENV, OFFLINE_ENV = "LLMREPRO_MIRROR", "LLMREPRO_OFFLINE"


class SourceError(RuntimeError):
    pass


def mirror_dirs() -> list[Path]:
    return [Path(p) for p in os.environ.get(MIRROR_ENV, "").split(os.pathsep) if p]


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _from_mirror(rel: str) -> Path | None:
    for d in mirror_dirs():
        if (d / rel).is_file():
            return d / rel
    return None


def _verify(path: Path, expected: str | None, what: str) -> str:
    got = sha256(path)
    if expected and got != expected:
        raise SourceError(f"{what}: sha256 {got} does not match the pinned {expected}")
    return got


def _fetch(what: str, rel: str, target: Path, download) -> str:
    """The one code path: the mirror if it holds `rel`, else `download(target)` unless
    offline. Returns where the file came from."""
    target.parent.mkdir(parents=True, exist_ok=True)
    hit = _from_mirror(rel)
    if hit is not None:
        shutil.copyfile(hit, target)
        return f"mirror:{hit}"
    if offline():
        where = ", ".join(str(d / rel) for d in mirror_dirs()) or f"(no {MIRROR_ENV} set)"
        raise SourceError(f"{what}: {OFFLINE_ENV} is set and no mirror holds it; looked at {where}")
    return download(target)


def fetch_pypi(src: PypiSource, dest: Path) -> dict[str, str]:
    """Put the pinned distribution file at dest/<filename>; never install it."""
    what = f"pypi:{src.package}=={src.version}"

    def download(target: Path) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                   "-q", "-d", tmp, f"{src.package}=={src.version}"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / src.filename
            if r.returncode != 0 or not got.exists():
                raise SourceError(f"{what}: pip download failed or gave no {src.filename}:\n{r.stderr[-2000:]}")
            shutil.move(got, target)
        return "pip download"

    target = dest / src.filename
    via = _fetch(what, f"pypi/{src.package}/{src.version}/{src.filename}", target, download)
    return {"source": what, "file": src.filename, "via": via, "sha256": _verify(target, src.sha256, what)}


def fetch_github(src: GithubSource, path: str, dest: Path) -> dict[str, str]:
    """Put `path` of the repository at the pinned commit into dest/<path>."""
    what = f"github:{src.repo}@{src.commit}:{path}"
    url = f"https://raw.githubusercontent.com/{src.repo}/{src.commit}/{urllib.request.quote(path)}"

    def download(target: Path) -> str:
        try:
            with urllib.request.urlopen(url, timeout=120) as r, open(target, "wb") as f:
                shutil.copyfileobj(r, f)
        except OSError as e:
            raise SourceError(f"{what}: download from {url} failed: {e}") from None
        return url

    target = dest / path
    via = _fetch(what, f"github/{src.repo}/{src.commit}/{path}", target, download)
    return {"source": what, "via": via, "sha256": sha256(target)}


def load_hub_text(ds: HubDataset) -> str:
    """A hub dataset split at a pinned revision, as one text (non-empty rows joined)."""
    import datasets

    kw = {"data_files": ds.data_files} if ds.data_files else {}
    rows = datasets.load_dataset(ds.id, ds.config, revision=ds.revision, split=ds.split, **kw)
    if ds.max_rows is not None:
        rows = rows.select(range(min(ds.max_rows, len(rows))))
    return "\n\n".join(t for t in rows[ds.text_field] if t.strip())
