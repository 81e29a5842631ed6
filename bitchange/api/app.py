"""The /api/v3 endpoints (and the few under /sapi/v1) in one table (mounted by bitchange.web):
the Starlette routes and the OpenAPI description served at /api/v3/openapi.json are both made
from it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bitchange.api import openapi, private, public
from bitchange.api.http import Call, endpoint
from bitchange.api.openapi import Operation
from bitchange.routes import SAPI_V1

SYMBOL, SYMBOL_OPTIONAL = "symbol*", "symbol"
ORDER_LOOKUP = (SYMBOL, "orderId:int", "origClientOrderId")
LIST_LOOKUP = ("orderListId:int", "origClientOrderId", "listClientOrderId")
WINDOW = ("startTime:int", "endTime:int", "limit:int")


@endpoint(1)
def describe(call: Call) -> dict[str, Any]:
    """This description: every endpoint served under /api/v3, generated from its table."""
    return openapi.document(OPERATIONS)


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/ping", public.ping),
    Operation("GET", "/time", public.time),
    Operation("GET", "/exchangeInfo", public.exchange_info,
              (SYMBOL_OPTIONAL, "symbols", "symbolStatus")),
    Operation("GET", "/depth", public.depth, (SYMBOL, "limit:int", "symbolStatus")),
    Operation("GET", "/trades", public.trades, (SYMBOL, "limit:int")),
    Operation("GET", "/aggTrades", public.agg_trades, (SYMBOL, "fromId:int", *WINDOW)),
    Operation("GET", "/historicalTrades", public.trades, (SYMBOL, "limit:int", "fromId:int")),
    Operation("GET", "/klines", public.klines, (SYMBOL, "interval*", *WINDOW, "timeZone")),
    Operation("GET", "/uiKlines", public.klines, (SYMBOL, "interval*", *WINDOW, "timeZone")),
    Operation("GET", "/ticker/24hr", public.ticker_24hr,
              (SYMBOL_OPTIONAL, "symbols", "type", "symbolStatus")),
    Operation("GET", "/ticker", public.ticker_rolling,
              (SYMBOL_OPTIONAL, "symbols", "windowSize", "type", "symbolStatus")),
    Operation("GET", "/ticker/price", public.ticker_price,
              (SYMBOL_OPTIONAL, "symbols", "symbolStatus")),
    Operation("GET", "/ticker/bookTicker", public.ticker_book,
              (SYMBOL_OPTIONAL, "symbols", "symbolStatus")),
    Operation("GET", "/avgPrice", public.avg_price, (SYMBOL,)),
    Operation("GET", "/account", private.account),
    Operation("POST", "/order", private.new_order, private.NEW_ORDER_PARAMS),
    Operation("GET", "/order", private.get_order, ORDER_LOOKUP),
    Operation("DELETE", "/order", private.cancel_order, (*ORDER_LOOKUP, "cancelRestrictions")),
    Operation("POST", "/order/test", private.test_order, private.NEW_ORDER_PARAMS),
    Operation("POST", "/order/cancelReplace", private.cancel_replace,
              private.CANCEL_REPLACE_PARAMS),
    Operation("POST", "/orderList/oco", private.new_oco, private.NEW_OCO_PARAMS),
    Operation("GET", "/orderList", private.get_order_list, LIST_LOOKUP),
    Operation("DELETE", "/orderList", private.cancel_order_list, (SYMBOL, *LIST_LOOKUP)),
    Operation("GET", "/openOrderList", private.open_order_lists),
    Operation("GET", "/openOrders", private.open_orders, (SYMBOL_OPTIONAL,)),
    Operation("DELETE", "/openOrders", private.cancel_open_orders, (SYMBOL,)),
    Operation("GET", "/allOrders", private.all_orders, (SYMBOL, "orderId:int", *WINDOW)),
    Operation("GET", "/myTrades", private.my_trades,
              (SYMBOL, "orderId:int", "fromId:int", *WINDOW)),
    Operation("POST", "/userDataStream", private.create_listen_key),
    Operation("PUT", "/userDataStream", private.keep_alive_listen_key, ("listenKey*",)),
    Operation("DELETE", "/userDataStream", private.close_listen_key, ("listenKey*",)),
    Operation("GET", "/openapi.json", describe),
    Operation("GET", "/account/commission", private.commission, (SYMBOL,)),
    Operation("GET", "/system/status", public.system_status, prefix=SAPI_V1),
    Operation("GET", "/asset/tradeFee", private.trade_fees, (SYMBOL_OPTIONAL,), prefix=SAPI_V1),
)

routes = [Route(op.full_path, op.handler, methods=[op.method]) for op in OPERATIONS]
# The full paths the endpoints serve: the request guard leaves their per-IP count to them.
PATHS = frozenset(op.full_path for op in OPERATIONS)


class Dispatch:
    """ASGI middleware: a request for one of the endpoints goes straight to it (one dict
    lookup) instead of through Starlette's router, mount and exception layers, which an
    endpoint does not need (it answers every failure itself). Anything else (a wrong method,
    an unknown path) passes on to the app as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.handlers = {(op.method, op.full_path): op.handler for op in OPERATIONS}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (self.handlers.get((scope["method"], scope["path"]))
                   if scope["type"] == "http" else None)
        if handler is None:
            await self.app(scope, receive, send)
            return
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)
