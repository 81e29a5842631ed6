"""An open screen of the alert's owner gets a toast when it fires (the live watcher's ALERTS
activity), once; another user's screen gets nothing."""

from __future__ import annotations

import pytest

from bitchange import db
from bitchange.alerts import service as alerts
from bitchange.jobs import tasks
from bitchange.state.alerts import AlertToastState
from tests.alerts.test_price_alerts import _trade
from tests.livetabs import FakeApp, browser_tab, call, cookie_for


@pytest.fixture
def watcher():  # type: ignore[no-untyped-def]
    from bitchange.state import live

    live._watches.clear()
    yield live
    live._watches.clear()


def test_the_owner_sees_a_toast_once(alice, bob, market, watcher):
    with db.write() as conn:
        alerts.create(conn, alice.user_id, market, "above", "61000")
    alice_root, alice_toast = browser_tab(AlertToastState, "alice-trade", "/trade/BTC-USDT",
                                          cookie_for(alice.user_id))
    bob_root, bob_toast = browser_tab(AlertToastState, "bob-trade", "/trade/BTC-USDT",
                                      cookie_for(bob.user_id))
    call(alice_toast, "load")
    call(bob_toast, "load")
    app = FakeApp({"alice-trade": alice_root, "bob-trade": bob_root})
    checked: dict = {}
    assert app.tick(checked) == []
    _trade(alice, bob, market, "61500")
    assert tasks.price_alerts() == "1 price alerts fired"
    assert app.tick(checked) == ["alice-trade"]
    (message,) = alice_toast.messages
    assert "BTC-USDT traded at 61,500" in message and "61,000" in message
    assert bob_toast.messages == []
    assert app.tick(checked) == []
    call(alice_toast, "dismiss")
    assert alice_toast.messages == []
