"""Admin: promo codes (create, activate/deactivate), redemptions per code, and the promotions
account with a form to fund it through the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import reflex as rx

from bitchange import db, routes
from bitchange.clock import now
from bitchange.components.empty import empty_state
from bitchange.inputs import InputError, parse_id, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.pages.admin_users import admin_frame, gate
from bitchange.pages.security import when
from bitchange.promos import service as promos
from bitchange.state.auth import client_ip, current_admin
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


class AdminPromosState(rx.State):
    access: str = "unknown"
    codes: list[dict[str, str]] = []
    redemptions: list[dict[str, str]] = []
    selected_code: str = ""
    pool: list[dict[str, str]] = []
    asset_codes: list[str] = []
    notice: str = ""
    error: str = ""

    def _refresh(self) -> None:
        with db.read() as conn:
            precisions = assets(conn)
            codes = promos.list_codes(conn)
            balance = promos.promotions_balance(conn)
            selected = next((c for c in codes if c.code == self.selected_code), None)
            rows = promos.redemptions(conn, code_id=selected.id) if selected else []

        def fmt(amount: int, asset: str) -> str:
            return precisions[asset].format(amount)

        def condition(c: promos.Code) -> str:
            if c.condition == "first_deposit_min":
                return f"first deposit ≥ {fmt(c.condition_amount, c.condition_asset)} " \
                       f"{c.condition_asset}"
            if c.condition == "kyc_level_min":
                return f"verification level ≥ {c.condition_amount}"
            return "—"

        self.asset_codes = list(precisions)
        self.codes = [{"id": str(c.id), "code": c.code, "reward": f"{fmt(c.amount, c.asset)} "
                       f"{c.asset}", "used": f"{c.redeemed_count} / {c.total_limit}",
                       "per_user": str(c.per_user_limit),
                       "window": f"{when(c.valid_from)} → {when(c.valid_until)}",
                       "condition": condition(c), "active": "yes" if c.active else "no"}
                      for c in codes]
        self.redemptions = [{"email": r.email, "time": when(r.created_at),
                             "amount": f"{fmt(r.amount, r.asset)} {r.asset}"} for r in rows]
        self.pool = [{"asset": a, "balance": fmt(balance.get(a, 0), a)} for a in precisions]

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        user, redirect = gate(self, routes.ADMIN_PROMOS)
        if user is None:
            self.access, self.codes, self.redemptions, self.pool = "denied", [], [], []
            return redirect
        self.access = "admin"
        self._refresh()
        return None

    def _admin(self):  # type: ignore[no-untyped-def]
        admin = current_admin(self)
        if admin is None:
            self.access, self.codes, self.redemptions, self.pool = "denied", [], [], []
        self.notice = self.error = ""
        return admin

    @event
    def create(self, form: dict) -> None:
        admin = self._admin()
        if admin is None:
            return
        try:
            with db.write() as conn:
                known = assets(conn)
                asset = str(form.get("asset", ""))
                if asset not in known:
                    raise promos.PromoError("Choose an asset.")
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
                    conn, admin.user_id, code=str(form.get("code", "")), asset=asset,
                    amount=parse_amount(str(form.get("amount", "")), known[asset].precision,
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
            asset = str(form.get("asset", ""))
            with db.write() as conn:
                known = assets(conn)
                if asset not in known:
                    raise promos.PromoError("Choose an asset.")
                promos.fund_promotions(conn, admin.user_id, asset,
                                       parse_amount(str(form.get("amount", "")),
                                                    known[asset].precision),
                                       source="fees",
                                       ip=client_ip(self))
            self.notice = f"Promotions account funded with {form.get('amount')} {asset}."
        except (promos.PromoError, AmountError) as exc:
            self.error = str(exc)
        self._refresh()


def _asset_select(name: str, element_id: str, *, blank: bool = False) -> rx.Component:
    return rx.el.select(*([rx.el.option("—", value="")] if blank else []),
                        rx.foreach(AdminPromosState.asset_codes,
                                   lambda a: rx.el.option(a, value=a)),
                        name=name, id=element_id)


def admin_promos() -> rx.Component:
    S = AdminPromosState
    codes = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in [
            "Code", "Reward", "Redeemed", "Per user", "Valid (UTC)", "Condition", "Active",
            ""]])),
        rx.table.body(rx.foreach(S.codes, lambda c: rx.table.row(
            rx.table.cell(rx.button(c["code"], variant="ghost", size="1",
                                    on_click=S.show(c["code"]), class_name="promo-show")),
            *[rx.table.cell(c[k]) for k in ["reward", "used", "per_user", "window",
                                             "condition", "active"]],
            rx.table.cell(rx.cond(
                c["active"] == "yes",
                rx.button("Deactivate", size="1", variant="soft", color_scheme="red",
                          on_click=S.toggle(c["id"], "no")),
                rx.button("Activate", size="1", variant="soft",
                          on_click=S.toggle(c["id"], "yes")))),
            class_name="promo-code-row"))),
        width="100%", size="1", id="promo-codes",
    )
    create = rx.card(rx.form(rx.vstack(
        rx.heading("New code", size="4"),
        rx.hstack(
            rx.input(name="code", placeholder="CODE", id="promo-new-code"),
            _asset_select("asset", "promo-new-asset"),
            rx.input(name="amount", placeholder="Reward amount", id="promo-new-amount"),
            rx.input(name="total", placeholder="Total redemptions", id="promo-new-total"),
            rx.input(name="per_user", placeholder="Per user (1)", id="promo-new-per-user"),
            wrap="wrap",
        ),
        rx.hstack(
            rx.input(name="valid_from", placeholder="From (UTC, default now)"),
            rx.input(name="valid_until", placeholder="Until (UTC, default +30 days)"),
            rx.el.select(*[rx.el.option(label, value=value)
                           for value, label in promos.CONDITIONS.items()],
                         name="condition", id="promo-new-condition"),
            _asset_select("condition_asset", "promo-new-condition-asset", blank=True),
            rx.input(name="condition_amount", placeholder="Minimum / level"),
            wrap="wrap",
        ),
        rx.button("Create code", type="submit", id="promo-create"),
        spacing="2",
    ), on_submit=S.create, reset_on_submit=False), width="100%")
    pool = rx.card(rx.vstack(
        rx.heading("Promotions account", size="4"),
        rx.table.root(rx.table.body(rx.foreach(S.pool, lambda r: rx.table.row(
            rx.table.cell(r["asset"]), rx.table.cell(r["balance"])))), size="1"),
        rx.form(rx.hstack(
            _asset_select("asset", "promo-fund-asset"),
            rx.input(name="amount", placeholder="Amount", id="promo-fund-amount"),
            rx.text("from collected fees", size="2", color_scheme="gray"),
            rx.button("Fund", type="submit", id="promo-fund-submit"),
        ), on_submit=S.fund, reset_on_submit=True),
        spacing="2",
    ), width="100%", max_width="720px")
    redemptions = rx.cond(S.selected_code != "", rx.card(rx.vstack(
        rx.heading("Redemptions of ", S.selected_code, size="4"),
        rx.table.root(rx.table.body(rx.foreach(S.redemptions, lambda r: rx.table.row(
            rx.table.cell(r["email"]), rx.table.cell(r["amount"]), rx.table.cell(r["time"]),
            class_name="promo-redemption-row"))), size="1", width="100%"),
        empty_state(S.redemptions, "Nobody has redeemed this code yet.",
                    id_="promo-redemptions-empty"),
    ), width="100%"))
    return admin_frame(S.access, rx.vstack(
        rx.heading("Promo codes", size="7"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="check", id="promo-admin-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                          id="promo-admin-error")),
        codes,
        empty_state(S.codes, "No promo codes yet.", "Create one with the form below.",
                    id_="promo-codes-empty"),
        redemptions, pool, create,
        spacing="3", width="100%",
    ))
