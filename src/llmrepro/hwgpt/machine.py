"""The machine fingerprint the latencies belong to. `dvc repro` runs it on every call (the stage is
always changed), so it imports nothing heavy: the torch build comes from the package metadata, the
processor from /proc/cpuinfo; only `cuda` asks torch (for the GPU's name)."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

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


def torch_version() -> str:
    """The installed torch build, as `torch.__version__` spells it (local tag included: 2.13.0+cpu)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "absent"


def fingerprint(kind: str = "cpu") -> str:
    """What the latencies depend on: the processor, the cores the OS offers, the torch build (and
    the GPU, for `cuda`)."""
    fp = f"{cpu_model()} | {os.cpu_count()} cpus | torch {torch_version()}"
    if kind == "cuda":
        import torch

        fp += f" | {torch.cuda.get_device_name(0)}"
    return fp
