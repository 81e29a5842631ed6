"""Signed endpoints: account, order (place, query, cancel, test), orderList (OCO: place, query,
cancel), openOrders, openOrderList, allOrders, myTrades, and the user data stream's listenKey.
Every order goes through `trading.service.place_order` / `place_oco` / `cancel_order`, the
screen's own path."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import Connection, delete, insert, or_, select, update

from bitchange import db, ledger
from bitchange.accounts.tables import ApiListenKey
from bitchange.api import errors
from bitchange.api.http import Call, Params, endpoint, server_ms
from bitchange.api.market import Market
from bitchange.api.public import all_markets, market_of, moment_of, ms
from bitchange.api.user_stream import list_client_id, order_status, order_type
from bitchange.clock import now
from bitchange.config import get_settings
from bitchange.db.models import LedgerAccount
from bitchange.money import plain_amount
from bitchange.trading import conditional, service
from bitchange.trading.service import (
    LIVE_STATUSES,
    OPEN_STATUSES,
    PENDING,
    OcoRequest,
    OrderRequest,
    TradingError,
)
from bitchange.trading.tables import Order, Trade

_orders = Order.__table__
_trades = Trade.__table__
_listen = ApiListenKey.__table__
_ledger_accounts = LedgerAccount.__table__

# Binance's conditional types -> (the service's stop_type, what runs when triggered).
CONDITIONAL = {"STOP_LOSS": ("STOP_LOSS", "MARKET"), "STOP_LOSS_LIMIT": ("STOP_LOSS", "LIMIT"),
               "TAKE_PROFIT": ("TAKE_PROFIT", "MARKET"),
               "TAKE_PROFIT_LIMIT": ("TAKE_PROFIT", "LIMIT")}
# Binance's cancelRestrictions -> the statuses (the service's) an order may be cancelled in.
CANCEL_RESTRICTIONS = {"ONLY_NEW": frozenset({"open", "pending"}),
                       "ONLY_PARTIALLY_FILLED": frozenset({"partially_filled"})}
CLIENT_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _refused(exc: TradingError) -> errors.ApiError:
    return errors.error(errors.ORDER_REFUSALS.get(exc.reason, errors.NEW_ORDER_REJECTED),
                        401 if exc.reason == "NOT_AUTHORIZED" else 400)


def _client_id(params: Params, name: str) -> str | None:
    value = params.text(name)
    if value is not None and (len(value) > 36 or not set(value) <= CLIENT_ID_CHARS):
        raise errors.illegal(name)
    return value


def _order_json(m: Market, r) -> dict:  # type: ignore[no-untyped-def, type-arg]
    working = r.triggered_at if r.stop_type is not None else r.created_at
    body = {
        "symbol": m.name, "orderId": r.id,
        "orderListId": r.order_list_id if r.order_list_id is not None else -1,
        "clientOrderId": r.client_order_id or f"web-{r.id}",
        "price": m.price(r.price), "origQty": m.qty(r.quantity or r.filled_quantity),
        "executedQty": m.qty(r.filled_quantity), "cummulativeQuoteQty": m.quote_qty(r.filled_quote),
        "status": order_status(r), "timeInForce": r.tif, "type": order_type(r), "side": r.side,
        "stopPrice": m.price(r.stop_price), "icebergQty": m.qty(0), "time": ms(r.created_at),
        "updateTime": ms(r.updated_at), "isWorking": r.status in OPEN_STATUSES,
        "workingTime": ms(working) if working is not None else -1,
        "origQuoteOrderQty": m.quote_qty(conditional.sized_by_total(r)),
        "selfTradePreventionMode": "EXPIRE_TAKER",
    }
    if r.trailing_delta is not None:
        body["trailingDelta"] = r.trailing_delta
        if r.trail_extreme is not None and r.status == PENDING:
            body["trailingTime"] = ms(r.updated_at)
    return body


def _conditional_fields(r, body: dict) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """What a placement's or a cancel's answer adds for a conditional order (Binance:
    stopPrice "appears for STOP_LOSS, TAKE_PROFIT..." orders, trailingDelta for trailing
    ones), from the order's `_order_json` body."""
    if r.stop_type is None:
        return {}
    return {k: body[k] for k in ("stopPrice", "trailingDelta", "trailingTime") if k in body}


