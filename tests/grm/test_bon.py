"""Best-of-n from a pool: the closed form against brute force over every n-subset."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from llmrepro.grm.bon import bon_expectation, kl_bon, powers_of_two


def brute(proxy, value, n):
    """Average over all n-subsets of the value of the proxy-best item; ties split evenly."""
    tot = 0.0
    subsets = list(itertools.combinations(range(len(proxy)), n))
    for s in subsets:
        best = max(proxy[i] for i in s)
        top = [value[i] for i in s if proxy[i] == best]
        tot += sum(top) / len(top)
    return tot / len(subsets)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_matches_enumeration(seed):
    rng = np.random.default_rng(seed)
    proxy = rng.integers(0, 4, 7).astype(float)  # many ties
    value = rng.random(7)
    for n in range(1, 8):
        assert bon_expectation(proxy, value, n) == pytest.approx(brute(proxy, value, n))


def test_ends_of_the_curve():
    proxy, value = np.array([0.3, 0.9, 0.1, 0.5]), np.array([1.0, 0.0, 2.0, 3.0])
    assert bon_expectation(proxy, value, 1) == pytest.approx(value.mean())
    assert bon_expectation(proxy, value, 4) == pytest.approx(0.0)  # the proxy-best item
    with pytest.raises(ValueError):
        bon_expectation(proxy, value, 5)


def test_flat_proxy_gives_the_pool_mean_at_every_n():
    value = np.array([1.0, 2.0, 6.0])
    for n in (1, 2, 3):
        assert bon_expectation(np.zeros(3), value, n) == pytest.approx(3.0)


def test_large_pool_does_not_overflow():
    rng = np.random.default_rng(0)
    p = rng.random(4096)
    assert np.isfinite(bon_expectation(p, p, 2048))
    assert bon_expectation(p, p, 4096) == pytest.approx(p.max())


def test_kl_and_grid():
    assert kl_bon(1) == 0.0
    assert kl_bon(256) == pytest.approx(math.log(256) - 255 / 256)
    assert powers_of_two(256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert powers_of_two(300) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
