"""The app shell: top bar with the market list and account links, and the page frame."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.empty import empty_state
from bitchange.state.auth import SessionState
from bitchange.state.markets import MarketsState


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("chart-candlestick", size=22, color=rx.color("amber", 9)),
            rx.text("BitChange", weight="bold", size="5"),
            spacing="2", align="center",
        ),
        href=routes.HOME, underline="none", color_scheme="gray", high_contrast=True,
    )


def market_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(rx.button("Markets", rx.icon("chevron-down", size=14), variant="ghost",
                                  id="markets-menu")),
        rx.menu.content(
            rx.foreach(
                MarketsState.rows,
                lambda row: rx.menu.item(
                    rx.link(row["symbol"], href=row["href"], underline="none"),
                ),
            ),
            rx.menu.separator(),
            rx.menu.item(rx.link("All markets", href=routes.MARKETS, underline="none")),
        ),
    )


def account_links() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.hstack(
            rx.cond(SessionState.is_admin, rx.link("Admin", href=routes.ADMIN, id="nav-admin")),
            rx.link("Wallet", href=routes.WALLET, id="nav-wallet"),
            rx.link("Orders", href=routes.ORDERS, id="nav-orders"),
            rx.link("Staking", href=routes.STAKING, id="nav-staking"),
            rx.menu.root(
                rx.menu.trigger(rx.button("Account", rx.icon("chevron-down", size=14),
                                          variant="ghost", id="nav-account")),
                rx.menu.content(
                    rx.menu.item(rx.link("Verification", href=routes.VERIFICATION,
                                         underline="none", id="nav-verification")),
                    rx.menu.item(rx.link("Promo codes", href=routes.PROMOS, underline="none",
                                         id="nav-promos")),
                    rx.menu.item(rx.link("Support", href=routes.SUPPORT, underline="none",
                                         id="nav-support")),
                ),
            ),
            rx.link("Security", href=routes.SECURITY, id="nav-security"),
            rx.text(SessionState.email, size="2", color_scheme="gray", id="nav-email"),
            rx.button("Log out", variant="soft", size="1", on_click=SessionState.logout,
                      id="logout"),
            spacing="4", align="center",
        ),
        rx.hstack(
            rx.link(rx.button("Log in", variant="soft", size="2"), href=routes.LOGIN,
                    id="nav-login"),
            rx.link(rx.button("Sign up", size="2"), href=routes.SIGNUP, id="nav-signup"),
            spacing="3",
        ),
    )


# The full bar needs about 1,000 px; below 1,280 px (`lg`) its links fold into one menu.
FULL_BAR = rx.breakpoints(initial="none", lg="flex")
FOLDED_BAR = rx.breakpoints(initial="flex", lg="none")


def _menu_link(label: str, href: str, name: str) -> rx.Component:
    return rx.menu.item(label, on_click=rx.redirect(href), id=f"menu-{name}")


def folded_menu() -> rx.Component:
    """The top bar's links on a narrow screen: one button opens them all."""
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("menu", size=18), variant="soft",
                                       color_scheme="gray", aria_label="Menu", id="nav-menu")),
        rx.menu.content(rx.cond(
            SessionState.signed_in,
            rx.fragment(
                rx.box(rx.text(SessionState.email, size="1", color_scheme="gray"), id="menu-email",
                       padding_x="0.75em", padding_y="0.25em"),
                rx.cond(SessionState.is_admin, _menu_link("Admin", routes.ADMIN, "admin")),
                _menu_link("Wallet", routes.WALLET, "wallet"),
                _menu_link("Orders", routes.ORDERS, "orders"),
                _menu_link("Staking", routes.STAKING, "staking"),
                _menu_link("Verification", routes.VERIFICATION, "verification"),
                _menu_link("Promo codes", routes.PROMOS, "promos"),
                _menu_link("Support", routes.SUPPORT, "support"),
                _menu_link("Security", routes.SECURITY, "security"),
                rx.menu.separator(),
                rx.menu.item("Log out", on_click=SessionState.logout, color="red",
                             id="menu-logout"),
            ),
            rx.fragment(
                _menu_link("All markets", routes.MARKETS, "markets"),
                _menu_link("Log in", routes.LOGIN, "login"),
                _menu_link("Sign up", routes.SIGNUP, "signup"),
            ),
        ), align="end"),
    )


def top_bar() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.hstack(brand(), market_menu(), spacing="5", align="center"),
            rx.box(account_links(), display=FULL_BAR),
            rx.box(folded_menu(), display=FOLDED_BAR),
            justify="between", align="center", width="100%",
        ),
        padding_x=rx.breakpoints(initial="1em", sm="1.5em"), padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 2),
        position="sticky", top="0", z_index="10", id="top-bar",
    )


def unverified_banner() -> rx.Component:
    """Why a signed-in but unverified account cannot trade or withdraw."""
    return rx.cond(
        SessionState.signed_in & ~SessionState.email_verified,
        rx.callout(
            rx.hstack(
                rx.text("Confirm your email address to trade and withdraw. "
                        "We sent you a link when you signed up."),
                rx.link("Send a new link", href=routes.SECURITY),
                spacing="2",
            ),
            icon="mail-warning", color_scheme="amber", id="unverified-banner",
            margin_x="auto", max_width="1200px", margin_top="1em",
        ),
    )


def page(*children: rx.Component, max_width: str = "1200px") -> rx.Component:
    """Every page: top bar, then the content in a centred column."""
    return rx.box(
        top_bar(),
        unverified_banner(),
        rx.box(*children, max_width=max_width, margin_x="auto", padding="1.5em", width="100%"),
        rx.box(
            rx.text("BitChange — spot exchange. Trading crypto assets carries risk. ",
                    rx.link("Proof of reserves", href=routes.PROOF, id="footer-proof"),
                    size="1", color_scheme="gray"),
            padding="1.5em", text_align="center",
        ),
        min_height="100vh", background_color=rx.color("gray", 1),
    )


def market_table(rows, *, detailed: bool) -> rx.Component:  # type: ignore[no-untyped-def]
    headers = ["Market", "Last price", "24h change", "24h volume"]
    if detailed:
        headers += ["Tick", "Lot", "Status"]

    def row(r) -> rx.Component:  # type: ignore[no-untyped-def]
        cells = [
            rx.table.cell(rx.link(rx.text(r["symbol"], weight="bold"), href=r["href"])),
            rx.table.cell(r["last"]),
            rx.table.cell(r["change"]),
            rx.table.cell(r["volume"]),
        ]
        if detailed:
            cells += [
                rx.table.cell(r["tick"]),
                rx.table.cell(r["lot"]),
                rx.table.cell(rx.badge(r["status"], color_scheme=rx.cond(
                    r["status"] == "active", "green", "red"))),
            ]
        return rx.table.row(*cells, class_name="market-row")

    return rx.fragment(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, row)),
        variant="surface", width="100%", id="markets-table",
    ), empty_state(rows, "No markets are listed yet.", "Check back soon.", id_="markets-empty"))
