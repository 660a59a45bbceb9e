"""The device every stage computes on, chosen in one place: CUDA when present, otherwise the
CPU, with bf16 autocast where the device supports it. `LLMREPRO_DEVICE=cpu` (or `cuda`) forces
a choice. Provenance records the device a stage used."""

from __future__ import annotations

import functools
import os

DEVICE_ENV = "LLMREPRO_DEVICE"


@functools.cache
def device():
    import torch

    want = os.environ.get(DEVICE_ENV)
    if want:
        return torch.device(want)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def bf16_supported() -> bool:
    import torch

    dev = device()
    return dev.type == "cpu" or (dev.type == "cuda" and torch.cuda.is_bf16_supported())


def autocast(enabled: bool):
    """bf16 autocast on this device when asked for and supported; a no-op context otherwise."""
    import torch

    return torch.autocast(device().type, dtype=torch.bfloat16, enabled=enabled and bf16_supported())


def to_device(batch):
    """A tensor or a dict of tensors, moved to the device (a no-op on the CPU)."""
    dev = device()
    if isinstance(batch, dict):
        return {k: v.to(dev) if hasattr(v, "to") else v for k, v in batch.items()}
    return batch.to(dev) if hasattr(batch, "to") else batch