def _order_named(params: Params, by: tuple[str, str]) -> tuple[int | None, str | None]:
    """The order id and client order id sent in the parameters `by` (their names); at least
    one of them."""
    id_param, client_param = by
    order_id = params.integer(id_param)
    client_id = _client_id(params, client_param)
    if order_id is None and client_id is None:
        raise errors.either(client_param, id_param)
    return order_id, client_id


def _find_order(conn: Connection, user_id: int, m: Market, params: Params,  # type: ignore[no-untyped-def]
                by: tuple[str, str] = ("orderId", "origClientOrderId")):
    """The caller's order by its id or client order id (`by`: the two parameters' names);
    another user's is unknown."""
    order_id, client_id = _order_named(params, by)
    query = select(_orders).where(_orders.c.user_id == user_id,
                                  _orders.c.symbol == m.info.symbol)
    if order_id is not None:
        query = query.where(_orders.c.id == order_id)
    if client_id is not None:
        query = query.where(_orders.c.client_order_id == client_id)
    return conn.execute(query.order_by(_orders.c.id.desc()).limit(1)).first()


NEW_ORDER_PARAMS = ("symbol*", "side*", "type*", "timeInForce", "quantity", "quoteOrderQty",
                    "price", "stopPrice", "trailingDelta:int", "newClientOrderId",
                    "newOrderRespType", "icebergQty",
                    "selfTradePreventionMode")  # what `_request` reads (the OpenAPI lists them)
_LEG = ("Type", "Price", "StopPrice", "TrailingDelta:int", "TimeInForce", "ClientOrderId")
NEW_OCO_PARAMS = ("symbol*", "side*", "quantity*", "aboveType*", "belowType*",
                  *(f"{side}{p}" for side in ("above", "below") for p in _LEG[1:]),
                  "listClientOrderId", "newOrderRespType")  # what `new_oco` reads


def _request(m: Market, params: Params) -> OrderRequest:
    """Binance's order parameters as the service's `OrderRequest`."""
    side = params.text("side", required=True)
    if side not in ("BUY", "SELL"):
        raise errors.error(errors.BAD_SIDE)
    stp = params.text("selfTradePreventionMode") or "EXPIRE_TAKER"
    if stp == "NONE":  # the engine always prevents self-trades; Binance's default mode
        stp = "EXPIRE_TAKER"
    if stp not in ("EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"):
        raise errors.invalid("selfTradePreventionMode")
    if params.text("icebergQty") is not None:  # exchangeInfo says icebergAllowed: false
        raise errors.error(errors.NO_ICEBERGS)
    quantity = params.minor("quantity", m.base.precision)
    return _typed(m, params, side, quantity, stp, lambda name: name, "newClientOrderId")


def _typed(m: Market, params: Params, side: str, quantity: int | None, stp: str,
           name: Callable[[str], str], client_param: str) -> OrderRequest:
    """The type-specific parameters of an order, or of an OCO leg (`name` maps a parameter
    to the leg's: price -> abovePrice)."""
    kind = params.text(name("type"), required=True)
    if kind not in ("LIMIT", "MARKET", "LIMIT_MAKER", *CONDITIONAL):
        raise errors.error(errors.BAD_TYPE)
    client_id = _client_id(params, client_param)
    stop_type, runs = CONDITIONAL.get(kind, (None, kind))
    if stop_type is None:
        for extra in ("stopPrice", "trailingDelta"):
            if params.text(name(extra)) is not None:
                raise errors.not_required(name(extra))
        stop = delta = None
    else:
        stop = params.minor(name("stopPrice"), m.quote.precision)
        delta = params.integer(name("trailingDelta"), lo=1)  # out of range: the filter's -1013
        if stop is None and delta is None:
            raise errors.either(name("stopPrice"), name("trailingDelta"))
    if runs == "MARKET":
        if params.text(name("timeInForce")) is not None:
            raise errors.not_required(name("timeInForce"))
        if params.text(name("price")) is not None:
            raise errors.not_required(name("price"))
        spend = params.minor("quoteOrderQty", m.quote.precision)
        if (quantity is None) == (spend is None):
            raise errors.either("quantity", "quoteOrderQty")
        if spend is not None and side != "BUY" and stop_type is not None:
            raise errors.error(errors.BAD_COMBO)  # a stop-market sell is sized by quantity
        return OrderRequest(side, "market", quantity=quantity, quote_amount=spend, stp=stp,
                            client_order_id=client_id, stop_type=stop_type, stop_price=stop,
                            trailing_delta=delta)
    price = params.minor(name("price"), m.quote.precision, required=True)
    if quantity is None:
        raise errors.mandatory("quantity")
    if not price or not quantity:
        raise errors.error((-1013, "Filter failure: PRICE_FILTER" if not price
                            else "Filter failure: LOT_SIZE"))
    if runs == "LIMIT_MAKER":
        if params.text(name("timeInForce")) is not None:
            raise errors.not_required(name("timeInForce"))
        tif = "GTC"
    else:
        tif = params.text(name("timeInForce"), required=True)
        if tif not in ("GTC", "IOC", "FOK"):
            raise errors.error(errors.BAD_TIF)
    return OrderRequest(side, "limit", price=price, quantity=quantity, tif=tif,
                        post_only=runs == "LIMIT_MAKER", stp=stp, client_order_id=client_id,
                        stop_type=stop_type, stop_price=stop, trailing_delta=delta)


