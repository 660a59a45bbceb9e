"""pipeline.pool: a stage's independent jobs give the same results in its own process or in two
spawned workers, in the order of the jobs, each on one torch thread."""

from __future__ import annotations

import pytest
import torch
from llmrepro.pipeline import pool


def _train(seed: int) -> tuple[bytes, int]:
    """A few SGD steps on matmuls large enough for torch to split them across threads."""
    torch.manual_seed(seed)
    w = torch.randn(384, 384, requires_grad=True)
    x = torch.randn(128, 384)
    opt = torch.optim.SGD([w], lr=0.1)
    for _ in range(5):
        loss = (x @ w).tanh().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy().tobytes(), torch.get_num_threads()


def _scaled(setup: int, k: int) -> int:
    return setup * k


def _fail_on_two(seed: int) -> int:
    if seed == 2:
        raise ValueError(f"seed {seed} diverged")
    return seed


def test_two_workers_give_the_in_process_results_in_job_order():
    jobs = [(s,) for s in (3, 1, 2)]
    here = pool.run(_train, jobs, workers=1)
    spawned = pool.run(_train, jobs, workers=2)
    assert [t for _, t in here] == [1, 1, 1] and [t for _, t in spawned] == [1, 1, 1]
    assert len({w for w, _ in here}) == 3  # three seeds, three results
    assert here == spawned
    assert here[1] == pool.run(_train, [(1,)], workers=1)[0]  # a job's result does not depend on its neighbours


def test_the_setup_is_built_once_per_worker_and_passed_first():
    assert pool.run(_scaled, [(1,), (2,), (5,)], init=int, initargs=("7",), workers=2) == [7, 14, 35]
    assert pool.run(_scaled, [(3,)], init=int, initargs=("7",), workers=1) == [21]


def test_a_failing_job_raises_its_own_error_from_a_worker():
    with pytest.raises(ValueError, match="seed 2 diverged"):
        pool.run(_fail_on_two, [(1,), (2,), (3,)], workers=2)


def test_an_in_process_run_restores_the_thread_count(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch.set_num_threads(2)
    pool.run(_train, [(0,)])
    assert torch.get_num_threads() == 2 and pool.cores() == 2
    monkeypatch.setenv(pool.WORKERS_ENV, "1")
    assert pool.cores() == 1
