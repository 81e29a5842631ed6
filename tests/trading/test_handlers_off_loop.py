"""A handler waiting for the database's write lock does not stall the worker: while one tab's
handler waits for a lock held by another process, the live watcher still pushes a market's
changes to another tab, and the waiting handler completes once the lock is released. (On
PostgreSQL the other process holds the lock on the row the handler writes.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from sqlalchemy import select

from bitchange import db
from bitchange.db.models import User
from bitchange.state.security import SecurityState
from bitchange.state.trade import TradeState
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from tests.accounts.test_handlers import state_of
from tests.trading.conftest import price, qty
from tests.trading.test_trade_screen import (
    SYMBOL,
    FakeApp,
    call,
    cookie_for,
    no_subscribers,  # noqa: F401 - fixture
    trade_state,
)

HOLD_WRITE_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""
HOLD_ROW_LOCK = """
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as conn:
    conn.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": int(sys.argv[2])})
    print("locked", flush=True)
    sys.stdin.readline()
    conn.rollback()
"""


def _lock_holder(user_id: int) -> list[str]:
    """A process that holds what writing `user_id`'s row waits for, until a line on stdin."""
    if db.is_sqlite():
        return [sys.executable, "-c", HOLD_WRITE_LOCK, db.get_engine().url.database or ""]
    return [sys.executable, "-c", HOLD_ROW_LOCK, db.current_url(), str(user_id)]


def test_live_pushes_continue_while_a_handler_waits_for_the_write_lock(
        alice, bob, no_subscribers):  # noqa: F811
    bob_root, bob_tab = trade_state("tab-bob", cookie_for(bob.user_id))
    call(bob_tab, "load")
    checked: dict = {}
    app = FakeApp({"tab-bob": bob_root})
    asyncio.run(no_subscribers.tick(app, checked))
    service.place_order(alice.user_id, SYMBOL, OrderRequest("SELL", "limit", price("60000"),
                                                            qty("0.5")))
    waiting = state_of(SecurityState, cookie_for(alice.user_id).split("=", 1)[1])

    holder = subprocess.Popen(_lock_holder(alice.user_id),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"

        async def scenario() -> tuple[int, bool]:
            handler = SecurityState.event_handlers["set_anti_phishing"]
            saving = asyncio.create_task(handler.fn(waiting.state, {"code": "blue-heron"}))
            await asyncio.sleep(0)  # let the handler start; a blocking one would hold the loop
            pushed = await no_subscribers.tick(app, checked)
            still_waiting = not saving.done()
            holder.stdin.write("\n")
            holder.stdin.flush()
            await saving
            return pushed, still_waiting

        pushed, still_waiting = asyncio.run(scenario())
    finally:
        holder.kill()
        holder.wait()
    assert pushed == 1 and still_waiting
    assert [r["amount"] for r in app.received("tab-bob", TradeState)["asks"]] == ["0.5000"]
    assert waiting.notice == "Anti-phishing code saved."
    with db.read() as conn:
        code = conn.execute(select(User.anti_phishing_code).where(User.id == alice.user_id))
        assert code.scalar_one() == "blue-heron"
