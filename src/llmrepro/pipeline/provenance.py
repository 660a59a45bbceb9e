"""The provenance record each stage writes beside its outputs.

Enough for a reviewer to trace a figure back to code, params, data and
machine: stage and command, declared params with values, input and output
hashes (md5, as in dvc.lock), git commit and dirty flag, package versions and
the lock file's hash, hardware, seeds, wall time and peak memory.
"""

from __future__ import annotations

import hashlib
import os
import platform
import resource
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "transformers", "datasets", "tokenizers", "safetensors", "gguf", "accelerate",
            "numpy", "scipy", "pandas", "matplotlib", "pydantic", "dvc", "snakemake", "simplemma")
LOCK_FILE = "requirements.lock"


def git_state(root: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD") or None
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"commit": commit, "dirty": dirty}


def packages() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def lock_hash(root: Path) -> str | None:
    p = root / LOCK_FILE
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None


ISA = ("avx2", "avx512f", "avx512_bf16", "amx_tile")  # the flags that pick torch's CPU kernels


def cpu_model() -> str:
    """Model name, family/model/stepping (VMs often show a bare "AMD EPYC") and the vector ISA."""
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    except OSError:
        return platform.processor() or platform.machine()
    flags = set(info.get("flags", "").split())
    isa = "+".join(f for f in ISA if f in flags) or "no-avx2"
    return (f"{info.get('model name', platform.machine())} (family {info.get('cpu family', '?')} model "
            f"{info.get('model', '?')} stepping {info.get('stepping', '?')}, {isa})")


def hardware() -> dict[str, Any]:
    cpu = cpu_model()
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (OSError, ValueError):
        mem_gb = None
    out: dict[str, Any] = {"cpu": cpu, "cores": os.cpu_count(), "mem_gb": mem_gb, "platform": sys.platform}
    torch = sys.modules.get("torch")  # only if the stage imported it; never import torch here
    if torch is not None:
        out["torch_threads"] = torch.get_num_threads()
        dev = sys.modules.get("llmrepro.models.device")
        out["device"] = str(dev.device()) if dev is not None else "cpu"
        if torch.cuda.is_available():
            out["gpu"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            out["cuda"] = torch.version.cuda
    return out


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux; children covers subprocesses the stage ran.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def scheduler() -> dict[str, str] | None:
    """The batch job a stage ran in, when a scheduler (SLURM) started it."""
    env = os.environ
    if not env.get("SLURM_JOB_ID"):
        return None
    return {"scheduler": "slurm", "job_id": env["SLURM_JOB_ID"], "partition": env.get("SLURM_JOB_PARTITION"),
            "node": env.get("SLURMD_NODENAME") or platform.node()}


def cpu_seconds() -> float:
    """User + system CPU time of the stage and the subprocesses it waited for."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 2)


def engine() -> str:
    # DVC sets DVC_STAGE; the Snakefile's shell prefix sets LLMREPRO_ENGINE.
    if os.environ.get("DVC_STAGE"):
        return "dvc"
    return os.environ.get("LLMREPRO_ENGINE", "direct")
