"""The price chart: TradingView's lightweight-charts (imperative, canvas) behind a small local
React component (`candles.jsx`, beside this module), wrapped the documented way."""

from __future__ import annotations

import reflex as rx

_CHART_JS = rx.asset("candles.jsx", shared=True)


class Candles(rx.NoSSRComponent):
    """`data`: every candle (replaces the series); `tail`: live updates of the last candles;
    `marks`: dashed price lines (`price`, `title`, `side`), the user's pending triggers."""

    library = _CHART_JS.importable_path
    tag = "Candles"
    lib_dependencies: list[str] = ["lightweight-charts@5.2.1"]

    data: rx.Var[list[dict]]
    tail: rx.Var[list[dict]]
    price_decimals: rx.Var[int]
    marks: rx.Var[list[dict]]
    height: rx.Var[str]


candles = Candles.create
