"""Admin: promo codes (create, activate/deactivate), redemptions per code, and funding the
promotions account through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import reflex as rx
from sqlalchemy import Connection

from bitchange import db, routes
from bitchange.accounts.sessions import CurrentUser
from bitchange.clock import now
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import parse_amount
from bitchange.promos import admin_views
from bitchange.promos import service as promos
from bitchange.state.admin import AdminForm, form_asset
from bitchange.state.auth import client_ip
from bitchange.state.events import event
from bitchange.trading.markets import assets


def _date(text: str, default: datetime) -> datetime:
    text = (text or "").strip()
    if not text:
        return default
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise promos.PromoError("Dates are YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC).") from None


class AdminPromosState(AdminForm, rx.State):
    codes: list[dict[str, str]] = []
    redemptions: list[dict[str, str]] = []
    selected_code: str = ""
    pool: list[dict[str, str]] = []
    asset_codes: list[str] = []

    def _refresh(self) -> None:
        with db.read() as conn:
            view = admin_views.promos_page(conn, self.selected_code)
        self.asset_codes, self.codes = view.asset_codes, view.codes
        self.redemptions, self.pool = view.redemptions, view.pool

    @event
    def load(self) -> rx.event.EventSpec | None:
        return self._load(routes.ADMIN_PROMOS)

    def _clear(self) -> None:
        self.codes, self.redemptions, self.pool = [], [], []

    @event
    def create(self, form: dict) -> None:
        def act(conn: Connection, admin: CurrentUser) -> str:
            known = assets(conn)
            reward = form_asset(conn, form, promos.PromoError)
            condition = str(form.get("condition", "none"))
            condition_asset = str(form.get("condition_asset", ""))
            condition_amount = 0
            if condition == "first_deposit_min" and condition_asset in known:
                condition_amount = parse_amount(str(form.get("condition_amount", "")),
                                                known[condition_asset].precision,
                                                what="Minimum deposit")
            elif condition == "kyc_level_min":
                condition_amount = parse_whole(form.get("condition_amount") or "0",
                                               "The KYC level")
            start = _date(str(form.get("valid_from", "")), now())
            promos.create_code(
                conn, admin.user_id, code=str(form.get("code", "")), asset=reward.code,
                amount=parse_amount(str(form.get("amount", "")), reward.precision,
                                    what="Reward"),
                total_limit=parse_whole(form.get("total"), "Total redemptions", minimum=1),
                per_user_limit=parse_whole(form.get("per_user") or "1", "Redemptions per user",
                                           minimum=1),
                valid_from=start,
                valid_until=_date(str(form.get("valid_until", "")), start + timedelta(days=30)),
                condition=condition, condition_asset=condition_asset,
                condition_amount=condition_amount, ip=client_ip(self))
            return "Code created."

        self._write(act, promos.PromoError, InputError)

    @event
    def toggle(self, code_id: str, active: str) -> None:
        def act(conn: Connection, admin: CurrentUser) -> str:
            promos.set_active(conn, admin.user_id, parse_id(code_id, "Unknown code."),
                              active == "yes", ip=client_ip(self))
            return ""

        self._write(act, promos.PromoError, ValueError)

    @event
    def show(self, code: str) -> None:
        if self._admin() is None:
            return
        self.selected_code = code[:32]
        self._refresh()

    @event
    def fund(self, form: dict) -> None:
        self._fund(form, promos.fund_promotions, promos.PromoError, "Promotions account")
