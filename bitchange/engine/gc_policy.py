"""Garbage-collection policy for a process that runs matching engines.

Why: CPython's cyclic GC runs a young collection every ~700 net container
allocations and, every so often, a full collection that walks EVERY tracked
object, pausing for a time proportional to the heap. A naive book with one object
per resting order (see the reference book in ``benchmarks/engine_bench.py``)
stalls for over a second with ~400k resting orders and loses half its
throughput to the collector.

The engine itself never needs the cyclic GC:

* it creates no reference cycles (events and results are tuples of ints/strings,
  the book is a tree of dicts/lists/deques); everything is freed by refcounting;
* a resting order is a tuple of ints in a dict; CPython untracks such tuples at
  the first young collection that sees them, so the tracked-object count of a
  book is O(price levels), not O(orders) (tested in ``tests/engine``).

Policy (what ``apply`` does; call it once, after the books are loaded):

1. ``gc.collect()`` then ``gc.freeze()``: everything alive at start-up (modules,
   the web framework, ORM metadata, loaded books) moves to the permanent
   generation, which no later collection walks. Without this, each full
   collection of a large service heap is one long stall (see docs/performance.md).
2. Thresholds: CPython's defaults (700, 10, 10) unless told otherwise. Measured
   with ``benchmarks/engine_bench.py``: raising gen0 to 10k-100k did NOT speed
   the engine up (its garbage is freed by refcount before a collection sees it,
   so young collections are short either way) and made each collection longer.

Then, from the caller's loop (the engine never touches the GC itself), call
``checkpoint()`` every ~100k commands or few seconds, ideally when idle: a young
collection (bounded by what was allocated since the last call) that freezes the
survivors, so full collections never have to walk long-lived data.

Trade-off, stated plainly: a cycle that becomes garbage AFTER it was frozen is not
reclaimed until ``gc.unfreeze()`` + ``gc.collect()`` (``full_collect()``), which
the service may run at a quiet time. The engine creates no such cycles.

``paused()`` disables automatic collection around a hot loop (benchmarks, replay
of a command log) for callers that prefer explicit ``checkpoint()`` calls.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GEN0, GEN1, GEN2 = 700, 10, 10  # CPython's defaults; see module doc


def apply(gen0: int = GEN0, gen1: int = GEN1, gen2: int = GEN2) -> None:
    """Collect, freeze the current heap and set the thresholds (see module doc)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0, gen1, gen2)


def checkpoint() -> None:
    """Young collection, then freeze what survived. Cheap; call periodically."""
    gc.collect(1)
    gc.freeze()


def full_collect() -> int:
    """Unfreeze and run a full collection (a pause proportional to the heap).

    Returns the number of unreachable objects found. Re-freezes afterwards."""
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    return found


def restore_defaults() -> None:
    """Undo ``apply``: default thresholds, nothing frozen (used by tests/benchmarks)."""
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """Disable automatic collection inside the block (restores the previous state)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
