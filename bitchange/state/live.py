"""Live updates: the database is the bus, one watcher per backend process pushes.

Design
------
- Every change of a market's book (order placed, filled, cancelled, halted, rules edited) bumps
  that market's row in `market_sequences`, in the same transaction as the change
  (`bitchange.trading.service`). Every balance change is a ledger transaction, every step of a
  withdrawal a `withdrawal_events` row and every step of a verification a `kyc_events` row,
  each in the transaction of the change. Those ids are the only signals: they work the same
  with one backend process, several Redis-backed workers, or several app nodes on one database.
- A screen registers what it shows from its page's on_load (`watch`): one market (the trading
  screen), its user's activity (`LEDGER`, `WITHDRAWALS`, `KYC`: the wallet, withdraw and
  verification pages), or every market's ticker (the landing and markets tables), with the
  callback that refreshes it. The registry (`_watches`: (client token, screen) -> `Watch`) is
  this process's: the socket of a tab lives in one worker, and its events (on_load included)
  run there, so that worker's registry is the one that knows the tab. User ids stay here, on
  the server; nothing of the registry reaches a browser.
- `watch_markets`, a lifespan task (one per process), wakes every `POLL_SECONDS` and reads the
  marks: all markets' `seq` in one query and the newest ledger transaction, withdrawal step and
  verification step (three index-only `max(id)`). For each market whose seq moved past what some
  screen has been shown it builds the public snapshot ONCE (depth from the in-memory book, the
  last trades, the ticker, the last two candles of each interval in use); when any market moved
  it builds each tickers table once; when an activity mark moved it looks up which watching
  users have new rows.
- A market's public view (book, last trades, ticker, chart tail: the same for every viewer)
  reaches its trading screens without opening their states (`_show_market`). The screen's
  `public` function turns the snapshot into its vars, once per screen and chart interval, and
  that one delta -- `StateUpdate(delta={<screen's full name>: {<var>_rx_state_: value}})`, what
  Reflex sends when a handler sets those vars -- is emitted in one call on the sockets of all
  of this process's tabs on the market (python-socketio encodes the packet once). No Redis
  lock, read or write per tab: per push, O(1) work per market plus one socket write per tab.
  Only this process's sockets get it (Reflex's token manager says where each tab's socket
  is): a tab whose socket closed, or reconnected to another worker (which ran its on_load and
  so registered it there), is dropped. A tab that registered again while the update was being
  built (another market or chart interval) is checked with no await before the emit, so it
  never gets the older market after its load's own.
  The tab's stored state keeps the market as its last load or own action showed it. Nothing
  on the server reads those vars, a handler that changes them sends them whole (a var set is
  sent even if equal), and a reconnect or reload hydrates and runs the page's on_load again,
  which shows the market afresh.
- Everything else is opened per tab with `app.modify_state(rx.BaseStateToken(ident=token,
  cls=screen))` and its callback runs under the tab's state lock; Reflex sends only the changed
  vars as a delta over the tab's socket. On a trading screen that is the private view
  (balances, open orders, history, the user's trades), and only for the users touched by the
  change: both parties of the market's new trades (from the trades table), the users whose
  orders in that market changed since the last check (cancels, self-trade prevention, an
  admin's cancel-all), and users whose balances moved elsewhere (a fill in another market, a
  deposit, a withdrawal). Private data never goes through the shared emit, and the callbacks
  resolve the tab's own session, so a revoked session stops receiving it.
- Clients never poll: the cost is a few tiny queries per process per tick, plus one snapshot
  and one emit per changed market, plus one state write per tab whose user's data changed
  (and per open landing or markets table, for the tickers).
- Stale registrations end: a tab whose socket is not in this process (closed, or moved to
  another worker) is dropped when pushing and by the periodic prune; a tab that goes to another
  page ends the watches it registered on other pages (`on_page`, from the markets state's load,
  which every page's on_load runs), and a state push that finds its tab on another page drops
  it too. State pushes to different tabs run concurrently with a timeout, so one busy tab (its
  lock held by a long event) does not delay the others.

Why not `rx.SharedState`: the change is made by a service, possibly in another process or on
another node, so something must still watch the database; and a linked shared state is loaded
on every event of every linked client (lock contention) while per-user views still need a
per-client push. The registry, the shared emit and `modify_state` give the same fan-out with
less coupling.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import reflex as rx
from reflex.constants import SocketEvent
from reflex.constants.state import FIELD_MARKER
from reflex.state import StateUpdate

from bitchange import db
from bitchange.alerts import service as alerts
from bitchange.clock import now
from bitchange.engine import gc_policy
from bitchange.kyc import service as kyc
from bitchange.ops import metrics
from bitchange.state.auth import current_user
from bitchange.state.events import off_loop
from bitchange.trading import market_data, service
from bitchange.trading.views import (
    MarketSnapshot,
    all_seqs,
    candle_points,
    market_snapshot,
    market_view,
    newest_ledger_transaction,
    order_owners_changed_since,
    owners_moved_since,
    trade_parties_since,
)
from bitchange.wallet import withdrawals

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
PRUNE_EVERY = 240  # rounds: about once a minute
PUSH_TIMEOUT = 5.0
ORDER_CLOCK_MARGIN = timedelta(seconds=5)  # clock skew between app nodes

# A user's activity a screen can follow, each with the mark the watcher reads per round (the
# newest row id) and the lookup of the users with rows after a mark.
LEDGER = "ledger"  # balances: fills, deposits, withdrawal holds and payouts, transfers...
WITHDRAWALS = "withdrawals"  # a withdrawal's status
KYC = "kyc"  # a verification submitted or decided
ORDERS = "orders"  # set by a market update: the user's trades or orders in that market
ALERTS = "alerts"  # a price alert of the user fired
_ACTIVITY: dict[str, tuple[Callable[..., int], Callable[..., set[int]]]] = {
    LEDGER: (newest_ledger_transaction, owners_moved_since),
    WITHDRAWALS: (withdrawals.newest_event, withdrawals.owners_changed_since),
    KYC: (kyc.newest_event, kyc.owners_changed_since),
    ALERTS: (alerts.newest_fired, alerts.owners_fired_since),
}
SEQS = "#seqs"  # key in the watcher's `checked`: the markets' seqs of the last round
# The watcher's database reads run in a thread of their own: in the shared pool they would
# queue behind a burst of handlers' work (page loads, placements waiting for a lock), and
# every screen's update with them. One thread: a round reads one thing after another.
_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-watcher")


@dataclass(frozen=True)
class MarketUpdate:
    snapshot: MarketSnapshot
    tails: dict[str, list[dict[str, float]]]  # interval -> the last two candles
    touched_users: frozenset[int]


@dataclass(frozen=True)
class News:
    """What moved for one screen, handed to its refresh callback."""

    activity: frozenset[str] = frozenset()  # what of its user's moved (LEDGER, ORDERS...)
    tickers: Any = None  # what its tickers builder made this round, built once for all


# (the screen's state, news). As with event handlers (`bitchange.state.events`): a plain
# function runs in a worker thread; an `async def` one runs on the loop (no database there:
# it passes such work to `off_loop`), which spares the thread hop to the many public screens.
Refresh = Callable[[Any, News], Awaitable[None] | None]
# A market screen's public vars (name -> value) from its market's snapshot and the last two
# candles of its chart interval (None when there are none): what every viewer of the market
# sees, so it is built once per market, screen and interval for all of this process's tabs.
Public = Callable[[MarketSnapshot, list[dict[str, float]] | None], dict[str, Any]]


@dataclass
class Watch:
    """What one screen of one tab shows, registered by `watch`."""

    screen: type  # its rx.State class, opened on the tab to refresh it
    refresh: Refresh
    path: str  # the page it was registered on: the watch ends when the tab leaves it
    user_id: int | None = None
    activity: frozenset[str] = frozenset()
    market: str = ""  # one market's book, trades, ticker and chart tail
    interval: str = ""  # the chart interval of that tail
    public: Public | None = None  # with `market`: how the screen shows it
    tickers: Callable[[], Any] | None = None  # builds every market's row (shared by all)
    seq: int = -1  # the market seq this tab has been shown
    last_trade_id: int = 0


Key = tuple[str, str]  # (client token, screen name)
_watches: dict[Key, Watch] = {}


async def _read(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in the watcher's thread (with this context, as `asyncio.to_thread` does)."""
    return await asyncio.get_running_loop().run_in_executor(
        _READER, contextvars.copy_context().run, fn, *args)


