"""The exchange's backend routes in a process of their own, for the storage fault tests.

One command per line on stdin, one JSON answer per line on stdout:
  get PATH            a GET through the real routes (as a same-origin navigation)
  hold N              N requests at once: N pooled connections checked out together
  order USER_ID       a small resting bid on BTC-USDT through the trading service (whose
                      market writer holds its connection from the first order on)
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack

from sqlalchemy import text
from starlette.testclient import TestClient

from bitchange import db
from bitchange.trading import service
from bitchange.web import api


def _hold(count: int) -> dict[str, object]:
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(db.read()).execute(text("SELECT 1"))
    return {"held": count}


def _order(user_id: int) -> dict[str, object]:
    bid = service.OrderRequest(side="BUY", kind="limit", price=10_000 * 10**6,
                               quantity=10**5)  # 0.001 BTC at 10,000 USDT
    try:
        return {"placed": service.place_order(user_id, "BTC-USDT", bid).order_id}
    except Exception as exc:
        if not db.is_storage_fault(exc):
            raise
        return {"refused": db.STORAGE_UNAVAILABLE}


def main() -> None:
    client = TestClient(api, base_url="http://exchange.test", follow_redirects=False)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "get":
            response = client.get(argument, headers={"sec-fetch-site": "same-origin"})
            answer: dict[str, object] = {"status": response.status_code,
                                         "body": response.text,
                                         "cookie": "set-cookie" in response.headers}
        elif command == "hold":
            answer = _hold(int(argument))
        elif command == "order":
            answer = _order(int(argument))
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