def _fills(m: Market, fills: tuple[service.Fill, ...], side: str) -> list[dict]:  # type: ignore[type-arg]
    asset = m.base.code if side == "BUY" else m.quote.code
    return [{"price": m.price(f.price), "qty": m.qty(f.quantity),
             "commission": m.minor(f.fee, asset), "commissionAsset": asset,
             "tradeId": f.trade_id} for f in fills]


def _new_request(m: Market, params: Params) -> tuple[OrderRequest, str]:
    """The order to place and the answer it wants (`newOrderRespType`)."""
    request = _request(m, params)
    if request.client_order_id is None:
        request = replace(request, client_order_id=secrets.token_urlsafe(16))
    # Binance: "MARKET and LIMIT order types default to FULL, all other orders default to ACK".
    response_type = params.text("newOrderRespType") or (
        "FULL" if params.text("type") in ("LIMIT", "MARKET") else "ACK")
    if response_type not in ("ACK", "RESULT", "FULL"):
        raise errors.invalid("newOrderRespType")
    return request, response_type


def _place(call: Call, request: OrderRequest, response_type: str) -> dict:  # type: ignore[type-arg]
    """Place the order (the screen's path) and answer as `POST /order` does."""
    m = call.market
    try:
        placed = service.place_order(call.user_id, m.info.symbol, request,
                                     authorize=call.authorize)
    except TradingError as exc:
        raise _refused(exc) from None
    row = SimpleNamespace(**placed.row)  # as committed: `_order_json` reads its columns
    ack = {"symbol": m.name, "orderId": row.id, "orderListId": -1,
           "clientOrderId": row.client_order_id, "transactTime": ms(row.created_at)}
    if response_type == "ACK":
        return ack
    full = _order_json(m, row)
    result = ack | {key: full[key] for key in (
        "price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty",
        "status", "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode")}
    result |= _conditional_fields(row, full)
    return result | {"fills": _fills(m, placed.fills, request.side)} \
        if response_type == "FULL" else result


@endpoint(1, security="SIGNED", scope="trade", counts_order=1, market=market_of,
          key_checked_in_command=True)
def new_order(call: Call) -> dict:  # type: ignore[type-arg]
    return _place(call, *_new_request(call.market, call.params))


@endpoint(1, security="SIGNED", scope="trade", market=market_of)
def test_order(call: Call) -> dict:  # type: ignore[type-arg]
    """Validates the order as placing it would, up to the balances (Binance's order/test:
    "does not send it into the matching engine"); nothing is placed."""
    m = call.market
    try:
        service.check_order(m.info.symbol, _request(m, call.params))
    except TradingError as exc:
        raise _refused(exc) from None
    return {}


@endpoint(4, security="SIGNED", market=market_of)
def get_order(call: Call) -> dict:  # type: ignore[type-arg]
    m = call.market
    with db.read() as conn:
        row = _find_order(conn, call.user_id, m, call.params)
    if row is None:
        raise errors.error(errors.NO_SUCH_ORDER)
    return _order_json(m, row)