def _page(path: str) -> str:
    return "/" + (path or "").strip("/").lower()


def _key(state: rx.State) -> Key:
    return state.router.session.client_token, type(state).get_full_name()


def for_user(show: Callable[[Any, int], None]) -> Refresh:
    """A refresh that shows the screen again for its tab's signed-in user, `show(state,
    user_id)`; nothing once that session has ended."""
    def refresh(state: Any, news: News) -> None:
        user = current_user(state, active=False)
        if user is not None:
            show(state, user.user_id)
    return refresh


def watch(state: rx.State, refresh: Refresh, *, user_id: int | None = None,
          activity: frozenset[str] = frozenset(), market: str = "", interval: str = "",
          public: Public | None = None, tickers: Callable[[], Any] | None = None) -> None:
    """Register `state`'s screen on this tab's current page (call it before reading what the
    screen shows: a change in between then moves a mark again). A market screen (`market`)
    gives its `public` view; `refresh` then only has its user's activity to show."""
    key = _key(state)
    if key[0]:
        _watches[key] = Watch(type(state), refresh, _page(state.router.url.path), user_id,
                              activity, market, interval, public, tickers)


def unwatch(state: rx.State) -> None:
    _watches.pop(_key(state), None)


def on_page(state: rx.State) -> None:
    """The tab is on its router's page now (every page's on_load says so): the watches it
    registered on other pages end. The market push does not open tab states, so this is
    how it learns that a tab left its trading page."""
    token, page = state.router.session.client_token, _page(state.router.url.path)
    for key, w in list(_watches.items()):
        if key[0] == token and w.path != page:
            _watches.pop(key, None)


