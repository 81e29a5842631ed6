"""Admin dashboard card: markets. Halt/resume, cancel every order of a market, edit fees and
filters. Every handler re-checks the admin (with 2FA) on the server and writes the audit log."""

from __future__ import annotations

import reflex as rx
from sqlalchemy import func, select

from bitchange import db
from bitchange.accounts import audit
from bitchange.accounts.sessions import CurrentUser
from bitchange.components.empty import empty_state
from bitchange.inputs import InputError, parse_whole
from bitchange.money import AmountError, format_step, parse_amount
from bitchange.state.auth import client_ip, current_admin
from bitchange.state.events import event
from bitchange.trading import service
from bitchange.trading.markets import assets, get_market, list_markets
from bitchange.trading.service import OPEN_STATUSES, TradingError
from bitchange.trading.tables import Order

_orders = Order.__table__


def parse_rules(form: dict, base_precision: int, quote_precision: int) -> dict[str, int]:
    """The admin's edit form -> service arguments; ValueError with a message if invalid."""
    def amount(key: str, precision: int, what: str) -> int:
        try:
            return parse_amount(str(form.get(key, "")), precision, what=what)
        except AmountError as exc:
            raise ValueError(str(exc)) from None

    def bps(key: str, what: str) -> int:
        try:
            return parse_whole(form.get(key), what)
        except InputError:
            raise ValueError(f"{what} must be a whole number of basis points") from None

    min_text = str(form.get("min_notional", "")).strip()
    if min_text.replace("0", "").replace(".", "") == "" and min_text:
        min_text = "0"
    return {
        "tick_size": amount("tick", quote_precision, "Tick size"),
        "lot_size": amount("lot", base_precision, "Lot size"),
        "min_notional": 0 if min_text == "0" else amount(
            "min_notional", quote_precision, "Minimum total"),
        "maker_fee_bps": bps("maker", "Maker fee"),
        "taker_fee_bps": bps("taker", "Taker fee"),
    }


class AdminMarketsState(rx.State):
    rows: list[dict[str, str]] = []
    editing: str = ""  # symbol whose rules are being edited
    edit: dict[str, str] = {}
    error: str = ""
    notice: str = ""

    def _admin(self) -> CurrentUser | None:
        admin = current_admin(self)
        if admin is None:
            self.rows, self.editing, self.edit = [], "", {}
            self.notice, self.error = "", "Admins only"
        return admin

    def _reload(self) -> None:
        with db.read() as conn:
            infos = assets(conn)
            open_counts = dict(conn.execute(
                select(_orders.c.symbol, func.count()).where(_orders.c.status.in_(OPEN_STATUSES))
                .group_by(_orders.c.symbol)).all())
            markets = list_markets(conn)
        self.rows = [{
            "symbol": m.symbol, "status": m.status,
            "tick": format_step(m.tick_size, infos[m.quote].precision),
            "lot": format_step(m.lot_size, infos[m.base].precision),
            "min_notional": infos[m.quote].format(m.min_notional).replace(",", ""),
            "maker": str(m.maker_fee_bps), "taker": str(m.taker_fee_bps),
            "open_orders": str(open_counts.get(m.symbol, 0)),
            "base": m.base, "quote": m.quote,
        } for m in markets]

    def _audit(self, admin: CurrentUser, action: str, symbol: str, detail: str = "") -> None:
        with db.write() as conn:
            audit.record(conn, admin.user_id, action, symbol, ip=client_ip(self), detail=detail)

    @event
    def load(self) -> None:
        self.error = self.notice = ""
        self.editing, self.edit = "", {}
        if current_admin(self) is None:
            self.rows = []
            return
        self._reload()

    @event
    def set_status(self, symbol: str, status: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            service.set_market_status(symbol, status)
        except TradingError as exc:
            self.error, self.notice = str(exc), ""
            return
        self._audit(admin, "market_halt" if status == "halted" else "market_resume", symbol)
        self.error, self.notice = "", f"{symbol} is now {status}"
        self._reload()

    @event
    def cancel_market_orders(self, symbol: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        with db.read() as conn:
            known = get_market(conn, symbol) is not None
        if not known:
            self.error, self.notice = f"Unknown market {symbol}", ""
            return
        count = service.cancel_all(None, symbol)
        self._audit(admin, "market_cancel_all", symbol, f"{count} orders cancelled")
        self.error, self.notice = "", f"{count} open orders in {symbol} cancelled"
        self._reload()

    @event
    def start_edit(self, symbol: str) -> None:
        if self._admin() is None:
            return
        row = next((r for r in self.rows if r["symbol"] == symbol), None)
        if row is None:
            return
        self.editing = symbol
        self.edit = {k: row[k] for k in ("tick", "lot", "min_notional", "maker", "taker",
                                         "base", "quote")}
        self.error = self.notice = ""

    @event
    def cancel_edit(self) -> None:
        self.editing, self.edit = "", {}

    @event
    def save_rules(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        symbol = self.editing
        with db.read() as conn:
            market = get_market(conn, symbol)
            infos = assets(conn)
        if market is None:
            self.error = "Choose a market to edit"
            return
        try:
            rules = parse_rules(form, infos[market.base].precision, infos[market.quote].precision)
            service.update_market_rules(symbol, **rules)
        except (ValueError, TradingError) as exc:  # TradingError is a ValueError
            self.error, self.notice = str(exc), ""
            return
        before = (f"tick {market.tick_size} lot {market.lot_size} min {market.min_notional} "
                  f"fees {market.maker_fee_bps}/{market.taker_fee_bps}")
        after = (f"tick {rules['tick_size']} lot {rules['lot_size']} "
                 f"min {rules['min_notional']} "
                 f"fees {rules['maker_fee_bps']}/{rules['taker_fee_bps']}")
        self._audit(admin, "market_rules", symbol, f"{before} -> {after} (minor units, bps)")
        self.error, self.notice = "", f"{symbol} rules saved"
        self.editing, self.edit = "", {}
        self._reload()


def market_row(r: rx.Var) -> rx.Component:
    S = AdminMarketsState
    halted = r["status"] == "halted"  # type: ignore[index]
    return rx.table.row(
        rx.table.cell(rx.text(r["symbol"], weight="bold")),  # type: ignore[index]
        rx.table.cell(rx.badge(r["status"], color_scheme=rx.cond(halted, "red", "green"),  # type: ignore[index]
                               class_name="admin-market-status")),
        rx.table.cell(r["tick"]), rx.table.cell(r["lot"]), rx.table.cell(r["min_notional"]),  # type: ignore[index]
        rx.table.cell(r["maker"] + " / " + r["taker"]),  # type: ignore[index]
        rx.table.cell(r["open_orders"], class_name="admin-market-open"),  # type: ignore[index]
        rx.table.cell(rx.hstack(
            rx.cond(halted,
                    rx.button("Resume", size="1", variant="soft", color_scheme="green",
                              class_name="admin-market-resume",
                              on_click=S.set_status(r["symbol"], "active")),  # type: ignore[index]
                    rx.button("Halt", size="1", variant="soft", color_scheme="red",
                              class_name="admin-market-halt",
                              on_click=S.set_status(r["symbol"], "halted"))),  # type: ignore[index]
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Cancel orders", size="1", variant="soft",
                                                  color_scheme="orange",
                                                  class_name="admin-market-cancel-all")),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Cancel every open order in " + r["symbol"] + "?"),  # type: ignore[index]
                    rx.alert_dialog.description("Funds held by those orders are released to "
                                                "their owners. This cannot be undone."),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button("Keep them", variant="soft",
                                                         color_scheme="gray")),
                        rx.alert_dialog.action(rx.button(
                            "Cancel all orders", color_scheme="red",
                            class_name="admin-market-cancel-confirm",
                            on_click=S.cancel_market_orders(r["symbol"]))),  # type: ignore[index]
                        justify="end", spacing="3", margin_top="1em",
                    ),
                ),
            ),
            rx.button("Edit", size="1", variant="soft", class_name="admin-market-edit",
                      on_click=S.start_edit(r["symbol"])),  # type: ignore[index]
            spacing="2",
        )),
        class_name="admin-market-row",
    )