def _cancelled(m: Market, row, orig_client_id: str | None) -> dict:  # type: ignore[no-untyped-def, type-arg]
    body = _order_json(m, row)
    return {"symbol": m.name, "origClientOrderId": orig_client_id or body["clientOrderId"],
            "orderId": row.id, "orderListId": body["orderListId"],
            "clientOrderId": secrets.token_urlsafe(16),
            "transactTime": server_ms(), **{k: body[k] for k in (
                "price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty",
                "status", "timeInForce", "type", "side", "selfTradePreventionMode")},
            **_conditional_fields(row, body)}


def _restriction(params: Params, name: str) -> frozenset[str] | None:
    """The statuses `cancelRestrictions` allows a cancel in (None: any)."""
    restriction = params.text(name)
    if restriction is not None and restriction not in CANCEL_RESTRICTIONS:
        raise errors.error(errors.BAD_CANCEL_RESTRICTIONS)
    return CANCEL_RESTRICTIONS.get(restriction)  # type: ignore[arg-type]


def _cancel(call: Call, by: tuple[str, str], only_if: frozenset[str] | None,
            cancel_client_id: str | None = None) -> dict:  # type: ignore[type-arg]
    """Cancel the caller's order named by the parameters `by` (the screen's path) and answer
    as `DELETE /order` does."""
    m = call.market
    with db.read() as conn:
        row = _find_order(conn, call.user_id, m, call.params, by)
    if row is None:
        raise errors.error(errors.UNKNOWN_ORDER)
    try:
        service.cancel_order(call.user_id, row.id, only_if=only_if)
    except TradingError as exc:
        raise _refused(exc) from None
    with db.read() as conn:
        row = conn.execute(select(_orders).where(_orders.c.id == row.id)).one()
    body = _cancelled(m, row, row.client_order_id)
    return body | {"clientOrderId": cancel_client_id} if cancel_client_id else body


@endpoint(1, security="SIGNED", scope="trade", market=market_of)
def cancel_order(call: Call) -> dict:  # type: ignore[type-arg]
    only_if = _restriction(call.params, "cancelRestrictions")
    return _cancel(call, ("orderId", "origClientOrderId"), only_if)


CANCEL_REPLACE_PARAMS = (*NEW_ORDER_PARAMS, "cancelReplaceMode*", "cancelOrderId:int",
                         "cancelOrigClientOrderId", "cancelNewClientOrderId",
                         "cancelRestrictions", "orderRateLimitExceededMode")
CANCEL_REPLACE_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")


def _cancels_over_the_limit(params: Params) -> bool:
    return params.text("orderRateLimitExceededMode") == "CANCEL_ONLY"


@endpoint(1, security="SIGNED", scope="trade", counts_order=1, market=market_of,
          over_order_limit=_cancels_over_the_limit)
def cancel_replace(call: Call) -> dict:  # type: ignore[type-arg]
    """Cancel an order, then place a new one on the same market: two commands, as Binance
    makes them (the cancel commits before the placement starts). The new order's parameters
    and filters are checked before anything is cancelled. Over the order limit, with
    `orderRateLimitExceededMode=CANCEL_ONLY`, the cancel still runs and the placement is
    refused (Binance's table: 429 for STOP_ON_FAILURE, 409 or 400 for ALLOW_FAILURE)."""
    params = call.params
    mode = params.text("cancelReplaceMode", required=True)
    if mode not in CANCEL_REPLACE_MODES:
        raise errors.invalid("cancelReplaceMode")
    if params.text("orderRateLimitExceededMode") not in (None, "DO_NOTHING", "CANCEL_ONLY"):
        raise errors.invalid("orderRateLimitExceededMode")
    only_if = _restriction(params, "cancelRestrictions")
    cancel_client_id = _client_id(params, "cancelNewClientOrderId")
    by = ("cancelOrderId", "cancelOrigClientOrderId")
    _order_named(params, by)  # named at all: checked before anything is done
    request, response_type = _new_request(call.market, params)
    try:
        service.check_order(call.market.info.symbol, request, against_book=False)
    except TradingError as exc:
        raise _refused(exc) from None
    outcome: dict = {"cancelResult": "SUCCESS", "newOrderResult": "NOT_ATTEMPTED"}  # type: ignore[type-arg]
    try:
        outcome["cancelResponse"] = _cancel(call, by, only_if, cancel_client_id)
    except errors.ApiError as exc:
        outcome |= {"cancelResult": "FAILURE", "cancelResponse": exc.body()}
    limited = call.order_refusal
    status = 429 if limited is not None and mode == "STOP_ON_FAILURE" else 400
    headers = limited.headers if limited is not None else None
    if outcome["cancelResult"] == "FAILURE" and mode == "STOP_ON_FAILURE":
        raise errors.ApiError(-2022, "Order cancel-replace failed.", status, headers,
                              data=outcome | {"newOrderResponse": None})
    if limited is not None:
        outcome |= {"newOrderResult": "FAILURE", "newOrderResponse": limited.body()}
        if outcome["cancelResult"] == "FAILURE":
            raise errors.ApiError(-2022, "Order cancel-replace failed.", status, headers,
                                  data=outcome)
        raise errors.ApiError(-2021, "Order cancel-replace partially failed.",
                              429 if mode == "STOP_ON_FAILURE" else 409, headers, data=outcome)
    try:
        outcome |= {"newOrderResult": "SUCCESS",
                    "newOrderResponse": _place(call, request, response_type)}
    except errors.ApiError as exc:
        outcome |= {"newOrderResult": "FAILURE", "newOrderResponse": exc.body()}
    failed = [key for key in ("cancelResult", "newOrderResult") if outcome[key] == "FAILURE"]
    if len(failed) == 2:
        raise errors.ApiError(-2022, "Order cancel-replace failed.", data=outcome)
    if failed:
        raise errors.ApiError(-2021, "Order cancel-replace partially failed.", 409, data=outcome)
    return outcome


