"""Hardware metrics measured on this machine: latency on two "devices" (operating points of one
CPU: thread count and batch), memory (analytic, checked against peak RSS), and the machine's load
(its fingerprint lives in `machine.py`, which stays free of torch).

Latency protocol: every sub-network is materialised at its real size; warm-ups first; then
`repeats` rounds, each timing every architecture once on every device in a fresh random order
(round-robin), so drift and other processes' bursts become per-repeat noise rather than a bias
against whichever architecture ran during them. Each repeat stores its wall time, the process CPU
time it used, and the number of runnable processes at that moment; each round stores the load
average. On one thread, CPU time / wall time is the share of the core the pass actually got: below
1 the pass waited for other processes, and its latency says more about the machine than about the
architecture.

Energy is not measured: this machine has no RAPL interface (/sys/class/powercap), and an
estimate from latency times a nominal power would not be an independent metric.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from llmrepro.hwgpt.space import Arch, Space

POWERCAP = Path("/sys/class/powercap")


def load_reading() -> dict[str, float]:
    """The 1-minute load average and the number of runnable processes right now (this one included)."""
    out: dict[str, float] = {}
    try:
        out["loadavg1"] = float(Path("/proc/loadavg").read_text().split()[0])
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("procs_running"):
                out["procs_running"] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return out


def _procs_running() -> int:
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("procs_running"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def materialize_all(space: Space, archs: list[Arch], seed: int):
    """Compact models of every architecture, sliced from one randomly initialised supernet: latency
    does not depend on the weights' values, so this stage needs no trained supernet."""
    from llmrepro.hwgpt.training import new_supernet

    sup = new_supernet(space, None, seed)
    return [sup.materialize(a) for a in archs]


def measure_latency(models: list, devices, seq_len: int, vocab: int, warmups: int, repeats: int, order_seed: int,
                    kind: str = "cpu", progress=None) -> dict[str, Any]:
    import torch

    rng = np.random.default_rng(order_seed)
    n = len(models)
    dev = torch.device("cuda" if kind == "cuda" else "cpu")
    models = [m.to(dev) for m in models]
    sync = torch.cuda.synchronize if kind == "cuda" else (lambda: None)
    inputs = {d.name: torch.from_numpy(rng.integers(0, vocab, (d.batch, seq_len))).to(dev) for d in devices}
    out = {d.name: {"wall_ms": np.zeros((n, repeats)), "cpu_ms": np.zeros((n, repeats)),
                    "procs_running": np.zeros((n, repeats), dtype=int)} for d in devices}
    rounds, t_start = [], time.perf_counter()
    with torch.inference_mode():
        for d in devices:  # warm-ups: allocator, kernels and thread pool settle before anything is timed
            torch.set_num_threads(d.threads)
            for m in models:
                for _ in range(warmups):
                    m(inputs[d.name])
            sync()
        t_warm = time.perf_counter() - t_start
        it = range(repeats)
        for r in (progress(it, total=repeats, desc="rounds") if progress else it):
            for d in devices:
                torch.set_num_threads(d.threads)
                rounds.append({"round": r, "device": d.name, "t_s": time.perf_counter() - t_start, **load_reading()})
                x, rec = inputs[d.name], out[d.name]
                for i in rng.permutation(n):
                    rec["procs_running"][i, r] = _procs_running()
                    c0, t0 = time.process_time(), time.perf_counter()
                    models[i](x)
                    sync()
                    t1, c1 = time.perf_counter(), time.process_time()
                    rec["wall_ms"][i, r], rec["cpu_ms"][i, r] = 1e3 * (t1 - t0), 1e3 * (c1 - c0)
    total = time.perf_counter() - t_start
    return {"devices": {d.name: {"threads": d.threads, "batch": d.batch, "seq_len": seq_len,
                                 **{k: v.tolist() for k, v in out[d.name].items()}} for d in devices},
            "rounds": rounds, "warmup_s": t_warm, "measure_s": total - t_warm}


# ---- memory

def memory_bytes(space: Space, a: Arch, batch: int, seq: int) -> dict[str, int]:
    """fp32 inference memory: parameters, plus the activations alive at the widest point of the
    forward pass (residual stream, the widest layer's q/k/v or MLP hidden, attention scores, and the
    logits, which dominate at this vocabulary)."""
    B, T, E = batch, seq, a.embed
    widest = max(max(3 * h * space.head_size, r * E) for h, r in zip(a.heads, a.mlp))
    scores = max(B * h * T * T for h in a.heads)
    act = B * T * (2 * E + widest + space.vocab) + scores
    return {"param_bytes": 4 * space.params(a), "activation_bytes": 4 * act,
            "total_bytes": 4 * (space.params(a) + act)}


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"/proc/self/status has no {field}")


def _rss_probe(arch: dict, vocab: int, context: int, head_size: int, batch: int, seq: int) -> dict:
    """Runs in a fresh interpreter: the peak RSS (VmHWM) of building the model and one forward pass,
    above the resident size just before. Writing 5 to /proc/self/clear_refs resets the peak, so the
    import's own transient peak does not hide the model's."""
    import torch

    from llmrepro.hwgpt.supernet import SuperGPT

    torch.set_num_threads(1)
    x = torch.randint(0, vocab, (batch, seq))
    Path("/proc/self/clear_refs").write_text("5")
    base = _vm_kib("VmRSS")
    a = Arch.from_dict(arch)
    m = SuperGPT(a, vocab, context, head_size).init_weights(0).eval()
    with torch.inference_mode():
        m(x)
    return {"baseline_kib": base, "peak_kib": _vm_kib("VmHWM")}


def measure_rss(space: Space, archs: list[Arch], batch: int, seq: int) -> list[dict]:
    """Peak-RSS growth of a fresh process that builds each architecture and runs one forward pass."""
    out = []
    for a in archs:
        args = json.dumps([a.as_dict(), space.vocab, space.context, space.head_size, batch, seq])
        code = ("import json, sys, llmrepro; from llmrepro.hwgpt.hardware import _rss_probe; "
                "print(json.dumps(_rss_probe(*json.loads(sys.argv[1]))))")
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        r = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True, env=env, check=True)
        got = json.loads(r.stdout.strip().splitlines()[-1])
        out.append({"arch": a.key, **got, "measured_bytes": 1024 * (got["peak_kib"] - got["baseline_kib"]),
                    **memory_bytes(space, a, batch, seq)})
    return out


def energy_status() -> dict[str, Any]:
    rapl = sorted(p.name for p in POWERCAP.glob("intel-rapl*")) if POWERCAP.is_dir() else []
    return {"measured": False, "rapl_domains": rapl,
            "why": ("no RAPL interface on this machine (/sys/class/powercap absent)" if not rapl else
                    "RAPL is present but not read: an energy reader is not part of this mini protocol")}
