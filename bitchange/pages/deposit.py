"""Deposit: the user's address for an asset, with a QR code and a copy button, or why deposits
of that asset are unavailable; and the user's recent deposits."""

from __future__ import annotations

import reflex as rx

from bitchange import db, routes
from bitchange.accounts.totp import qr_data_uri
from bitchange.clock import when
from bitchange.components.lists import table
from bitchange.components.wallet_frame import asset_tabs, frame
from bitchange.state.auth import current_user, navigate
from bitchange.state.events import event
from bitchange.trading.markets import assets
from bitchange.wallet import chains, deposits, history, rules


class DepositState(rx.State):
    access: str = "unknown"
    asset: str = "BTC"
    assets: list[str] = list(chains.SCHEMES)
    available: bool = False
    address: str = ""
    qr: str = ""
    network: str = ""
    reason: str = ""
    confirmations: int = 0
    rows: list[dict[str, str]] = []

    @event
    def load(self) -> rx.event.EventSpec | None:
        user = current_user(self)
        wanted = self.router.url.query_parameters.get("asset", "BTC").upper()
        if user is None:
            self.access, self.address, self.rows = "denied", "", []
            return navigate(routes.login(f"{routes.DEPOSIT}?asset={wanted}"))
        self.asset = wanted if wanted in chains.SCHEMES else "BTC"
        with db.write() as conn:  # the address is derived and stored on first use
            info = deposits.deposit_address(conn, user.user_id, self.asset)
            shown = assets(conn)[self.asset].format
            mine = history.entries(conn, user.user_id,
                                   history.Filters(type="deposit", asset=self.asset), limit=20)
        self.access = "ok"
        self.available, self.address, self.reason = info.available, info.address, info.reason
        self.network = info.network
        self.qr = qr_data_uri(info.address) if info.available else ""
        self.confirmations = rules.min_confirmations(self.asset)
        self.rows = [{"time": when(e.time), "amount": shown(e.amount),
                      "status": e.status, "detail": e.detail} for e in mine]
        return None


def deposit_page() -> rx.Component:
    S = DepositState
    address_card = rx.cond(
        S.available,
        rx.card(rx.vstack(
            rx.text("Send only ", S.asset, " on the ", S.network, " network to this address:",
                    size="2"),
            rx.image(src=S.qr, width="200px", height="200px", alt="Deposit address QR code",
                     background_color="white", padding="8px", id="deposit-qr"),
            rx.hstack(rx.code(S.address, id="deposit-address", size="3", overflow_wrap="anywhere"),
                      rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft",
                                on_click=[rx.set_clipboard(S.address),
                                          rx.toast("Address copied")],
                                id="deposit-copy"),
                      align="center", wrap="wrap"),
            rx.text("Deposits are credited after ", S.confirmations,
                    " network confirmations. You will get an email.", size="1",
                    color_scheme="gray"),
            spacing="3",
        )),
        rx.callout(S.reason, icon="circle-slash", color_scheme="amber",
                   id="deposit-unavailable"),
    )
    return frame(S.access, rx.vstack(
        rx.heading("Deposit ", S.asset, size="7"),
        asset_tabs(S.asset, S.assets, routes.DEPOSIT),
        address_card,
        rx.heading("Recent deposits", size="4", as_="h2"),
        table(["Time", "Amount", "Status", "Transaction"], S.rows,
              lambda r: [r["time"], r["amount"], r["status"], rx.code(r["detail"], size="1")],
              "deposit-row", "deposits-table",
              empty=("No deposits yet.", "Send funds to the address above: each deposit shows "
                     "here, and is credited once it has enough confirmations.")),
        spacing="4", width="100%",
    ))
