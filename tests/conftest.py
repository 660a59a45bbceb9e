"""Test set-up: hermetic, offline, and the project's thread settings.

`import llmrepro` comes first so OMP_WAIT_POLICY=PASSIVE is set before torch loads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import llmrepro  # noqa: F401  (sets the thread environment)
import pytest
from llmrepro.pipeline import tools

ROOT = Path(__file__).resolve().parents[1]
SHARED_MIRROR = Path(os.environ.get("LLMREPRO_SHARED_MIRROR", ROOT / tools.SHARED_MIRROR))
sys.path.insert(0, str(Path(__file__).parent))

import fixture_mirror  # noqa: E402


@pytest.fixture(scope="session")
def mirror(tmp_path_factory) -> str:
    """Fixture distributions first, then the shared mirror of released data (or stand-ins for it)."""
    fixtures = fixture_mirror.build(tmp_path_factory.mktemp("mirror"))
    if not SHARED_MIRROR.is_dir():
        fixture_mirror.released_freq(fixtures, ROOT)
        return str(fixtures)
    return os.pathsep.join([str(fixtures), str(SHARED_MIRROR)])


@pytest.fixture(autouse=True)
def _offline(monkeypatch, mirror, tmp_path_factory):
    monkeypatch.setenv("LLMREPRO_MIRROR", mirror)
    monkeypatch.setenv("LLMREPRO_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "dvc-site"))


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return tools.tool_env() | (extra or {})


def run(cmd: list[str], cwd: Path, check: bool = True, **env) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=tool_env(env), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


def copy_project(dest: Path, scale: str = "smoke") -> Path:
    """A fresh workspace: the project's tracked and untracked-but-not-ignored files,
    a new git repo, and params at `scale`. Nothing computed is copied."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    shutil.rmtree(dest / "reports", ignore_errors=True)
    # the source files under reports/: no seed-shift results yet (no claim is fragile), and the pages
    # that `llmrepro verify --seeds` and `llmrepro bench` write, which the site renders
    (dest / "reports").mkdir()
    (dest / "reports" / "robustness.json").write_text('{"papers": {}, "shift": null}\n')
    for page in ("robustness.md", "bench.md"):
        shutil.copy2(ROOT / "reports" / page, dest / "reports" / page)
    (dest / "dvc.lock").unlink(missing_ok=True)
    run(["git", "init", "-q"], dest)
    run([sys.executable, "-m", "llmrepro.cli", "scale", scale], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "fixture"], dest)
    # A cache and site cache of its own, so tests never touch the developer's.
    run(["dvc", "config", "--local", "cache.dir", str(dest / ".dvc" / "cache")], dest)
    return dest


def running_stages(output: str) -> list[str]:
    return [ln.split("'")[1] for ln in output.splitlines() if ln.startswith("Running stage '")]


def offline_env(mirror: str) -> dict[str, str]:
    return {"LLMREPRO_MIRROR": mirror, "LLMREPRO_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def results_snapshot(ws: Path) -> dict[str, object]:
    """What a rerun must reproduce: every paper's metrics.json and claims.json without their
    declared timing fields, and the md5 of every model weight file."""
    from llmrepro import io
    from llmrepro.report.verify import claim_set, deterministic_view

    out: dict[str, object] = {}
    for claims in sorted((ws / "reports").glob("*/claims.json")):
        paper = claims.parent.name
        metrics, doc = deterministic_view(claim_set(paper), io.read_json(claims.parent / "metrics.json"),
                                          io.read_json(claims))
        out[f"reports/{paper}/metrics.json"] = metrics
        out[f"reports/{paper}/claims.json"] = doc
    for w in sorted((ws / "models").rglob("*.safetensors")):
        out[str(w.relative_to(ws))] = io.file_hash(w)
    return out


@pytest.fixture(scope="session")
def smoke_builds(tmp_path_factory, mirror):
    """Two smoke workspaces built from scratch at the same time: one by `dvc repro` (the session's
    build, see smoke_build) and one by `snakemake -c2` under another PYTHONHASHSEED, in the
    background (see snakemake_build). A smoke stage is mostly interpreter start-up and imports,
    so the two share two cores well, and `--max-threads 1` lets Snakemake run two stages at once
    (each still sets its own declared torch threads); declared timing fields are outside every
    comparison."""
    import time

    other = copy_project(tmp_path_factory.mktemp("ws-snakemake"))
    log = other / "logs" / "snakemake-build.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "w") as fh:
        proc = subprocess.Popen(["snakemake", "-c2", "--max-threads", "1"], cwd=other, stdout=fh,
                                stderr=subprocess.STDOUT, env=tool_env({"PYTHONHASHSEED": "12345", **offline_env(mirror)}))
    try:
        ws = copy_project(tmp_path_factory.mktemp("ws"))
        t0 = time.perf_counter()
        r = run(["dvc", "repro"], ws, **offline_env(mirror))
        yield (ws, r.stdout + r.stderr, time.perf_counter() - t0, results_snapshot(ws)), (proc, other, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def smoke_build(smoke_builds):
    """A smoke workspace after one full `dvc repro`, and a snapshot of its results taken
    before any test touches it. Tests that change the workspace must restore what they change."""
    return smoke_builds[0]


@pytest.fixture(scope="session")
def snakemake_build(smoke_builds) -> tuple[Path, dict[str, object]]:
    """The second smoke workspace, built by `snakemake -c2` alongside the session's `dvc repro`,
    and a snapshot of its results taken before any test touches it."""
    proc, ws, log = smoke_builds[1]
    rc = proc.wait(timeout=1800)
    assert rc == 0, f"snakemake -c2 failed ({rc}):\n{log.read_text()[-4000:]}"
    return ws, results_snapshot(ws)