def open_orders_weight(params: Params) -> int:
    """6 for a symbol, 80 for all (Binance's)."""
    return 6 if params.values.get("symbol") else 80


def my_trades_weight(params: Params) -> int:
    """5 with orderId, 20 without (Binance's)."""
    return 5 if params.values.get("orderId") else 20


@endpoint(open_orders_weight, security="SIGNED")
def open_orders(call: Call) -> list:  # type: ignore[type-arg]
    with db.read() as conn:
        single = market_of(conn, call.params, required=False)
        markets = {m.info.symbol: m for m in ([single] if single else all_markets(conn))}
        rows = conn.execute(select(_orders).where(
            _orders.c.user_id == call.user_id, _orders.c.status.in_(LIVE_STATUSES),
            _orders.c.symbol.in_(list(markets))).order_by(_orders.c.id))
        return [_order_json(markets[r.symbol], r) for r in rows]


@endpoint(1, security="SIGNED", scope="trade", market=market_of)
def cancel_open_orders(call: Call) -> list:  # type: ignore[type-arg]
    m = call.market
    with db.read() as conn:
        ids = list(conn.scalars(select(_orders.c.id).where(
            _orders.c.user_id == call.user_id, _orders.c.symbol == m.info.symbol,
            _orders.c.status.in_(LIVE_STATUSES))))
    if not ids:
        raise errors.error(errors.UNKNOWN_ORDER)
    service.cancel_all(call.user_id, m.info.symbol)
    with db.read() as conn:
        rows = conn.execute(select(_orders).where(_orders.c.id.in_(ids)).order_by(_orders.c.id))
        return [_cancelled(m, r, r.client_order_id) for r in rows]


# --- order lists (OCO) -------------------------------------------------------------------


def _list_json(m: Market, legs: list, reports: bool) -> dict:  # type: ignore[type-arg]
    """Binance's order list: `legs` are its two order rows."""
    live = any(leg.status in LIVE_STATUSES for leg in legs)
    first = legs[0]
    body = {
        "orderListId": first.order_list_id, "contingencyType": "OCO",
        "listStatusType": "EXEC_STARTED" if live else "ALL_DONE",
        "listOrderStatus": "EXECUTING" if live else "ALL_DONE",
        "listClientOrderId": list_client_id(first),
        "transactionTime": ms(max(leg.updated_at for leg in legs)), "symbol": m.name,
        "orders": [{"symbol": m.name, "orderId": leg.id,
                    "clientOrderId": leg.client_order_id or f"web-{leg.id}"} for leg in legs],
    }
    if reports:
        body["orderReports"] = [_order_json(m, leg) for leg in legs]
    return body


