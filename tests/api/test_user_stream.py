"""The user data stream on a listenKey from the REST API (`POST /api/v3/userDataStream`),
served under Granian by its own watcher; orders placed and money moved through the services
in this process: the owner gets `executionReport`, `outboundAccountPosition` and
`balanceUpdate` as Binance documents them, and another user's socket gets none of it."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bitchange import db, ledger
from bitchange.accounts import api_keys
from bitchange.trading import service
from bitchange.trading.service import OrderRequest
from tests.api.conftest import BTC, USDT, Signed, make_trader, new_key
from tests.api.stream_server import serving

WAIT = 30  # seconds: a bound against hanging, never a pause


async def _next(ws) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


def _listen_key(api: Signed) -> str:
    response = api.client.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": api.key})
    return response.json()["listenKey"]


async def test_reports_balances_and_deposits_reach_only_their_owner(client, alice,
                                                                   alice_api) -> None:
    bob = make_trader("bob@example.com", {"USDT": 1_000_000 * USDT})
    bob_key = new_key(bob)
    alice_key, bob_listen = _listen_key(alice_api), _listen_key(
        Signed(client, bob_key.api_key, bob_key.secret))  # type: ignore[arg-type]
    with serving() as url:
        with pytest.raises(InvalidStatus):
            async with connect(url + "/ws/" + "f" * 60):  # shaped as one, not known
                pass
        async with connect(url + "/ws/" + alice_key) as mine, \
                connect(url + "/ws/" + bob_listen) as theirs:
            sell = await asyncio.to_thread(
                service.place_order, alice.user_id, "BTC-USDT",
                OrderRequest(side="SELL", kind="limit", price=65_000 * USDT,
                             quantity=BTC // 10))
            new = await _next(mine)
            assert (new["e"], new["x"], new["X"], new["i"], new["S"], new["o"]) == (
                "executionReport", "NEW", "NEW", sell.order_id, "SELL", "LIMIT")
            assert (new["q"], new["p"], new["z"], new["w"]) == (
                "0.10000000", "65000.000000", "0.00000000", True)
            locked = await _next(mine)
            assert locked["e"] == "outboundAccountPosition"
            assert {b["a"]: (b["f"], b["l"]) for b in locked["B"]} == {
                "BTC": ("9.90000000", "0.10000000")}
            await asyncio.to_thread(
                service.place_order, bob.user_id, "BTC-USDT",
                OrderRequest(side="BUY", kind="limit", price=65_000 * USDT,
                             quantity=BTC // 25))
            fill = await _next(mine)
            assert (fill["x"], fill["X"], fill["l"], fill["z"], fill["L"], fill["m"]) == (
                "TRADE", "PARTIALLY_FILLED", "0.04000000", "0.04000000", "65000.000000",
                True)
            assert (fill["N"], fill["n"], fill["Y"]) == ("USDT", "2.600000", "2600.000000")
            assert (await _next(mine))["e"] == "outboundAccountPosition"
            await asyncio.to_thread(service.cancel_order, alice.user_id, sell.order_id)
            cancelled = await _next(mine)
            assert (cancelled["x"], cancelled["X"], cancelled["z"]) == (
                "CANCELED", "CANCELED", "0.04000000")
            assert cancelled["C"] == new["c"] and new["C"] == ""  # the order being canceled
            assert 0 < new["I"] < fill["I"] < cancelled["I"]  # execution ids, increasing
            assert (await _next(mine))["e"] == "outboundAccountPosition"
            with db.write() as conn:
                ledger.credit_deposit(conn, alice.account, "USDT", 5 * USDT)
            deposit = await _next(mine)
            assert (deposit["e"], deposit["a"], deposit["d"]) == ("balanceUpdate", "USDT",
                                                                 "5.000000")
            position = await _next(mine)
            assert position["B"] == [{"a": "USDT", "f": "1002602.400000", "l": "0.000000"}]
            # Bob's socket saw his own taker fill and balances, never Alice's reports.
            seen = [await _next(theirs) for _ in range(3)]
            assert [(m["e"], m.get("x")) for m in seen] == [
                ("executionReport", "NEW"), ("executionReport", "TRADE"),
                ("outboundAccountPosition", None)]
            assert seen[1]["X"] == "FILLED" and seen[1]["m"] is False
            assert all(m.get("i") != sell.order_id for m in seen)
            # Revoking the key ends its open stream at once, as an expired listenKey does.
            with db.write() as conn:
                api_keys.revoke_all(conn, alice.user_id)
            assert (await _next(mine)) | {"E": 0} == {"e": "listenKeyExpired", "E": 0,
                                                    "listenKey": alice_key}
            await asyncio.wait_for(mine.wait_closed(), WAIT)
        with pytest.raises(InvalidStatus):
            async with connect(url + "/ws/" + alice_key):
                pass
