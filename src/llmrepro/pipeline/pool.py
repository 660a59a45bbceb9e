"""A stage's independent jobs (seeds, reward models) spread over the stage's cores.

Tiny models keep one core busy however many threads torch is given (small matmuls), so a stage
that loops over seeds wastes the second core. `run` gives each core a process with one torch
thread. Every job runs on one thread whatever the worker count, so the results are the same
with one worker (in this process) or many: only the wall time changes. On a GPU the jobs run in
this process, one after another, on the GPU.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

_STATE: dict[str, Any] = {}  # a worker's shared setup, built once by `init`
WORKERS_ENV = "LLMREPRO_WORKERS"  # overrides the worker count; the results stay the same


def cores() -> int:
    """Workers for this stage: its thread count (see runner.set_threads), or LLMREPRO_WORKERS."""
    return max(1, int(os.environ.get(WORKERS_ENV) or os.environ.get("OMP_NUM_THREADS", "1")))


def _start(init: Callable | None, initargs: tuple, one_thread: bool = True) -> None:
    if one_thread:
        from llmrepro.pipeline.runner import pin_threads

        pin_threads(1)  # also OMP_NUM_THREADS=1: a job that calls `run` itself stays in its process
    _STATE.clear()
    if init is not None:
        _STATE["setup"] = init(*initargs)


def _call(fn: Callable, job: tuple) -> Any:
    return fn(_STATE["setup"], *job) if "setup" in _STATE else fn(*job)


def run(fn: Callable, jobs: Sequence[tuple], init: Callable | None = None, initargs: tuple = (),
        workers: int | None = None, progress: Callable | None = None, desc: str = "") -> list:
    """[fn(*job) for job in jobs], in order; with `init`, fn(init(*initargs), *job), the setup built
    once per worker. fn and init must be module-level functions. Workers are forked, as torch's
    DataLoader workers are, so they start with this process's imports; each pins itself to one
    thread before anything else (OpenMP's thread pool does not survive a fork, and a one-thread
    region never uses it). Jobs must seed what they draw: a worker's generators are copies."""
    import torch

    from llmrepro.models.device import device

    jobs = [tuple(j) for j in jobs]
    on_cpu = device().type == "cpu"
    n = min(workers or cores(), len(jobs)) if on_cpu else 1
    if n > 1:
        with ProcessPoolExecutor(n, mp_context=mp.get_context("fork"), initializer=_start,
                                 initargs=(init, initargs)) as ex:
            futures = [ex.submit(_call, fn, j) for j in jobs]
            for _ in progress(as_completed(futures), total=len(futures), desc=desc) if progress else ():
                pass
            return [f.result() for f in futures]
    threads, env = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    try:
        _start(init, initargs, one_thread=on_cpu)
        return [_call(fn, j) for j in (progress(jobs, total=len(jobs), desc=desc) if progress else jobs)]
    finally:
        _STATE.clear()
        torch.set_num_threads(threads)
        os.environ.pop("OMP_NUM_THREADS", None) if env is None else os.environ.update(OMP_NUM_THREADS=env)