def _legs(conn: Connection, user_id: int, list_id: int):  # type: ignore[no-untyped-def]
    return list(conn.execute(select(_orders).where(
        _orders.c.order_list_id == list_id, _orders.c.user_id == user_id)
        .order_by(_orders.c.id)))


@endpoint(1, security="SIGNED", scope="trade", counts_order=2, market=market_of)
def new_oco(call: Call) -> dict:  # type: ignore[type-arg]
    """POST /api/v3/orderList/oco: aboveType/belowType legs; counts as two orders."""
    params = call.params
    m = call.market
    side = params.text("side", required=True)
    if side not in ("BUY", "SELL"):
        raise errors.error(errors.BAD_SIDE)
    quantity = params.minor("quantity", m.base.precision, required=True)
    legs = []
    for prefix in ("above", "below"):
        leg = _typed(m, params, side, quantity, "EXPIRE_TAKER",
                     lambda name, p=prefix: p + name[0].upper() + name[1:],
                     f"{prefix}ClientOrderId")
        if leg.client_order_id is None:
            leg = replace(leg, client_order_id=secrets.token_urlsafe(16))
        legs.append(leg)
    list_client_id = _client_id(params, "listClientOrderId")
    try:
        placed = service.place_oco(call.user_id, m.info.symbol, OcoRequest(
            side, quantity or 0, legs[0], legs[1], list_client_id))
    except TradingError as exc:
        raise _refused(exc) from None
    with db.read() as conn:
        return _list_json(m, _legs(conn, call.user_id, placed.order_list_id), reports=True)


def _find_list(conn: Connection, call: Call) -> list:  # type: ignore[type-arg]
    """The caller's order list by `orderListId`, or by its client id (the one it was placed
    with, or the `oco-<id>` a list placed without one answers with)."""
    list_id = call.params.integer("orderListId")
    if list_id is None:
        client = (_client_id(call.params, "origClientOrderId")
                  or _client_id(call.params, "listClientOrderId"))
        if client is None:
            raise errors.either("listClientOrderId", "orderListId")
        list_id = conn.scalar(select(_orders.c.order_list_id).where(
            _orders.c.user_id == call.user_id, _orders.c.list_client_order_id == client)
            .order_by(_orders.c.id.desc()).limit(1))
        if list_id is None and client.startswith("oco-") and client[4:].isdigit():
            list_id = int(client[4:])
    legs = _legs(conn, call.user_id, list_id) if list_id is not None else []
    if not legs:
        raise errors.ApiError(-2011, "Order list does not exist.")
    return legs


@endpoint(4, security="SIGNED")
def get_order_list(call: Call) -> dict:  # type: ignore[type-arg]
    with db.read() as conn:
        legs = _find_list(conn, call)
        m = {x.info.symbol: x for x in all_markets(conn)}[legs[0].symbol]
    return _list_json(m, legs, reports=False)


@endpoint(1, security="SIGNED", scope="trade", market=market_of)
def cancel_order_list(call: Call) -> dict:  # type: ignore[type-arg]
    m = call.market
    with db.read() as conn:
        legs = _find_list(conn, call)
    if legs[0].symbol != m.info.symbol:
        raise errors.ApiError(-2011, "Order list does not exist.")
    try:
        service.cancel_order_list(call.user_id, m.info.symbol, legs[0].order_list_id)
    except TradingError as exc:
        raise _refused(exc) from None
    with db.read() as conn:
        return _list_json(m, _legs(conn, call.user_id, legs[0].order_list_id), reports=True)


@endpoint(6, security="SIGNED")
def open_order_lists(call: Call) -> list:  # type: ignore[type-arg]
    with db.read() as conn:
        markets = {x.info.symbol: x for x in all_markets(conn)}
        rows = list(conn.execute(select(_orders).where(
            _orders.c.user_id == call.user_id, _orders.c.order_list_id.in_(
                select(_orders.c.order_list_id).where(
                    _orders.c.user_id == call.user_id, _orders.c.status.in_(LIVE_STATUSES),
                    _orders.c.order_list_id.is_not(None)))).order_by(_orders.c.id)))
    lists: dict[int, list] = {}  # type: ignore[type-arg]
    for r in rows:
        lists.setdefault(r.order_list_id, []).append(r)
    return [_list_json(markets[legs[0].symbol], legs, reports=False) for legs in lists.values()]


