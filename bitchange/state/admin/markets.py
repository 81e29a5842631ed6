"""Admin dashboard card: markets. Halt/resume, cancel every order of a market, edit fees and
filters. Every handler re-checks the admin (with 2FA) on the server and writes the audit log."""

from __future__ import annotations

import reflex as rx

from bitchange import db
from bitchange.accounts import audit
from bitchange.accounts.sessions import CurrentUser
from bitchange.inputs import InputError, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.state.admin import AdminPage
from bitchange.state.auth import client_ip
from bitchange.state.events import event
from bitchange.trading import admin_views, service
from bitchange.trading.markets import assets, get_market
from bitchange.trading.service import TradingError


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


class AdminMarketsState(AdminPage, rx.State):
    """A card of the dashboard (`state.admin.overview` decides what the page shows)."""

    rows: list[dict[str, str]] = []
    editing: str = ""  # symbol whose rules are being edited
    edit: dict[str, str] = {}
    error: str = ""
    notice: str = ""

    def _clear(self) -> None:
        self.rows, self.editing, self.edit = [], "", {}
        self.notice, self.error = "", "Admins only"

    def _reload(self) -> None:
        with db.read() as conn:
            self.rows = admin_views.market_rows(conn)

    def _audit(self, admin: CurrentUser, action: str, symbol: str, detail: str = "") -> None:
        with db.write() as conn:
            audit.record(conn, admin.user_id, action, symbol, ip=client_ip(self), detail=detail)

    @event
    def load(self) -> None:
        self.error = self.notice = ""
        self.editing, self.edit = "", {}
        if self._admin() is not None:
            self.access = "admin"
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
