"""Several backend workers (Reflex runs one per 2 x cores + 1 when Redis is configured): an order
placed through one worker reaches the screens whose sockets live in other workers, live.

The tabs' sockets are spread over the workers by the kernel; the test opens watching tabs until
Redis's socket records show that they are held by at least two workers, so the live path
crosses a process boundary (each worker's watcher pushes to its own tabs, driven only by the
database), and then runs the trading journey of test_trading.py.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp, start_app, stop_app
from tests.e2e.test_trading import trade_journey

REDIS_URL = os.environ.get("BITCHANGE_E2E_REDIS_URL", "redis://127.0.0.1:6379/13")
MAX_WATCHERS = 12


@pytest.fixture(scope="module")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    client.flushdb()  # a database of its own: only this app's states and socket records
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def workers_app(tmp_path_factory: pytest.TempPathFactory,
                redis_client: redis.Redis) -> Iterator[RunningApp]:
    webdir = os.environ.get("BITCHANGE_E2E_WEBDIR", ".web-e2e") + "-redis"
    process, running = start_app(tmp_path_factory.mktemp("workers"), {
        "REFLEX_REDIS_URL": REDIS_URL, "REFLEX_WEB_WORKDIR": webdir, "SMTP_HOST": ""})
    yield running
    stop_app(process)


def worker_of(page: Page, client: redis.Redis) -> str:
    """The id of the worker process holding this tab's socket (Reflex's record in Redis)."""
    token = page.evaluate("window.sessionStorage.getItem('token')")
    record = client.get(f"token_manager_socket_record_{token}")
    assert record is not None, f"no socket record for tab {token}"
    return pickle.loads(record).instance_id  # noqa: S301 - written by the app under test


def open_watcher(new_context, app: RunningApp) -> Page:  # type: ignore[no-untyped-def]
    page = new_context().new_page()
    page.goto(f"{app.url}/trade/BTC-USDT")
    expect(page.locator("#market-symbol")).to_have_text("BTC-USDT")
    expect(page.locator("#book-empty")).to_be_visible()  # on_load ran: the tab is subscribed
    return page


def test_a_trade_reaches_tabs_held_by_other_workers(workers_app, redis_client, new_context,
                                                    console):
    watchers = [open_watcher(new_context, workers_app)]
    workers = {worker_of(watchers[0], redis_client)}
    while len(workers) < 2:
        assert len(watchers) < MAX_WATCHERS, "every tab landed in the same worker"
        watchers.append(open_watcher(new_context, workers_app))
        workers.add(worker_of(watchers[-1], redis_client))

    trade_journey(workers_app, new_context, watchers)
    assert console.errors == []