def rules_form() -> rx.Component:
    S = AdminMarketsState

    def box(label: rx.Var | str, name: str) -> rx.Component:
        return rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                         rx.input(name=name, default_value=S.edit[name], size="1",
                                  id=f"rules-{name}"),
                         spacing="1")

    return rx.cond(S.editing != "", rx.form(
        rx.vstack(
            rx.text("Edit ", S.editing, weight="bold", size="2"),
            rx.hstack(
                box("Tick (" + S.edit["quote"] + ")", "tick"),
                box("Lot (" + S.edit["base"] + ")", "lot"),
                box("Min total (" + S.edit["quote"] + ")", "min_notional"),
                box("Maker fee (bps)", "maker"),
                box("Taker fee (bps)", "taker"),
                spacing="2", wrap="wrap",
            ),
            rx.hstack(rx.button("Save", type="submit", size="1", id="rules-save"),
                      rx.button("Close", type="button", size="1", variant="soft",
                                color_scheme="gray", on_click=S.cancel_edit),
                      spacing="2"),
            spacing="2",
        ),
        on_submit=S.save_rules, reset_on_submit=False, key=S.editing, id="rules-form",
    ))


def markets_card() -> rx.Component:
    S = AdminMarketsState
    return rx.card(
        rx.vstack(
            rx.heading("Markets", size="4", as_="h2"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
                    "Market", "Status", "Tick", "Lot", "Min total", "Fees (bps)",
                    "Open orders", ""]])),
                rx.table.body(rx.foreach(S.rows, market_row)),
                size="1", width="100%", id="admin-markets",
            ),
            empty_state(S.rows, "No markets yet.", "Markets are created by `python -m "
                        "bitchange migrate` from the reference data.", id_="admin-markets-empty"),
            rules_form(),
            rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red",
                                              size="1", id="admin-markets-error")),
            rx.cond(S.notice != "", rx.callout(S.notice, icon="circle-check",
                                               color_scheme="green", size="1",
                                               id="admin-markets-notice")),
            spacing="3", width="100%",
        ),
        width="100%", max_width="900px",
    )
