"""Run one stage under the stage contract.

1. Validate params.yaml and the stage's inputs before any compute.
2. Hand the stage only its declared params, its deps, and temporary output paths.
3. On success, move every output into place (rename), then write provenance.
   A killed or failed stage leaves no output that looks valid, and does not
   touch what earlier stages computed.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from llmrepro import io
from llmrepro.pipeline import hub
from llmrepro.pipeline import params as P
from llmrepro.pipeline import provenance as prov
from llmrepro.pipeline.stage import Stage, is_dir, is_stamp, strip

# Test hook: exit like a SIGKILL after the compute, before outputs move into place.
KILL_ENV = "LLMREPRO_KILL_AFTER_COMPUTE"


class StageError(RuntimeError):
    pass


class _Paths:
    def __init__(self, paths: Mapping[str, Path], what: str, stage: str):
        self._paths = dict(paths)
        self._what, self._stage = what, stage

    def __getattr__(self, name: str) -> Path:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._paths[name]
        except KeyError:
            raise AttributeError(f"stage {self._stage!r} has no {self._what} named {name!r}; "
                                 f"declared: {', '.join(self._paths) or '(none)'}") from None

    def items(self):
        return self._paths.items()


class StageContext:
    """What a stage function receives."""

    def __init__(self, stage: Stage, root: Path, params: P.DeclaredParams, deps: Mapping[str, Path],
                 outs: Mapping[str, Path]):
        self.stage = stage
        self.root = root
        self.params = params
        self.dep = _Paths(deps, "dep", stage.name)
        self.out = _Paths(outs, "output", stage.name)
        self.log = logging.getLogger(stage.name)
        self.seeds: list[int] = []
        self.extra: dict[str, Any] = {}

    def seed(self, seed: int) -> int:
        """Seed python, numpy and torch; the seed goes into provenance."""
        random.seed(seed)
        try:
            import numpy as np

            np.random.seed(seed % 2**32)
        except ImportError:
            pass
        if "torch" in sys.modules:
            sys.modules["torch"].manual_seed(seed)
        self.seeds.append(seed)
        return seed

    def record_seeds(self, seeds: Iterable[int]) -> None:
        """Seeds the stage's code applies itself, one per run: provenance only, no global seeding."""
        self.seeds += list(seeds)

    def progress(self, it: Iterable | None = None, total: int | None = None, desc: str = ""):
        from tqdm.auto import tqdm

        return tqdm(it, total=total, desc=f"{self.stage.name} {desc}".strip(), file=sys.stderr,
                    mininterval=5.0, disable=False)

    def record(self, **fields: Any) -> None:
        """Extra facts for the provenance record (throughput, sizes, sources)."""
        self.extra.update(fields)


def set_threads(n: int, torch_too: bool = True) -> None:
    """A stage's thread count: its declared `n`, or LLMREPRO_THREADS when set."""
    pin_threads(int(os.environ.get("LLMREPRO_THREADS", n)), torch_too)


def pin_threads(n: int, torch_too: bool = True) -> None:
    """Thread count and determinism switches, in one place (OMP_WAIT_POLICY is set on import of
    llmrepro). Results are reproducible for a given machine and thread count, so the count is in
    provenance. A light stage (`torch_too=False`) skips the 2-3 s torch import; if it imports
    torch later, torch still reads OMP_NUM_THREADS."""
    os.environ["OMP_NUM_THREADS"] = str(n)
    os.environ["MKL_NUM_THREADS"] = str(n)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS is deterministic only with this
    if not torch_too and "torch" not in sys.modules:
        return
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(n)
    # The eager switch only: torch.use_deterministic_algorithms also imports torch._inductor (for a
    # flag of torch.compile, which no stage uses), 3 s of every stage's start on a 2 GHz core.
    set_det = getattr(torch._C, "_set_deterministic_algorithms", None)
    set_det(True, warn_only=True) if set_det else torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def _tmp_path(final: Path, pid: int) -> Path:
    return final.parent / f".tmp-{final.name}-{pid}"


