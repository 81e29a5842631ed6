"""Internal transfer to another BitChange user by email: 2FA, limits, a note; instant."""

from __future__ import annotations

import reflex as rx

from bitchange.components.lists import choice_select, messages
from bitchange.components.wallet_frame import frame
from bitchange.state.transfer import TransferState


def transfer_page() -> rx.Component:
    S = TransferState
    return frame(S.access, rx.vstack(
        rx.heading("Transfer to a BitChange user", size="7"),
        messages(S.notice, S.error),
        rx.card(rx.form(rx.vstack(
            rx.input(name="email", placeholder="Recipient's email", id="transfer-email",
                     width="100%", max_width="320px"),
            rx.hstack(choice_select(S.assets, "asset", "transfer-asset"),
                      rx.input(name="amount", placeholder="Amount", id="transfer-amount"),
                      wrap="wrap"),
            rx.input(name="note", placeholder="Note (optional, shown to both of you)",
                     id="transfer-note", width="100%", max_width="420px", max_length=140),
            rx.input(name="code", placeholder="2FA code", id="transfer-code", width="160px",
                     auto_complete="one-time-code"),
            rx.text("Transfers are instant and cannot be reversed. ", S.limit, size="1",
                    color_scheme="gray"),
            rx.button("Send", type="submit", id="transfer-submit"),
            spacing="2", width="100%",
        ), on_submit=S.send, reset_on_submit=True)),
        spacing="4", width="100%",
    ))
