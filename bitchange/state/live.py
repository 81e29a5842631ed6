"""Live market updates: the database is the bus, one watcher per backend process pushes.

Design
------
- Every change of a market's book (order placed, filled, cancelled, halted, rules edited) bumps
  that market's row in `market_sequences`, in the same transaction as the change
  (`bitchange.trading.service`). That row is the only signal: it works the same with one
  backend process, several Redis-backed workers, or several app nodes on one database.
- A browser tab on `/trade/<symbol>` subscribes from the page's on_load: its client token goes
  into this process's registry (`_subscribers`: token -> symbol, user id, chart interval, the
  seq it has been shown). The socket of a tab lives in one worker, and its events (on_load
  included) run there, so that worker's registry is the one that knows the tab. User ids stay
  here, on the server; nothing of the registry reaches a browser.
- `watch_markets`, a lifespan task (one per process), wakes every `POLL_SECONDS`, reads all
  markets' `seq` in ONE query, and for each market whose seq moved past what some subscriber
  has seen it builds the public snapshot ONCE (depth from the in-memory book, the last trades,
  the ticker, the last two candles of each interval in use) and pushes it to every subscriber
  with `app.modify_state(rx.BaseStateToken(ident=token, cls=TradeState))`. Reflex sends only
  the changed vars as a delta over the tab's socket (relayed to the owning worker if needed).
- Private views (balances, open orders, history, the user's trades) are refreshed only for the
  subscribed users touched by the change: both parties of the market's new trades (from the
  trades table) and the users whose orders in that market changed since the last check (cancels,
  self-trade prevention, an admin's cancel-all), and any subscribed user whose balances moved
  elsewhere (a fill in another market, a deposit, a withdrawal: found from the ledger entries
  after the newest ledger transaction the watcher had seen). Each such view is built from that
  tab's own server-side session, so a revoked session stops receiving private data.
- Clients never poll: the cost is one tiny query per process per tick (the markets' seqs and
  the newest ledger transaction id), plus one snapshot per changed market, plus one state
  write per subscribed tab per change.
- Stale subscriptions are pruned when pushing: a token whose socket is gone
  (`token_manager.is_token_connected`), or whose tab has navigated away from that market's
  page, is dropped. Pushes to different tabs run concurrently with a timeout, so one busy tab
  (its lock held by a long event) does not delay the others.

Why not `rx.SharedState`: the change is made by a service, possibly in another process or on
another node, so something must still watch the database; and a linked shared state is loaded
on every event of every linked client (lock contention) while per-user views still need a
per-client push. The registry + `modify_state` gives the same fan-out with less coupling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bitchange import db
from bitchange.clock import now
from bitchange.engine import gc_policy
from bitchange.trading import market_data, service
from bitchange.trading.tables import Order
from bitchange.trading.views import (
    MarketSnapshot,
    all_seqs,
    candle_points,
    market_snapshot,
    market_view,
    newest_ledger_transaction,
    owners_moved_since,
    trade_parties_since,
)

if TYPE_CHECKING:
    import reflex as rx

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
PRUNE_EVERY = 240  # rounds: about once a minute
PUSH_TIMEOUT = 5.0
ORDER_CLOCK_MARGIN = timedelta(seconds=5)  # clock skew between app nodes
_orders = Order.__table__


@dataclass
class Subscriber:
    symbol: str
    user_id: int | None
    interval: str
    seq: int = -1  # the market seq this tab has been shown
    last_trade_id: int = 0


_subscribers: dict[str, Subscriber] = {}


def subscribe(token: str, symbol: str, user_id: int | None, interval: str) -> None:
    if token:
        _subscribers[token] = Subscriber(symbol, user_id, interval)


def unsubscribe(token: str) -> None:
    _subscribers.pop(token, None)


def mark_seen(token: str, snapshot: MarketSnapshot) -> None:
    sub = _subscribers.get(token)
    if sub is not None:
        sub.seq, sub.last_trade_id = snapshot.seq, snapshot.last_trade_id


def set_interval(token: str, interval: str) -> None:
    sub = _subscribers.get(token)
    if sub is not None:
        sub.interval = interval


def subscribers() -> dict[str, Subscriber]:
    """A copy of this process's registry (for tests and diagnostics)."""
    return dict(_subscribers)


