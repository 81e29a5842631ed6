"""One 'backend process' for the scheduler tests: starts the app's scheduler exactly as the app
does and runs until SIGTERM (or until killed)."""

from __future__ import annotations

import signal
import threading

from bitchange.jobs.scheduler import start_scheduler, stop_scheduler
from bitchange.ops.logs import configure_logging


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    configure_logging()
    scheduler = start_scheduler()
    assert scheduler is not None
    print(f"ready {scheduler.holder}", flush=True)
    stop.wait()
    stop_scheduler()


if __name__ == "__main__":
    main()