def _clear_stale(final: Path) -> None:
    for p in final.parent.glob(f".tmp-{final.name}-*"):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _put_in_place(tmp: Path, final: Path) -> None:
    if final.is_dir() and not final.is_symlink():
        trash = final.parent / f".tmp-{final.name}-old"
        shutil.rmtree(trash, ignore_errors=True)
        final.rename(trash)
        tmp.rename(final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        if final.is_symlink() or final.exists():
            final.unlink()
        tmp.rename(final)


def _fail(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise SystemExit(2)


class _Tee:
    """A stream that also writes to the stage's log file (logs/<stage>.log, under either engine)."""

    def __init__(self, stream, log):
        self._stream, self._log = stream, log

    def write(self, text: str) -> int:
        self._log.write(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._log.flush()
        self._stream.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _log_to(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    log = open(path, "w", buffering=1)
    sys.stdout, sys.stderr = _Tee(sys.stdout, log), _Tee(sys.stderr, log)


def recorded_outputs(root: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every output hash a stage recorded in its provenance: path -> (stage, hash record)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for p in sorted((root / "reports").glob("*/provenance/*.json")):
        try:
            rec = io.read_json(p)
        except (OSError, ValueError):
            continue
        for path, h in rec.get("outputs", {}).items():
            out[strip(path)] = (rec.get("stage", p.stem), h)
    return out


def _same_result(path: Path, record: dict[str, Any]) -> bool:
    """Does the provenance at `path` record the same params, inputs, code and outputs as `record`?"""
    if not path.exists():
        return False
    old = io.read_json(path)
    return all(old.get(k) == record[k] for k in ("params", "inputs", "code", "outputs", "cmd"))


def changed_inputs(stage: Stage, hashes: Mapping[str, dict[str, Any]],
                   recorded: Mapping[str, tuple[str, dict[str, Any]]]) -> list[str]:
    """Inputs that differ from what their producing stage recorded: edited or corrupted outside
    the pipeline. Both engines trust mtime and size, so only the content hash sees a same-size edit
    with its mtime restored."""
    problems = []
    for key, h in hashes.items():
        path = strip(stage.deps[key])
        hit = recorded.get(path)
        if hit is not None:
            producer, want = hit
            ok = want.get("md5") == h["md5"]
        else:  # a file inside a directory output: its own hash, where the record lists files
            inside = [(d, r) for d, r in recorded.items() if path.startswith(d + "/") and r[1].get("files")]
            if not inside:
                continue
            d, (producer, want) = inside[0]
            rel = path[len(d) + 1:]
            ok = rel not in want["files"] or want["files"][rel] == h["md5"]
        if not ok and h.get("files") and want.get("files"):  # name the files inside a directory
            path = ", ".join(f"{path}/{f}" for f in sorted(set(h["files"]) | set(want["files"]))
                             if h["files"].get(f) != want["files"].get(f))
        if not ok:
            problems.append(f"{path} is not what stage {producer!r} wrote (md5 differs from its provenance): it was "
                            f"changed outside the pipeline. Restore it (`dvc checkout {producer}`) or rerun "
                            f"`dvc repro -f {producer}`")
    return problems


def run_stage(stage: Stage, root: Path) -> None:
    _log_to(root / "logs" / f"{stage.name}.log")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    started = time.perf_counter()
    # 1. everything that can be wrong with the inputs is caught here
    try:
        raw, sections = P.load(root)
    except P.ParamsError as e:
        _fail(str(e))
    values = {}
    for key in stage.params:
        if not P.has_key(raw, key):
            _fail(f"stage {stage.name!r} declares param {key!r}, which params.yaml lacks")
        values[key] = P.lookup(raw, key)
    hub_refs = hub.refs(sections, stage.params)
    denied = hub.access_problems(hub_refs)
    if denied:
        _fail(f"stage {stage.name!r} cannot download its hub inputs: " + "; ".join(denied))
    # The params and code stamps only order DVC's stages; P.load above already validated params.yaml,
    # and Snakemake (which skips the stamps) can start a stage before they are written.
    deps = {k: root / strip(v) for k, v in stage.deps.items()
            if not is_stamp(v) or (root / v).exists()}
    missing = [f"{k} ({stage.deps[k]})" for k, p in deps.items() if not p.exists()]
    if missing:
        _fail(f"stage {stage.name!r} is missing inputs: {', '.join(missing)}; run the stages upstream of it first")
    input_hashes = {k: io.tree_hash(p) for k, p in deps.items()}
    bad = changed_inputs(stage, input_hashes, recorded_outputs(root))
    if bad:
        _fail(f"stage {stage.name!r}: " + "; ".join(bad))
    set_threads(stage.resources.threads, torch_too=not stage.light)

    # 2. outputs go to temporary siblings
    pid = os.getpid()
    finals = {k: root / strip(v) for k, v in stage.all_outs().items()}
    tmps = {}
    for k, final in finals.items():
        final.parent.mkdir(parents=True, exist_ok=True)
        _clear_stale(final)
        tmps[k] = _tmp_path(final, pid)
        if is_dir(stage.all_outs()[k]):
            tmps[k].mkdir()
    ctx = StageContext(stage, root, P.DeclaredParams(sections, stage.params, stage.name), deps,
                       {k: v for k, v in tmps.items() if k != "provenance"})
    ctx.log.info("running (%s)", stage.desc or stage.cmd)
    try:
        stage.fn(ctx, **stage.args)
        absent = [f"{k} ({stage.all_outs()[k]})" for k, p in tmps.items() if k != "provenance" and not p.exists()]
        if absent:
            raise StageError(f"stage {stage.name!r} did not write its outputs: {', '.join(absent)}")
    except BaseException:
        for p in tmps.values():
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        raise
    wall = time.perf_counter() - started
    if os.environ.get(KILL_ENV) == stage.name:
        os._exit(137)

    # 3. provenance, then everything moves into place
    record = {
        "stage": stage.name, "paper": stage.paper, "cmd": stage.cmd, "engine": prov.engine(),
        "params": values,
        "inputs": {stage.deps[k]: h for k, h in input_hashes.items()},
        "code": {c: io.file_hash(root / c) for c in stage.code},
        "outputs": {stage.all_outs()[k]: io.tree_hash(tmps[k]) for k in tmps if k != "provenance"},
        "git": prov.git_state(root), "packages": prov.packages(), "lock_sha256": prov.lock_hash(root),
        "hardware": prov.hardware(), "seeds": ctx.seeds, "wall_s": round(wall, 2), "cpu_s": prov.cpu_seconds(),
        "peak_rss_mb": prov.peak_rss_mb(), "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **({"batch_job": job} if (job := prov.scheduler()) else {}),
        **({"hub": hub.resolved(hub_refs)} if hub_refs else {}),
        **({"extra": ctx.extra} if ctx.extra else {}),
    }
    io.write_json(tmps["provenance"], record)
    if stage.always_changed and _same_result(finals["provenance"], record):
        # A check DVC reruns every time (the machine fingerprint): the same result keeps its old record,
        # so the git-tracked provenance, dvc.lock and everything reading them stay unchanged.
        tmps["provenance"].unlink()
        tmps["provenance"] = finals["provenance"]
    for k in tmps:
        if tmps[k] != finals[k]:
            _put_in_place(tmps[k], finals[k])
    ctx.log.info("done in %.1f s", wall)
