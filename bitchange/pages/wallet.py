"""The wallet: balances per asset (total, available, in orders, pending withdrawal) and the
estimated total value in USDT from last prices."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import table
from bitchange.components.wallet_frame import frame
from bitchange.state.wallet import WalletState


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
