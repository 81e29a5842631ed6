"""Admin: the keys (IP addresses, accounts) refused by a rate limit within the last day."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state
from bitchange.pages.admin_users import admin_frame
from bitchange.state.admin.rate_limits import AdminRateLimitsState

_COLUMNS = [("Last refused", "when"), ("Action", "action"), ("By", "scope"), ("Key", "key"),
            ("Limit", "limit"), ("Refusals (24 h)", "count")]


def admin_rate_limits() -> rx.Component:
    S = AdminRateLimitsState
    return admin_frame(S.access, rx.vstack(
        rx.hstack(rx.heading("Rate limits", size="7"),
                  rx.button("Refresh", on_click=S.refresh, variant="soft",
                            id="rate-limits-refresh"), align="center", spacing="4"),
        rx.text("Who was refused lately (newest first). The limits are settings "
                "(RATE_LIMIT_<ACTION>_IP and _ACCOUNT, docs/deploy.md).", size="2",
                color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                           for h, _ in _COLUMNS])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                *[rx.table.cell(r[k]) for _, k in _COLUMNS], class_name="rate-limit-row"))),
            width="100%", id="rate-limits-table",
        ),
        empty_state(S.rows, "Nobody was rate limited.", "Refused sign-ups, logins, orders, "
                    "withdrawals and requests appear here.", id_="rate-limits-empty"),
        spacing="3", width="100%",
    ))