def mark_seen(state: rx.State, snapshot: MarketSnapshot) -> None:
    """The screen has just shown its market at `snapshot`'s seq (after its own action)."""
    w = _watches.get(_key(state))
    if w is not None:
        w.seq, w.last_trade_id = snapshot.seq, snapshot.last_trade_id


def set_interval(state: rx.State, interval: str) -> None:
    w = _watches.get(_key(state))
    if w is not None:
        w.interval = interval


def watches() -> dict[Key, Watch]:
    """A copy of this process's registry (for tests and diagnostics)."""
    return dict(_watches)


def stale_by_market(seqs: dict[str, int]) -> dict[str, dict[Key, Watch]]:
    """Market screens that have not been shown their market's current seq, by market."""
    stale: dict[str, dict[Key, Watch]] = defaultdict(dict)
    for key, w in list(_watches.items()):
        if w.market in seqs and w.seq != seqs[w.market]:
            stale[w.market][key] = w
    return stale


def build_update(symbol: str, subs: dict[Key, Watch], checked_since: Any) -> MarketUpdate | None:
    """One market's update for its stale screens (blocking: run it in a thread)."""
    snapshot = market_snapshot(symbol)
    if snapshot is None:
        return None
    intervals = {w.interval for w in subs.values()}
    users = {w.user_id for w in subs.values() if w.user_id is not None}
    with db.read() as conn:
        mv = market_view(conn, symbol)
        tails = {i: candle_points(market_data.candles(conn, symbol, i, 2), mv)  # type: ignore[arg-type]
                 for i in intervals}
        touched: set[int] = set()
        if users:
            since = min(w.last_trade_id for w in subs.values())
            touched = trade_parties_since(conn, symbol, since) & users
            touched |= order_owners_changed_since(conn, symbol, users,
                                                  checked_since - ORDER_CLOCK_MARGIN)
    return MarketUpdate(snapshot, tails, frozenset(touched))


