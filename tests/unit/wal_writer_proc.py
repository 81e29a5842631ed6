"""One writer process for the WAL bound test: waits for "go" on stdin, commits the given
number of transactions back to back through `db.write()`, and prints the largest WAL file size
it saw after any of its commits."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bitchange import db

PAYLOAD = 4 * 4096  # four pages of rows per transaction


def main() -> None:
    transactions = int(sys.argv[1])
    wal = Path(make_url(db.current_url()).database + "-wal")  # type: ignore[operator]
    with db.read() as conn:  # connect (and start the checkpointer) before the race
        conn.execute(text("SELECT 1"))
    print("ready", flush=True)
    sys.stdin.readline()
    largest = 0
    for _ in range(transactions):
        with db.write() as conn:
            conn.execute(text("INSERT INTO wal_probe (payload) VALUES (:payload)"),
                         {"payload": os.urandom(PAYLOAD)})
        largest = max(largest, wal.stat().st_size)
    print(largest, flush=True)


if __name__ == "__main__":
    main()
