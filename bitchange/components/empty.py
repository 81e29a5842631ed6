"""The one empty state for every list: what the list holds and what to do to fill it."""

from __future__ import annotations

import reflex as rx


def empty_state(rows: rx.Var | list[rx.Var], what: str, todo: str = "", *,
                id_: str) -> rx.Component:
    """Shown while `rows` (or every list of `rows`) is empty, below the list's headers."""
    lists = rows if isinstance(rows, list) else [rows]
    empty = lists[0].length() == 0  # type: ignore[attr-defined]
    for more in lists[1:]:
        empty = empty & (more.length() == 0)  # type: ignore[attr-defined]
    return rx.cond(empty, rx.vstack(
        rx.text(what, size="2", weight="medium"),
        *([rx.text(todo, size="1", color_scheme="gray")] if todo else []),
        spacing="1", align="center", text_align="center", width="100%", padding_y="1em",
        class_name="empty-state", id=id_,
    ))