def _local_sid(app: rx.App, token: str) -> str | None:
    """The socket of the tab if it is in this process. None when it closed, or when it is in
    another worker (a reconnect elsewhere): that worker ran the tab's on_load, so its own
    registry has the tab, and this one's watch is stale."""
    manager = app.event_namespace._token_manager  # type: ignore[union-attr]
    record = manager.token_to_socket.get(token)
    return record.sid if record is not None and record.instance_id == manager.instance_id else None


async def _show_market(app: rx.App, subs: dict[Key, Watch], update: MarketUpdate) -> None:
    """The market's public view to each screen of `subs` whose socket is in this process,
    sent on the sockets directly: one delta per screen and chart interval, encoded once for
    all of them, and no tab's state opened (no lock, no read, no write). A tab's state keeps
    the market as its last load or own action showed it; its next load (a reconnect or a
    reload hydrates and loads again) shows the market afresh."""
    groups: dict[tuple[str, Public, str], list[Key]] = defaultdict(list)
    for key, w in subs.items():
        groups[key[1], w.public, _tail_of(w, update)].append(key)  # type: ignore[index]
    for (screen, public, interval), keys in groups.items():
        shown = public(update.snapshot, update.tails.get(interval))
        delta = {screen: {name + FIELD_MARKER: value for name, value in shown.items()}}
        # Checked with no await before the emit queues the packets: a tab that registered
        # again meanwhile (another market, interval or page) gets only what its load sends.
        sids = []
        for key in keys:
            w = subs[key]
            if _watches.get(key) is not w or _tail_of(w, update) != interval:
                continue
            if (sid := _local_sid(app, key[0])) is None:
                _watches.pop(key, None)
                continue
            sids.append(sid)
            w.seq, w.last_trade_id = update.snapshot.seq, update.snapshot.last_trade_id
        if sids:
            await app.event_namespace.emit(  # type: ignore[union-attr]
                str(SocketEvent.EVENT), StateUpdate(delta=delta), to=sids)


def _tail_of(w: Watch, update: MarketUpdate) -> str:
    """The chart interval whose tail the screen gets ("": none built for its interval)."""
    return w.interval if w.interval in update.tails else ""


@contextlib.asynccontextmanager
async def _open_tab(app: rx.App, key: Key, w: Watch):  # type: ignore[no-untyped-def]
    """The tab's screen state to change (None if the tab is gone or left the page: then its
    watch ends); the change is sent when the block ends."""
    if _local_sid(app, key[0]) is None:
        _watches.pop(key, None)
        yield None
        return
    async with app.modify_state(rx.BaseStateToken(ident=key[0], cls=w.screen)) as root:
        state = await root.get_state(w.screen)
        if _page(state.router.url.path) != w.path:
            _watches.pop(key, None)
            state = None
        yield state


async def _push(app: rx.App, key: Key, w: Watch, news: News) -> None:
    async with _open_tab(app, key, w) as state:
        if state is not None:
            if inspect.iscoroutinefunction(w.refresh):
                await w.refresh(state, news)
            else:
                await off_loop(w.refresh, state, news)


async def _each(pushes) -> None:  # type: ignore[no-untyped-def]
    async def one(push) -> None:  # type: ignore[no-untyped-def]
        try:
            await asyncio.wait_for(push, PUSH_TIMEOUT)
        except Exception:  # one tab's failure must not stop the others or the watcher
            log.warning("live update to a client failed", exc_info=True)

    await asyncio.gather(*(one(push) for push in pushes))


