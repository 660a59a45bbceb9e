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
from llmrepro.pipeline.pool import WORKERS_ENV

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


# Waits on builds and clusters are this many times longer where the tests share the CPU with other work
# (.ci/run runs them beside the mini suite, at the lowest priority).
TIMEOUT_SCALE = float(os.environ.get("LLMREPRO_TEST_TIMEOUT_SCALE", "1"))

# The Snakemake build's papers: the common stages (their rules are tested on it) and papers whose
# independent jobs run through pipeline.pool, so that one worker is compared with two.
SNAKEMAKE_PAPERS = ("common", "cherryq", "in2", "sami")


def _build_group(item) -> float:
    """0: reads no smoke build; 0.5: reads the DVC build only once its own work is done (smoke_build_at_end);
    1: reads the DVC build; 2: also waits for the Snakemake build."""
    names = set(getattr(item, "fixturenames", ()))
    return (2 if "snakemake_build" in names else 1 if "smoke_build" in names
            else 0.5 if "smoke_build_at_end" in names else 0)


def pytest_collection_modifyitems(config, items):
    # The smoke builds start with the session and run in the background while every test that does
    # not read them runs, then those that read the DVC build only at their end (their waits overlap the
    # builds); then the readers of the DVC build, and last those that also wait for the (lower-priority)
    # Snakemake build, each group in its declared order.
    items.sort(key=_build_group)  # stable


def _start(cmd: list[str], ws: Path, name: str, env: dict[str, str], nice: int = 0):
    log = ws / "logs" / f"{name}.log"
    log.parent.mkdir(exist_ok=True)
    fh = open(log, "w")
    proc = subprocess.Popen(cmd, cwd=ws, stdout=fh, stderr=subprocess.STDOUT, env=tool_env(env),
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    fh.close()  # the child holds its own copy
    return proc, ws, log


def _finish(build, what: str, timeout: float = 1800) -> str:
    proc, _, log = build
    rc = proc.wait(timeout=timeout * TIMEOUT_SCALE)
    out = log.read_text()
    assert rc == 0, f"{what} failed ({rc}):\n{out[-4000:]}"
    return out


@pytest.fixture(scope="session", autouse=True)
def smoke_builds(request, tmp_path_factory, mirror):
    """Two smoke workspaces built from scratch in the background from the start of the session, when
    any collected test reads them: one by `dvc repro` (the session's build, see smoke_build) and one
    by `snakemake -c2` under another PYTHONHASHSEED (see snakemake_build). A smoke stage is mostly
    interpreter start-up and imports, so the builds share the cores with the tests that run
    meanwhile; `--max-threads 1` lets Snakemake run two stages at once (each still sets its own
    declared torch threads), and its build, needed only by the last tests, yields the CPU to the
    DVC build. It also runs each stage's independent jobs one by one in the stage's process
    (LLMREPRO_WORKERS=1; see pipeline.pool), where the DVC build spreads them over two workers.
    It builds SNAKEMAKE_PAPERS only (a smoke stage is 3-5 s of start-up on a 2 GHz core, and the
    whole DAG twice kept the test command over its 15 minutes there). Declared timing fields are
    outside every comparison."""
    if not any(_build_group(i) for i in request.session.items):
        yield None
        return
    env = offline_env(mirror)
    builds = (_start(["dvc", "repro"], copy_project(tmp_path_factory.mktemp("ws")), "dvc-build", env),
              _start(["snakemake", "-c2", "--max-threads", "1", *(f"{p}_all" for p in SNAKEMAKE_PAPERS)], copy_project(tmp_path_factory.mktemp("ws-snakemake")),
                     "snakemake-build", {"PYTHONHASHSEED": "12345", WORKERS_ENV: "1", **env}, nice=10))
    try:
        yield builds
    finally:
        for proc, _, _ in builds:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def smoke_build(smoke_builds):
    """A smoke workspace after one full `dvc repro`, its log, and a snapshot of its results taken
    before any test touches it. Tests that change the workspace must restore what they change."""
    log = _finish(smoke_builds[0], "dvc repro")
    ws = smoke_builds[0][1]
    return ws, log, results_snapshot(ws)


@pytest.fixture
def smoke_build_at_end(request):
    """smoke_build, waited for only when called: a test that spends most of its time waiting on
    something else (a batch scheduler) runs while the builds do, and reads the DVC build at its end."""
    return lambda: request.getfixturevalue("smoke_build")


@pytest.fixture(scope="session")
def snakemake_build(smoke_builds) -> tuple[Path, dict[str, object]]:
    """The second smoke workspace, built by `snakemake -c2` alongside the session's `dvc repro`,
    and a snapshot of its results taken before any test touches it."""
    _finish(smoke_builds[1], "snakemake -c2")
    ws = smoke_builds[1][1]
    return ws, results_snapshot(ws)