def _window(query, column, params: Params):  # type: ignore[no-untyped-def]
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None:
        query = query.where(column >= moment_of(start))
    if end is not None:
        query = query.where(column < moment_of(end + 1))
    return query


def _page(conn: Connection, query, column, params: Params, from_param: str,  # type: ignore[no-untyped-def]
          limit: int) -> list:  # type: ignore[type-arg]
    """Binance's paging, oldest first: from the id `from_param` or `startTime` on; else the
    most recent `limit` (before `endTime`, if sent)."""
    if params.integer(from_param) is not None or params.integer("startTime") is not None:
        return list(conn.execute(query.order_by(column).limit(limit)))
    return list(conn.execute(query.order_by(column.desc()).limit(limit)))[::-1]


@endpoint(20, security="SIGNED", market=market_of)
def all_orders(call: Call) -> list:  # type: ignore[type-arg]
    limit = call.params.integer("limit", default=500, lo=1, hi=1000)
    m = call.market
    with db.read() as conn:
        query = select(_orders).where(_orders.c.user_id == call.user_id,
                                      _orders.c.symbol == m.info.symbol)
        from_id = call.params.integer("orderId")
        if from_id is not None:
            query = query.where(_orders.c.id >= from_id)
        query = _window(query, _orders.c.created_at, call.params)
        rows = _page(conn, query, _orders.c.id, call.params, "orderId", limit)
        return [_order_json(m, r) for r in rows]


@endpoint(my_trades_weight, security="SIGNED", market=market_of)
def my_trades(call: Call) -> list:  # type: ignore[type-arg]
    limit = call.params.integer("limit", default=500, lo=1, hi=1000)
    user = call.user_id
    m = call.market
    with db.read() as conn:
        query = select(_trades).where(_trades.c.symbol == m.info.symbol, or_(
            _trades.c.maker_user_id == user, _trades.c.taker_user_id == user))
        order_id = call.params.integer("orderId")
        if order_id is not None:
            query = query.where(or_(_trades.c.maker_order_id == order_id,
                                    _trades.c.taker_order_id == order_id))
        from_id = call.params.integer("fromId")
        if from_id is not None:
            query = query.where(_trades.c.id >= from_id)
        query = _window(query, _trades.c.created_at, call.params)
        rows = _page(conn, query, _trades.c.id, call.params, "fromId", limit)
        # A self-trade cannot happen (self-trade prevention): the user is maker or taker.
        own_order = {r.id: r.maker_order_id if r.maker_user_id == user else r.taker_order_id
                     for r in rows}
        lists = dict(conn.execute(select(_orders.c.id, _orders.c.order_list_id).where(
            _orders.c.id.in_(set(own_order.values())),
            _orders.c.order_list_id.is_not(None))).all())
    result = []
    for r in rows:
        is_maker = r.maker_user_id == user
        is_buyer = (r.taker_side == "BUY") != is_maker
        asset = m.base.code if is_buyer else m.quote.code
        result.append({
            "symbol": m.name, "id": r.id, "orderId": own_order[r.id],
            "orderListId": lists.get(own_order[r.id], -1),
            "price": m.price(r.price), "qty": m.qty(r.quantity),
            "quoteQty": m.quote_qty(r.notional),
            "commission": m.minor(r.maker_fee if is_maker else r.taker_fee, asset),
            "commissionAsset": asset, "time": ms(r.created_at), "isBuyer": is_buyer,
            "isMaker": is_maker, "isBestMatch": True})
    return result


@endpoint(20, security="SIGNED")
def account(call: Call) -> dict:  # type: ignore[type-arg]
    with db.read() as conn:
        markets = all_markets(conn)
        account_id = _ledger_account(conn, call.user_id)
        balances = ledger.balances_of(conn, account_id) if account_id else {}
        precision = {m.base.code: m.base.precision for m in markets} | {
            m.quote.code: m.quote.precision for m in markets}
    maker = markets[0].info.maker_fee_bps if markets else 0
    taker = markets[0].info.taker_fee_bps if markets else 0
    scopes = call.caller.scopes if call.caller else frozenset()
    return {
        "makerCommission": maker, "takerCommission": taker, "buyerCommission": 0,
        "sellerCommission": 0, "commissionRates": _rates(maker, taker),
        "canTrade": "trade" in scopes, "canWithdraw": "withdraw" in scopes, "canDeposit": True,
        "brokered": False, "requireSelfTradePrevention": False, "preventSor": False,
        "updateTime": server_ms(), "accountType": "SPOT",
        "balances": [{"asset": asset, "free": plain_amount(free, precision.get(asset, 8)),
                      "locked": plain_amount(locked, precision.get(asset, 8))}
                     for asset, (free, locked) in sorted(balances.items())],
        "permissions": ["SPOT"], "uid": call.user_id,
    }


