"""The price-alert toast: pinned to the corner of an open screen when one of the user's alerts
fires (bitchange.state.alerts.AlertToastState, pushed live)."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.state.alerts import AlertToastState


def alert_toast() -> rx.Component:
    S = AlertToastState
    return rx.cond(S.messages.length() > 0, rx.box(rx.callout(rx.vstack(
        rx.text("Price alert", weight="bold"),
        rx.foreach(S.messages, lambda m: rx.text(m, size="2", class_name="alert-message")),
        rx.hstack(rx.link("Alerts", href=routes.ALERTS, size="2"),
                  rx.button("Dismiss", size="1", variant="soft", on_click=S.dismiss,
                            id="alert-toast-dismiss")),
        spacing="1",
    ), icon="bell-ring", color_scheme="amber"), position="fixed", bottom="1em", right="1em",
        z_index="1000", max_width="380px", id="alert-toast", role="status"))