def stale_by_market(seqs: dict[str, int]) -> dict[str, dict[str, Subscriber]]:
    """Subscribers that have not been shown their market's current seq, grouped by market."""
    stale: dict[str, dict[str, Subscriber]] = defaultdict(dict)
    for token, sub in list(_subscribers.items()):
        if sub.symbol in seqs and sub.seq != seqs[sub.symbol]:
            stale[sub.symbol][token] = sub
    return stale


@dataclass(frozen=True)
class MarketUpdate:
    snapshot: MarketSnapshot
    tails: dict[str, list[dict[str, float]]]  # interval -> the last two candles
    touched_users: frozenset[int]


def build_update(symbol: str, subs: dict[str, Subscriber],
                 checked_since: Any) -> MarketUpdate | None:
    """One market's update for its stale subscribers (blocking: run it in a thread)."""
    snapshot = market_snapshot(symbol)
    if snapshot is None:
        return None
    intervals = {sub.interval for sub in subs.values()}
    users = {sub.user_id for sub in subs.values() if sub.user_id is not None}
    with db.read() as conn:
        mv = market_view(conn, symbol)
        tails = {i: candle_points(market_data.candles(conn, symbol, i, 2), mv)  # type: ignore[arg-type]
                 for i in intervals}
        touched: set[int] = set()
        if users:
            since = min(sub.last_trade_id for sub in subs.values())
            touched = trade_parties_since(conn, symbol, since) & users
            touched |= set(conn.scalars(
                select(_orders.c.user_id).where(
                    _orders.c.symbol == symbol, _orders.c.user_id.in_(users),
                    _orders.c.updated_at >= checked_since - ORDER_CLOCK_MARGIN).distinct()))
    return MarketUpdate(snapshot, tails, frozenset(touched))


@contextlib.asynccontextmanager
async def _open_tab(app: rx.App, token: str, sub: Subscriber):  # type: ignore[no-untyped-def]
    """The tab's TradeState to change (None if the tab is gone or left the market: then it
    is unsubscribed); the change is sent when the block ends."""
    import reflex as rx

    from bitchange.state.trade import TradeState

    namespace = app.event_namespace
    if namespace is not None and not await namespace._token_manager.is_token_connected(token):
        unsubscribe(token)
        yield None
        return
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=TradeState)) as root:
        state = await root.get_state(TradeState)
        if not state._watching(sub.symbol):
            unsubscribe(token)
            state = None
        yield state


async def _refresh_private(state) -> None:  # type: ignore[no-untyped-def]
    user, view = await asyncio.to_thread(state._load_private, False)
    state._set_private(user, view)


async def _push(app: rx.App, token: str, sub: Subscriber, update: MarketUpdate) -> None:
    async with _open_tab(app, token, sub) as state:
        if state is None:
            return
        state._apply_market(update.snapshot)
        tail = update.tails.get(state.interval)
        if tail:
            state.candle_tail = tail
        if sub.user_id is not None and sub.user_id in update.touched_users:
            await _refresh_private(state)
    sub.seq, sub.last_trade_id = update.snapshot.seq, update.snapshot.last_trade_id


async def _push_private(app: rx.App, token: str, sub: Subscriber) -> None:
    async with _open_tab(app, token, sub) as state:
        if state is not None:
            await _refresh_private(state)


