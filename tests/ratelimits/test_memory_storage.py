"""The in-process rate-limit storage counts exactly like `limits`' own and starts no thread
per count (the package's starts a Timer at the first count after each 10 ms sweep)."""

from __future__ import annotations

import threading

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from bitchange.ratelimits import SweptMemoryStorage


def _threads_started_per_count(storage: MemoryStorage, monkeypatch: pytest.MonkeyPatch) -> int:
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start",
                        lambda thread: (started.append(thread), real_start(thread))[1])
    for i in range(50):
        storage.timer = threading.Timer(60, lambda: None)  # as after the package's sweep ran
        storage.incr(f"fixed/{i % 3}", 60)
        storage.acquire_entry(f"moving/{i % 3}", 1000, 60)
    for thread in started:
        if isinstance(thread, threading.Timer):
            thread.cancel()
    return len(started)


def test_counting_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _threads_started_per_count(MemoryStorage(), monkeypatch) > 0  # the package's
    assert _threads_started_per_count(SweptMemoryStorage(), monkeypatch) == 0


@pytest.mark.parametrize("strategy", [FixedWindowRateLimiter, MovingWindowRateLimiter])
def test_it_counts_and_refuses_as_the_packages_storage_does(strategy) -> None:
    item = RateLimitItemPerMinute(5)
    ours, theirs = strategy(SweptMemoryStorage()), strategy(MemoryStorage())
    decisions = [(ours.hit(item, "ip", str(i % 2)), theirs.hit(item, "ip", str(i % 2)))
                 for i in range(14)]
    assert [a for a, _ in decisions] == [b for _, b in decisions]
    assert sum(a for a, _ in decisions) == 10  # five per key, then refused
    assert ours.get_window_stats(item, "ip", "0").remaining == 0
