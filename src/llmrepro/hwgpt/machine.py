"""The machine fingerprint the latencies belong to. `dvc repro` runs it on every call (the stage is
always changed), so it imports nothing heavy: the torch build comes from the package metadata, the
processor from /proc/cpuinfo; only `cuda` asks torch (for the GPU's name)."""

from __future__ import annotations

import os
from importlib import metadata

from llmrepro.pipeline.provenance import cpu_model


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
