"""The one list table, the one notice/error pair, the one select of a list var and the one
on/off switch of a table row every screen uses."""

from __future__ import annotations

import reflex as rx

from bitchange.components.empty import empty_state


def messages(notice, error, *, id_: str = "") -> rx.Component:  # type: ignore[no-untyped-def]
    """The outcome of the user's last action; `id_`, when given, names the two callouts
    `{id_}-notice` and `{id_}-error`."""
    ids = ({"id": f"{id_}-notice"}, {"id": f"{id_}-error"}) if id_ else ({}, {})
    return rx.fragment(
        rx.cond(notice != "", rx.callout(notice, icon="circle-check", color_scheme="green",
                                         class_name="wallet-notice", **ids[0])),
        rx.cond(error != "", rx.callout(error, icon="triangle-alert", color_scheme="red",
                                        class_name="wallet-error", **ids[1])),
    )


def choice_select(choices, name: str, element_id: str, *,  # type: ignore[no-untyped-def]
                  blank: str = "") -> rx.Component:
    """A select of `choices` (a list var of strings); `blank`, when given, labels a first
    choice of "" (any, or none)."""
    return rx.el.select(*([rx.el.option(blank, value="")] if blank else []),
                        rx.foreach(choices, lambda c: rx.el.option(c, value=c)),
                        name=name, id=element_id)


def row_switch(is_on, stop: str, on_stop, start: str, on_start) -> rx.Component:  # type: ignore[no-untyped-def]
    """A row's on/off switch: the red `stop` button while `is_on`, else the `start` one."""
    return rx.cond(is_on,
                   rx.button(stop, size="1", variant="soft", color_scheme="red",
                             on_click=on_stop),
                   rx.button(start, size="1", variant="soft", on_click=on_start))


def table(headers: list[str], rows, cells, row_class: str, table_id: str, *,  # type: ignore[no-untyped-def]
          empty: tuple[str, str]) -> rx.Component:
    """`cells(row)` returns the row's cells (components or vars); `empty` is (what the list
    holds, what to do to fill it), said while it has no rows."""
    return rx.fragment(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
            *[rx.table.cell(c) for c in cells(r)], class_name=row_class))),
        width="100%", size="1", id=table_id,
    ), empty_state(rows, *empty, id_=f"{table_id}-empty"))
