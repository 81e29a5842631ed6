"""The wallet: balances per asset (total, available, in orders, pending withdrawal) and the
estimated total value in USDT from last prices."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.components.lists import table
from bitchange.components.wallet_frame import frame
from bitchange.money import format_asset
from bitchange.state import live
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import format_usdt
from bitchange.wallet.overview import overview


class WalletState(rx.State):
    access: str = "unknown"
    rows: list[dict[str, str]] = []
    total_usdt: str = ""
    unpriced: str = ""

    @event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        if user is None:
            self.access, self.rows, self.total_usdt = "denied", [], ""
            return navigate(routes.login(routes.WALLET))
        live.watch(self, live.for_user(WalletState._show), user_id=user.user_id,
                   activity=frozenset({live.LEDGER}))
        self._show(user.user_id)
        return None

    def _show(self, user_id: int) -> None:
        with db.read() as conn:
            view = overview(conn, user_id)
        self.access = "ok"

        def fmt(amount: int, line) -> str:  # type: ignore[no-untyped-def]
            return format_asset(amount, line.precision, line.decimals)

        self.rows = [{
            "asset": line.asset, "name": line.name, "total": fmt(line.total, line),
            "available": fmt(line.available, line), "in_orders": fmt(line.in_orders, line),
            "pending": fmt(line.pending_withdrawal, line),
            "value": "no price" if line.value_usdt is None else format_usdt(line.value_usdt),
            "deposit": f"{routes.DEPOSIT}?asset={line.asset}",
            "withdraw": f"{routes.WITHDRAW}?asset={line.asset}",
            "trade": routes.trade(f"{line.asset}-USDT") if line.asset != "USDT" else
            routes.trade("BTC-USDT"),
        } for line in view.lines]
        self.total_usdt = format_usdt(view.total_usdt)
        self.unpriced = ", ".join(view.unpriced)


def wallet_page() -> rx.Component:
    S = WalletState
    return frame(S.access, rx.vstack(
        rx.heading("Wallet", size="7"),
        rx.hstack(rx.text("Estimated total value:", weight="bold"),
                  rx.text(S.total_usdt, " USDT", id="wallet-total-usdt"),
                  rx.cond(S.unpriced != "", rx.text("(not counted, no price yet: ", S.unpriced,
                                                    ")", size="1", color_scheme="gray")),
                  align="center"),
        table(["Asset", "Total", "Available", "In orders", "Pending withdrawal", "Value (USDT)",
               ""], S.rows,
              lambda r: [rx.text(r["asset"], weight="bold"), r["total"], r["available"],
                         r["in_orders"], r["pending"], r["value"],
                         rx.hstack(rx.link("Deposit", href=r["deposit"]),
                                   rx.link("Withdraw", href=r["withdraw"]),
                                   rx.link("Trade", href=r["trade"]), spacing="3")],
              "wallet-row", "wallet-table",
              empty=("No assets listed.", "Assets appear here once the exchange lists them.")),
        spacing="4", width="100%",
    ))
