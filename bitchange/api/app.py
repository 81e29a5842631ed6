"""The /api/v3 routes (mounted by bitchange.web)."""

from __future__ import annotations

from starlette.routing import Route

from bitchange.api import private, public

routes = [
    Route("/ping", public.ping, methods=["GET"]),
    Route("/time", public.time, methods=["GET"]),
    Route("/exchangeInfo", public.exchange_info, methods=["GET"]),
    Route("/depth", public.depth, methods=["GET"]),
    Route("/trades", public.trades, methods=["GET"]),
    Route("/aggTrades", public.agg_trades, methods=["GET"]),
    Route("/klines", public.klines, methods=["GET"]),
    Route("/ticker/24hr", public.ticker_24hr, methods=["GET"]),
    Route("/ticker/price", public.ticker_price, methods=["GET"]),
    Route("/ticker/bookTicker", public.ticker_book, methods=["GET"]),
    Route("/avgPrice", public.avg_price, methods=["GET"]),
    Route("/account", private.account, methods=["GET"]),
    Route("/order", private.new_order, methods=["POST"]),
    Route("/order", private.get_order, methods=["GET"]),
    Route("/order", private.cancel_order, methods=["DELETE"]),
    Route("/order/test", private.test_order, methods=["POST"]),
    Route("/orderList/oco", private.new_oco, methods=["POST"]),
    Route("/orderList", private.get_order_list, methods=["GET"]),
    Route("/orderList", private.cancel_order_list, methods=["DELETE"]),
    Route("/openOrderList", private.open_order_lists, methods=["GET"]),
    Route("/openOrders", private.open_orders, methods=["GET"]),
    Route("/openOrders", private.cancel_open_orders, methods=["DELETE"]),
    Route("/allOrders", private.all_orders, methods=["GET"]),
    Route("/myTrades", private.my_trades, methods=["GET"]),
    Route("/userDataStream", private.create_listen_key, methods=["POST"]),
    Route("/userDataStream", private.keep_alive_listen_key, methods=["PUT"]),
    Route("/userDataStream", private.close_listen_key, methods=["DELETE"]),
]
