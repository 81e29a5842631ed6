"""The operators' dashboard: reconciliation, backups and jobs, markets, withdrawal switches,
and the admin area's navigation. Access is decided on the server (`state.admin.overview`)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.empty import empty_state
from bitchange.components.shell import page
from bitchange.pages.admin_markets import markets_card
from bitchange.pages.wallet_controls import withdrawal_switches_card
from bitchange.state.admin.overview import AdminState


def reconcile_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Ledger reconciliation", size="4", as_="h2"),
                rx.cond(AdminState.reconcile_ok,
                        rx.badge("Balanced", color_scheme="green", id="reconcile-status"),
                        rx.badge("Discrepancies", color_scheme="red", id="reconcile-status")),
                justify="between", width="100%",
            ),
            rx.text(AdminState.reconcile_summary, size="2", id="reconcile-summary"),
            rx.foreach(AdminState.reconcile_lines,
                       lambda line: rx.code(line, color_scheme="red")),
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Asset"),
                                             rx.table.column_header_cell("Net deposits"))),
                rx.table.body(rx.foreach(AdminState.totals, lambda t: rx.table.row(
                    rx.table.cell(t["asset"]), rx.table.cell(t["deposited"])))),
                size="1", width="100%",
            ),
            rx.button("Run again", on_click=AdminState.run_reconcile, size="1", variant="soft",
                      id="reconcile-run"),
            spacing="3", width="100%",
        ),
        width="100%", max_width="520px",
    )


def operations_card() -> rx.Component:
    status_color = rx.cond(AdminState.backup_stale, "red",
                           rx.cond(AdminState.backup_configured, "green", "gray"))
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Backups and jobs", size="4", as_="h2"),
                rx.cond(AdminState.backup_stale,
                        rx.badge("Backup overdue", color_scheme="red", id="backup-status"),
                        rx.cond(AdminState.backup_configured,
                                rx.badge("Backup fresh", color_scheme="green",
                                         id="backup-status"),
                                rx.badge("Backups not configured", color_scheme="gray",
                                         id="backup-status"))),
                justify="between", width="100%",
            ),
            rx.text("Last good backup: ", AdminState.backup_last_ok, size="2",
                    id="backup-last-ok"),
            rx.text("Age: ", AdminState.backup_age, size="2", color_scheme=status_color,
                    weight="bold", id="backup-age"),
            rx.cond(AdminState.backup_last_error != "",
                    rx.callout("Last backup FAILED: " + AdminState.backup_last_error,
                               icon="triangle-alert", color_scheme="red", size="1",
                               id="backup-failed")),
            rx.text("Scheduler leader: ", AdminState.scheduler_leader,
                    rx.cond(AdminState.scheduler_alive, " (alive)", " (NOT running)"),
                    size="2", color_scheme=rx.cond(AdminState.scheduler_alive, "gray", "red"),
                    id="scheduler-status"),
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Job"), rx.table.column_header_cell("Last run"),
                    rx.table.column_header_cell("Outcome"))),
                rx.table.body(rx.foreach(AdminState.jobs, lambda j: rx.table.row(
                    rx.table.cell(j["job"]), rx.table.cell(j["started"]),
                    rx.table.cell(rx.badge(j["status"], color_scheme=rx.match(
                        j["status"], ("ok", "green"), ("failed", "red"), "gray"),
                        title=j["detail"])),
                    class_name="job-row"))),
                size="1", width="100%", id="jobs-table",
            ),
            empty_state(AdminState.jobs, "No job has run yet.", "The scheduler records each "
                        "run here; check that it is running.", id_="jobs-empty"),
            rx.button("Refresh", on_click=AdminState.refresh_operations, size="1",
                      variant="soft", id="operations-refresh"),
            spacing="3", width="100%",
        ),
        width="100%", max_width="620px",
    )


def admin_nav() -> rx.Component:
    return rx.hstack(
        rx.link("Dashboard", href=routes.ADMIN),
        rx.link("Users", href=routes.ADMIN_USERS, id="admin-nav-users"),
        rx.link("Audit log", href=routes.ADMIN_AUDIT, id="admin-nav-audit"),
        rx.link("Outbox", href=routes.ADMIN_OUTBOX, id="admin-nav-outbox"),
        rx.link("Deposits", href=routes.ADMIN_DEPOSITS, id="admin-nav-deposits"),
        rx.link("Withdrawals", href=routes.ADMIN_WITHDRAWALS, id="admin-nav-withdrawals"),
        rx.link("Verification", href=routes.ADMIN_KYC, id="admin-nav-kyc"),
        rx.link("Staking", href=routes.ADMIN_STAKING, id="admin-nav-staking"),
        rx.link("Support", href=routes.ADMIN_SUPPORT, id="admin-nav-support"),
        rx.link("Promo codes", href=routes.ADMIN_PROMOS, id="admin-nav-promos"),
        rx.link("Rate limits", href=routes.ADMIN_RATE_LIMITS, id="admin-nav-rate-limits"),
        rx.link("Proof of reserves", href=routes.ADMIN_PROOF, id="admin-nav-proof"),
        spacing="4", wrap="wrap",  # several lines on a phone
    )


def admin() -> rx.Component:
    return page(
        rx.match(
            AdminState.access,
            ("needs_2fa", rx.callout(
                rx.hstack(rx.text("Admin accounts must have two-factor authentication. Turn it "
                                  "on in the security centre, then come back."),
                          rx.link("Security centre", href=routes.SECURITY)),
                icon="shield-alert", color_scheme="amber", id="admin-needs-2fa")),
            ("admin", rx.vstack(rx.heading("Admin dashboard", size="7"), admin_nav(),
                                reconcile_card(),
                                operations_card(), markets_card(),
                                withdrawal_switches_card(), spacing="4")),
            ("denied", rx.callout(
                "Admins only. Your account does not have access to this area.",
                icon="shield-alert", color_scheme="red", id="admin-denied")),
            rx.text("Checking access…", color_scheme="gray"),
        )
    )
