"""Admin: promo codes (create, activate/deactivate), redemptions per code, and funding the
promotions account through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import reflex as rx

from bitchange import db, routes
from bitchange.clock import now
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.promos import admin_views
from bitchange.promos import service as promos
from bitchange.state.admin import AdminForm, form_asset, form_funding
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
        self.notice = self.error = ""
        user, redirect = self._open(routes.ADMIN_PROMOS)
        if user is None:
            return redirect
        self._refresh()
        return None

    def _clear(self) -> None:
        self.codes, self.redemptions, self.pool = [], [], []

    @event
    def create(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            with db.write() as conn:
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
                    valid_until=_date(str(form.get("valid_until", "")),
                                      start + timedelta(days=30)),
                    condition=condition, condition_asset=condition_asset,
                    condition_amount=condition_amount, ip=client_ip(self))
            self.notice = "Code created."
        except (promos.PromoError, InputError) as exc:
            self.error = str(exc)
        self._refresh()

    @event
    def toggle(self, code_id: str, active: str) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            with db.write() as conn:
                promos.set_active(conn, admin.user_id, parse_id(code_id, "Unknown code."),
                                  active == "yes", ip=client_ip(self))
        except (promos.PromoError, ValueError) as exc:
            self.error = str(exc)
        self._refresh()

    @event
    def show(self, code: str) -> None:
        if self._admin() is None:
            return
        self.selected_code = code[:32]
        self._refresh()

    @event
    def fund(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            with db.write() as conn:
                asset, amount = form_funding(conn, form, promos.PromoError)
                promos.fund_promotions(conn, admin.user_id, asset, amount, source="fees",
                                       ip=client_ip(self))
            self.notice = f"Promotions account funded with {form.get('amount')} {asset}."
        except (promos.PromoError, AmountError) as exc:
            self.error = str(exc)
        self._refresh()
