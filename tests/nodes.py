"""App nodes as phase 2 runs them: `python -m bitchange serve --backend-only` processes, each on
its own port and in its own process group (its Reflex workers with it), sharing one PostgreSQL
database and one Redis. Used by the leadership test, the failover e2e and the load benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bitchange.config import PROJECT_ROOT

START_TIMEOUT = 240  # seconds: a node imports the app and loads the books


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def owns(self, pid: int) -> bool:
        """Whether process `pid` (e.g. a lease holder's) is one of this node's."""
        try:
            return os.getpgid(pid) == self.process.pid
        except ProcessLookupError:
            return False

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=3) as r:  # noqa: S310
                return r.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL to the whole node: no clean shutdown, no lease released."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def node_env(database_url: str, redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "BITCHANGE_ENV": "test", "DATABASE_URL": database_url,
            "REFLEX_REDIS_URL": redis_url, "DATA_DIR": str(data_dir), "SMTP_HOST": "",
            "DEMO_LIQUIDITY": "0", "PYTHONPATH": str(PROJECT_ROOT), **extra}


def start_node(name: str, env: dict[str, str], tmp: Path) -> Node:
    port = free_port()
    log = tmp / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bitchange", "serve", "--backend-only", "--port", str(port),
         "--host", "127.0.0.1"],
        cwd=PROJECT_ROOT, env={**env, "REFLEX_STATES_WORKDIR": str(tmp / f"{name}-states")},
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return Node(name, port, process, log)


def wait_healthy(nodes: list[Node], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(nodes)
    while waiting:
        for node in list(waiting):
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited early:\n{node.log.read_text()[-4000:]}")
            if node.healthy():
                waiting.remove(node)
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(f"{waiting[0].name} did not start in {timeout}s:\n"
                               f"{waiting[0].log.read_text()[-4000:]}")
        time.sleep(0.5)  # polling starting servers


@contextmanager
def running_nodes(names: list[str], env: dict[str, str], tmp: Path) -> Iterator[list[Node]]:
    """The nodes started together (the first one migrates the database first, as the
    compose file's `migrate` service does), healthy; stopped afterwards."""
    subprocess.run([sys.executable, "-m", "bitchange", "migrate"], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    nodes = [start_node(name, env, tmp) for name in names]
    try:
        wait_healthy(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()