def _rate(bps: int) -> str:
    """A fee in basis points as Binance's rate: 20 -> '0.00200000'."""
    return plain_amount(bps * 10_000, 8)


def _rates(maker_bps: int, taker_bps: int) -> dict[str, str]:
    return {"maker": _rate(maker_bps), "taker": _rate(taker_bps), "buyer": _rate(0),
            "seller": _rate(0)}


@endpoint(20, security="SIGNED", market=market_of)
def commission(call: Call) -> dict:  # type: ignore[type-arg]
    """The market's commission rates for this account (every account pays the market's own;
    no special, tax or discounted rates)."""
    info = call.market.info
    return {"symbol": call.market.name,
            "standardCommission": _rates(info.maker_fee_bps, info.taker_fee_bps),
            "specialCommission": _rates(0, 0), "taxCommission": _rates(0, 0),
            "discount": {"enabledForAccount": False, "enabledForSymbol": False,
                         "discountAsset": "", "discount": _rate(0)}}


@endpoint(1, security="SIGNED")
def trade_fees(call: Call) -> list:  # type: ignore[type-arg]
    """/sapi/v1/asset/tradeFee (ccxt's fetch_trading_fees): each market's maker and taker
    rates, or the one `symbol`'s."""
    with db.read() as conn:
        single = market_of(conn, call.params, required=False)
        markets = [single] if single is not None else all_markets(conn)
    return [{"symbol": m.name, "makerCommission": _rate(m.info.maker_fee_bps),
             "takerCommission": _rate(m.info.taker_fee_bps)} for m in markets]


def _ledger_account(conn: Connection, user_id: int) -> int | None:
    return conn.scalar(select(_ledger_accounts.c.id)
                       .where(_ledger_accounts.c.user_id == user_id))


# --- the user data stream's listenKey (API key only, no signature, as Binance) ------------

def _listen_expiry():  # type: ignore[no-untyped-def]
    return now() + timedelta(minutes=get_settings().api_listen_key_minutes)


@endpoint(2, security="API_KEY")
def create_listen_key(call: Call) -> dict:  # type: ignore[type-arg]
    """One live listenKey per API key: asking again returns it, kept alive."""
    assert call.caller is not None
    with db.write() as conn:
        current = conn.scalar(select(_listen.c.listen_key).where(
            _listen.c.api_key_id == call.caller.key_id, _listen.c.expires_at > now()))
        if current is not None:
            conn.execute(update(_listen).where(_listen.c.listen_key == current)
                         .values(expires_at=_listen_expiry()))
            return {"listenKey": current}
        key = secrets.token_hex(30)
        conn.execute(insert(_listen).values(listen_key=key, api_key_id=call.caller.key_id,
                                            user_id=call.user_id, created_at=now(),
                                            expires_at=_listen_expiry()))
    return {"listenKey": key}


def _own_listen_key(call: Call):  # type: ignore[no-untyped-def]
    assert call.caller is not None
    key = call.params.text("listenKey", required=True)
    return (_listen.c.listen_key == key) & (_listen.c.api_key_id == call.caller.key_id) & (
        _listen.c.expires_at > now())


@endpoint(2, security="API_KEY")
def keep_alive_listen_key(call: Call) -> dict:  # type: ignore[type-arg]
    with db.write() as conn:
        if not conn.execute(update(_listen).where(_own_listen_key(call))
                            .values(expires_at=_listen_expiry())).rowcount:
            raise errors.error(errors.BAD_LISTEN_KEY)
    return {}


@endpoint(2, security="API_KEY")
def close_listen_key(call: Call) -> dict:  # type: ignore[type-arg]
    with db.write() as conn:
        if not conn.execute(delete(_listen).where(_own_listen_key(call))).rowcount:
            raise errors.error(errors.BAD_LISTEN_KEY)
    return {}