async def _each(pushes) -> None:  # type: ignore[no-untyped-def]
    async def one(push) -> None:  # type: ignore[no-untyped-def]
        try:
            await asyncio.wait_for(push, PUSH_TIMEOUT)
        except Exception:  # one tab's failure must not stop the others or the watcher
            log.warning("live update to a client failed", exc_info=True)

    await asyncio.gather(*(one(push) for push in pushes))


async def tick(app: rx.App, checked: dict[str, Any]) -> int:
    """One round of the watcher; returns how many markets were pushed.

    Besides the markets that moved, a tab's balances follow its user's other ledger activity
    (a fill in another market, a deposit, a withdrawal): the newest ledger transaction id is
    the second mark read per round, and only when it moved are the subscribed users among
    its new entries looked up. The mark moves on once the round is done, so a failed round is
    looked at again. (On PostgreSQL a transaction can commit after a newer id was seen: its
    balances then show with the user's next change, or on their next action.)"""
    if not _subscribers:
        checked.pop(LEDGER_MARK, None)  # nobody to refresh: start again from the newest
        return 0
    seqs, newest = await asyncio.to_thread(_read_marks)
    moved = await _balances_moved(checked.get(LEDGER_MARK, newest), newest)
    pushed = 0
    stale = stale_by_market(seqs)
    for symbol, subs in stale.items():
        started = now()
        update = await asyncio.to_thread(build_update, symbol, subs,
                                         checked.get(symbol, started))
        checked[symbol] = started
        if update is not None:
            update = replace(update, touched_users=update.touched_users | moved)
            await _each(_push(app, token, sub, update) for token, sub in subs.items())
            pushed += 1
    if moved:
        pushed_tabs = {token for subs in stale.values() for token in subs}
        await _each(_push_private(app, token, sub) for token, sub in list(_subscribers.items())
                    if sub.user_id in moved and token not in pushed_tabs)
    checked[LEDGER_MARK] = newest
    return pushed


LEDGER_MARK = "#ledger"  # key in the watcher's `checked`: the newest ledger transaction seen


async def _balances_moved(since: int, newest: int) -> frozenset[int]:
    users = {sub.user_id for sub in list(_subscribers.values()) if sub.user_id is not None}
    if newest <= since or not users:
        return frozenset()
    return frozenset(await asyncio.to_thread(_owners_moved, since, users))


def _owners_moved(since: int, users: set[int]) -> set[int]:
    with db.read() as conn:
        return owners_moved_since(conn, since, users)


def _read_marks() -> tuple[dict[str, int], int]:
    with db.read() as conn:
        return all_seqs(conn), newest_ledger_transaction(conn)


async def prune_disconnected(app: rx.App) -> None:
    """Drop tabs whose socket is gone, even in markets that have not moved since."""
    namespace = app.event_namespace
    if namespace is None:
        return
    for token in list(_subscribers):
        if not await namespace._token_manager.is_token_connected(token):
            unsubscribe(token)


async def watch_markets(app: rx.App) -> None:
    """The lifespan task: runs for as long as the backend process does.

    It first rebuilds every market's book from the database (recovery after a restart or
    crash, before this process serves an order), then freezes the start-up heap for the
    cyclic GC (`engine.gc_policy.apply`), so a full collection never walks the framework
    and the loaded books. No periodic `checkpoint()` here: a web process keeps short-lived
    cyclic objects (state trees of tabs), and freezing them would keep them after they die.
    """
    try:
        loaded = await asyncio.to_thread(service.load_books)
        log.info("books loaded: %d resting orders", loaded)
    except Exception:
        log.exception("loading the books failed; each loads on its first use instead")
    gc_policy.apply()
    checked: dict[str, Any] = {}
    rounds = 0
    while True:
        started = time.monotonic()
        rounds += 1
        try:
            await tick(app, checked)
            if rounds % PRUNE_EVERY == 0:
                await prune_disconnected(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("market watcher round failed")
        with contextlib.suppress(ValueError):
            await asyncio.sleep(max(0.05, POLL_SECONDS - (time.monotonic() - started)))
