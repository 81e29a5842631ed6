"""bitchange.web's backend app (its routes, the API streams among them, and its middlewares:
the request guard and the API's dispatch) with the stream watcher as its lifespan task, as
the Reflex app runs them: served by a real ASGI server (Granian) in the stream tests and the
API benchmarks, without building the frontend."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from bitchange.api.streams import watch_streams
from bitchange.config import PROJECT_ROOT
from bitchange.engine import gc_policy
from bitchange.ops.cpu_pinning import pin_backend_process
from bitchange.web import api


@contextlib.asynccontextmanager
async def _lifespan(_app: Starlette) -> AsyncIterator[None]:
    pin_backend_process()
    gc_policy.apply()  # the start-up heap frozen, as the app's lifespan task does
    task = asyncio.create_task(watch_streams())
    yield
    task.cancel()


_lifespan_app = Starlette(lifespan=_lifespan)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await (_lifespan_app if scope["type"] == "lifespan" else api)(scope, receive, send)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_group(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Stop the server and every worker it forked (its own session, so its process group):
    a worker outliving a main process stopped mid-start would otherwise keep running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # whatever is left of the group
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def serving(env: dict[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """Run this app under Granian in a child process; yields its ws:// base URL. Its output
    goes to a file (a pipe nobody reads would stall a server that logs much)."""
    port = _free_port()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "tests.api.stream_server:app"],
            cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:  # polling a starting server, not synchronising test steps
                if process.poll() is not None:
                    output.seek(0)
                    raise RuntimeError(output.read().decode()[-4000:])
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                            1):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the stream server did not start")
                time.sleep(0.1)
            yield f"ws://127.0.0.1:{port}"
        finally:
            _stop_group(process)
