"""Each backend process on one CPU of its own (`BACKEND_CPU_PINNING`; unset, in production).

A backend process runs Python on several threads (the event loop, the API's and Reflex's
worker threads, the market writers) but executes it one thread at a time (the GIL), and every
SQLite call hands the GIL over. When those threads sit on different CPUs, each hand-over is a
cross-CPU wake-up, which a virtual machine makes costly: benchmarks/api_bench.py measured 1.9-2.1
ms of server CPU per signed order unpinned against 1.1-1.6 ms pinned, at 4 and 8 connections.
One process cannot use more than one CPU for Python anyway; several workers (Granian's, with
Redis) each take the next slot, spread round robin over the CPUs this process may use.

Slots are claimed with `flock` on files in a per-user directory of the machine's temporary
directory, so the backends of one machine (several exchanges, test servers) share out the CPUs;
the lock goes with the process. Pinning is an optimisation: when anything fails it is skipped
with a warning and the process runs as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
from pathlib import Path
from typing import IO

from bitchange.config import get_settings

log = logging.getLogger(__name__)
MAX_SLOTS = 256
_claimed: list[IO[str]] = []  # the slot's lock file, held open for the life of the process


def slot_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"bitchange-cpu-slots-{os.getuid()}"


def _claim_slot(directory: Path) -> int | None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        handle = (directory / f"slot-{slot}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _claimed.append(handle)
        return slot
    return None


def _pin_threads(cpu: int) -> None:
    """Every thread of this process on `cpu`. A thread inherits its creator's CPUs, so once
    all are pinned, later ones are too; a second pass catches a thread started meanwhile."""
    for _ in range(3):
        moved = False
        for tid in map(int, os.listdir("/proc/self/task")):
            with contextlib.suppress(ProcessLookupError):  # the thread ended meanwhile
                if os.sched_getaffinity(tid) != {cpu}:
                    os.sched_setaffinity(tid, {cpu})
                    moved = True
        if not moved:
            return


def pin_process(directory: Path | None = None) -> int | None:
    """Pin this process to the CPU of the next free slot; that CPU, or None if not pinned
    (one CPU only, no slot free, or the system refused)."""
    if _claimed:
        return None  # pinned already
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return None
        slot = _claim_slot(directory or slot_directory())
        if slot is None:
            return None
        cpu = cpus[slot % len(cpus)]
        _pin_threads(cpu)
    except OSError as exc:
        log.warning("backend CPU pinning skipped: %s", exc)
        return None
    log.info("backend process %d pinned to CPU %d", os.getpid(), cpu)
    return cpu


def pin_backend_process() -> None:
    """The backend's lifespan task (in every worker process): `pin_process` where the
    settings say so (`Settings.pins_backend`)."""
    if get_settings().pins_backend:
        pin_process()