def _moved_for(w: Watch, moved: dict[int, set[str]],
               update: MarketUpdate | None = None) -> frozenset[str]:
    """What of the screen's user's moved (ORDERS: their orders or trades in the market of
    `update`)."""
    if not w.user_id:
        return frozenset()
    touched = {ORDERS} if update is not None and w.user_id in update.touched_users else set()
    return frozenset(moved.get(w.user_id, set()) & w.activity | touched)


async def tick(app: rx.App, checked: dict[str, Any]) -> int:
    """One round of the watcher; returns how many markets were pushed.

    The activity marks move on once the round is done, so a failed round is looked at again.
    (On PostgreSQL a transaction can commit after a newer id was seen: its change then shows
    with the user's next change, or on their next action.)"""
    if not _watches:
        checked.clear()  # nobody to refresh: start again from the newest
        return 0
    seqs, marks = await _read(_read_marks)
    moved = await _read(_movers, {kind: checked.get(kind, mark) for kind, mark in marks.items()},
                        marks)
    pushed, done = 0, set()
    stale = stale_by_market(seqs)
    for symbol, subs in stale.items():
        started = now()
        update = await _read(build_update, symbol, subs, checked.get(symbol, started))
        checked[symbol] = started
        if update is not None:
            await _show_market(app, subs, update)
            # The private views, through each concerned tab's own state: only the users the
            # change touched, never on the shared emit.
            private = {key: activity for key, w in subs.items()
                       if (activity := _moved_for(w, moved, update))}
            await _each(_push(app, key, subs[key], News(activity))
                        for key, activity in private.items())
            done |= set(subs)
            pushed += 1
    if checked.get(SEQS) != seqs:
        done |= await _push_tickers(app, moved)
    await _each(_push(app, key, w, News(activity=_moved_for(w, moved)))
                for key, w in list(_watches.items()) if key not in done and _moved_for(w, moved))
    checked[SEQS] = seqs
    checked.update(marks)
    return pushed


async def _push_tickers(app: rx.App, moved: dict[int, set[str]]) -> set[Key]:
    """A market moved: every tickers table gets its rows, each builder run once."""
    screens = {key: w for key, w in list(_watches.items()) if w.tickers is not None}
    rows = {builder: await _read(builder)
            for builder in {w.tickers for w in screens.values()}}
    await _each(_push(app, key, w, News(activity=_moved_for(w, moved), tickers=rows[w.tickers]))
                for key, w in screens.items())
    return set(screens)


def _movers(since: dict[str, int], marks: dict[str, int]) -> dict[int, set[str]]:
    """user id -> the watched activities with rows after `since` (only the kinds whose mark
    moved are looked up)."""
    watched: dict[str, set[int]] = defaultdict(set)
    for w in list(_watches.values()):
        for kind in w.activity & set(_ACTIVITY):
            if w.user_id is not None and marks[kind] > since[kind]:
                watched[kind].add(w.user_id)
    moved: dict[int, set[str]] = defaultdict(set)
    if watched:
        with db.read() as conn:
            for kind, users in watched.items():
                for user in _ACTIVITY[kind][1](conn, since[kind], users):
                    moved[user].add(kind)
    return moved


def _read_marks() -> tuple[dict[str, int], dict[str, int]]:
    with db.read() as conn:
        return all_seqs(conn), {kind: newest(conn) for kind, (newest, _) in _ACTIVITY.items()}


def prune_disconnected(app: rx.App) -> None:
    """Drop tabs whose socket is no longer here, even on screens that had no news since."""
    for key in list(_watches):
        if _local_sid(app, key[0]) is None:
            _watches.pop(key, None)


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
                prune_disconnected(app)
            metrics.LIVE_SCREENS.set(len(_watches))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("market watcher round failed")
        with contextlib.suppress(ValueError):
            await asyncio.sleep(max(0.05, POLL_SECONDS - (time.monotonic() - started)))
