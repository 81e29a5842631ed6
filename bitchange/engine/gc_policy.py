"""Garbage-collection policy for a process that runs matching engines.

Why: CPython's cyclic GC runs a young collection every ~700 net container
allocations and, every so often, a full collection that walks EVERY tracked
object. An engine allocates several short-lived containers per command (event
tuples, result, lists), so with the default thresholds it triggers thousands of
collections per second, and each full collection pauses for a time proportional
to the heap (hundreds of ms with a large book and an application around it).

The engine itself never needs the cyclic GC:

* it creates no reference cycles (events and results are tuples of ints/strings,
  the book is a tree of dicts/lists/deques); everything is freed by refcounting;
* resting orders are stored in ``dict[int, int]`` maps, which CPython does not
  track at all, so the tracked-object count of a book is O(price levels), not
  O(orders).

Policy (what ``apply`` does; call it once, after the books are loaded):

1. ``gc.collect()`` then ``gc.freeze()``: everything alive at start-up (modules,
   the application, loaded books) moves to the permanent generation, which no
   later collection walks.
2. ``gc.set_threshold(GEN0, GEN1, GEN2)`` with a large young threshold: young
   collections become ~100x rarer and stay short because young objects are few
   (engine garbage dies by refcount before any collection sees it).

Then, from the caller's loop (the engine never touches the GC itself), call
``checkpoint()`` every few seconds or every ~100k commands, ideally when idle: it
runs a young collection (bounded by what was allocated since the last call) and
freezes the survivors, so full collections never have to walk long-lived data.

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

GEN0 = 100_000
GEN1 = 50
GEN2 = 1_000


def apply(gen0: int = GEN0, gen1: int = GEN1, gen2: int = GEN2) -> None:
    """Collect, freeze the current heap and raise the thresholds (see module doc)."""
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
