"""Price alerts: set / list / delete with a per-user limit; the job fires an alert exactly once,
on the first trade after it was set that reaches its price, with the email delivered to the real
SMTP server; older trades never fire it; a rolled-back run fires nothing."""

from __future__ import annotations

import pytest

from bitchange import db, ledger
from bitchange.accounts.users import AccountError
from bitchange.alerts import service as alerts
from bitchange.config import reload_settings
from bitchange.jobs import scheduler, tasks
from bitchange.mail.outbox import deliver_due
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from tests.mailbox import text_of
from tests.trading.conftest import price, qty


def _trade(maker, taker, market: str, at: str) -> None:  # type: ignore[no-untyped-def]
    service.place_order(maker.user_id, market, OrderRequest(
        side="SELL", kind="limit", price=price(at), quantity=qty("0.01")))
    service.place_order(taker.user_id, market, OrderRequest(
        side="BUY", kind="limit", price=price(at), quantity=qty("0.01")))


def _set(user_id: int, direction: str, at: str) -> int:
    with db.write() as conn:
        return alerts.create(conn, user_id, "BTC-USDT", direction, at)


def test_fires_exactly_once_when_a_trade_crosses(alice, bob, market, smtp_server):
    _trade(alice, bob, market, "60000")  # before the alert: never fires it
    above = _set(alice.user_id, "above", "61000")
    below = _set(alice.user_id, "below", "59000")
    assert tasks.price_alerts() == "0 price alerts fired"
    _trade(alice, bob, market, "60500")
    assert tasks.price_alerts() == "0 price alerts fired"
    _trade(alice, bob, market, "61000")  # at the price: fires
    _trade(alice, bob, market, "61500")  # another crossing: already fired
    assert tasks.price_alerts() == "1 price alerts fired"
    _trade(alice, bob, market, "62000")
    assert tasks.price_alerts() == "0 price alerts fired"
    with db.read() as conn:
        rows = {r.id: r for r in alerts.list_alerts(conn, alice.user_id)}
    assert rows[above].fired_at is not None and rows[above].fired_price.startswith("61,000")
    assert rows[below].fired_at is None
    deliver_due()
    message = smtp_server.wait_for("alice@example.com", "BTC-USDT traded at or above")
    assert "61,000" in text_of(message) and "/trade/BTC-USDT" in text_of(message)
    assert len(smtp_server.to("alice@example.com")) == 1
    with db.read() as conn:
        assert ledger.reconcile(conn).ok


def test_a_failed_run_fires_nothing_and_the_next_one_does(alice, bob, market):
    _set(alice.user_id, "below", "59000")
    _trade(alice, bob, market, "58000")
    with pytest.raises(RuntimeError), db.write() as conn:
        assert alerts.fire_batch(conn) == (1, False)
        raise RuntimeError("the run failed before its commit")
    assert tasks.price_alerts() == "1 price alerts fired"
    assert tasks.price_alerts() == "0 price alerts fired"


def test_limit_bad_input_and_delete(alice, market, monkeypatch):
    monkeypatch.setenv("PRICE_ALERTS_PER_USER", "2")
    reload_settings()
    first = _set(alice.user_id, "above", "70000")
    _set(alice.user_id, "below", "50000")
    with pytest.raises(AccountError, match="2 pending"):
        _set(alice.user_id, "above", "80000")
    for direction, at in (("sideways", "1"), ("above", "-5"), ("above", "1,5"),
                          ("above", "0.0000001")):
        with pytest.raises(AccountError):
            _set(alice.user_id, direction, at)
    with db.write() as conn:
        alerts.remove(conn, alice.user_id, first)
        with pytest.raises(AccountError):
            alerts.remove(conn, alice.user_id + 1, first + 1)
    _set(alice.user_id, "above", "80000")
    with db.read() as conn:
        assert len(alerts.list_alerts(conn, alice.user_id)) == 2
    monkeypatch.delenv("PRICE_ALERTS_PER_USER")
    jobs = {job.name: job for job in scheduler.default_jobs(reload_settings())}
    assert jobs["price_alerts"].func is tasks.price_alerts
