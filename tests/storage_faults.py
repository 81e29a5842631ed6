"""Real storage faults for the tests, and a way back from them without a restart.

* `small_disk`: a small tmpfs mounted for the test (the tests run as root here; `sudo -n`
  otherwise) that `fill()` fills to the last byte and `free()` empties again.
* `app_process`: the exchange's HTTP routes in a process of their own that cannot write a file
  its permissions forbid: root ignores permissions, so as root that process runs without any
  capability (`setpriv`); the test then makes the database read-only with `chmod` and back.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bitchange.config import PROJECT_ROOT


def _as_root(command: list[str]) -> None:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run(prefix + command, check=True, capture_output=True)


class SmallDisk:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._filler = root / "filler"

    def fill(self, database: Path) -> None:
        """No free byte left, and no room left in the database's log either: the log is
        truncated first, so that the next commit has to grow it."""
        with sqlite3.connect(database) as conn:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert not busy
        with self._filler.open("wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
            try:  # the last partial block
                while True:
                    handle.write(b"\0")
            except OSError:
                pass

    def free(self) -> None:
        self._filler.unlink()


@contextmanager
def small_disk(where: Path, size_mb: int = 24) -> Iterator[SmallDisk]:
    where.mkdir()
    _as_root(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)])
    try:
        yield SmallDisk(where)
    finally:
        _as_root(["umount", "-l", str(where)])


class AppProcess:
    """Sends one command per line to `tests/ops/app_proc.py` and reads its JSON answer."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def ask(self, *command: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(" ".join(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the app process ended"
        return json.loads(line)


def unprivileged(*command: str) -> list[str]:
    """`command` run so that file permissions apply to it (as root: with no capability)."""
    prefix = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] if os.geteuid() == 0 else []
    return [*prefix, *command]


@contextmanager
def app_process(env: dict[str, str]) -> Iterator[AppProcess]:
    proc = subprocess.Popen(unprivileged(sys.executable, "-m", "tests.ops.app_proc"),
                            cwd=PROJECT_ROOT, env={**os.environ, **env}, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        yield AppProcess(proc)
    finally:
        proc.kill()
        proc.wait()
