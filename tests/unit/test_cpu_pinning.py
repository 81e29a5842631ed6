"""Backend processes pinned to a CPU each (bitchange/ops/cpu_pinning.py), in real child
processes: pinning the test process itself would confine every server the suite starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bitchange.config import PROJECT_ROOT

# A child that starts a thread, pins itself, starts another thread, reports, and holds its
# slot until its stdin closes.
CHILD = """
import json, os, sys, threading
from pathlib import Path
from bitchange.ops import cpu_pinning
if sys.argv[2] == "one-cpu":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
stop = threading.Event()
before = threading.Thread(target=stop.wait, daemon=True)  # a failure still ends the child
before.start()
if sys.argv[2] == "setting":
    cpu_pinning.pin_backend_process()
    cpu = None
else:
    cpu = cpu_pinning.pin_process(Path(sys.argv[1]))
after = threading.Thread(target=stop.wait, daemon=True)
after.start()
threads = {tid: sorted(os.sched_getaffinity(int(tid))) for tid in os.listdir("/proc/self/task")}
print(json.dumps({"cpu": cpu, "threads": threads}), flush=True)
sys.stdin.read()
stop.set()
"""


def _child(slots: Path, mode: str = "pin", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(slots), mode],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=PROJECT_ROOT, env=env if env is not None else dict(os.environ))
    line = process.stdout.readline()  # type: ignore[union-attr]
    assert line, f"the child failed (exit {process.wait()})"
    report = json.loads(line)
    return process, report


def _end(process) -> None:  # type: ignore[no-untyped-def]
    process.stdin.close()
    assert process.wait(timeout=30) == 0


def test_each_process_takes_the_next_cpu_with_all_its_threads(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    first, first_report = _child(tmp_path)
    second, second_report = _child(tmp_path)
    try:
        assert first_report["cpu"] == cpus[0]
        assert second_report["cpu"] == cpus[1 % len(cpus)]
        for report in (first_report, second_report):
            # the thread started before pinning and the one started after, with the main one
            assert len(report["threads"]) == 3
            assert all(on == [report["cpu"]] for on in report["threads"].values())
    finally:
        _end(first)
        _end(second)


def test_a_slot_is_free_again_when_its_process_ends(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    first, _ = _child(tmp_path)
    _end(first)
    again, report = _child(tmp_path)
    _end(again)
    assert report["cpu"] == cpus[0]


def test_a_process_allowed_one_cpu_is_left_alone(tmp_path: Path) -> None:
    process, report = _child(tmp_path, "one-cpu")
    _end(process)
    assert report["cpu"] is None
    assert not list(tmp_path.iterdir())  # no slot claimed


@pytest.mark.parametrize(("settings", "pinned"), [
    ({"BACKEND_CPU_PINNING": "true"}, True),
    ({"BACKEND_CPU_PINNING": "false", "BITCHANGE_ENV": "production"}, False),
    ({"BITCHANGE_ENV": "production"}, True),  # unset: production pins
    ({"BITCHANGE_ENV": "development"}, False),  # ... a developer's machine does not
])
def test_the_backend_pins_itself_where_the_settings_say(tmp_path: Path, settings: dict[str, str],
                                                        pinned: bool) -> None:
    everywhere = sorted(os.sched_getaffinity(0))
    environment = {k: v for k, v in os.environ.items() if k != "BACKEND_CPU_PINNING"}
    process, report = _child(tmp_path, "setting", environment | settings)
    _end(process)
    placements = {tuple(on) for on in report["threads"].values()}
    if pinned:  # one CPU for every thread (a slot of the machine-wide directory)
        assert len(placements) == 1 and len(placements.pop()) == 1
    else:
        assert placements == {tuple(everywhere)}
