"""A client's local order book kept as Binance documents ("How to manage a local order book
correctly", web-socket-streams.md): a REST snapshot plus the buffered diff events."""

from __future__ import annotations

from decimal import Decimal


class OutOfSync(AssertionError):
    """The events do not chain onto the snapshot (the procedure says: start again)."""


def local_book(snapshot: dict, events: list[dict]) -> tuple[dict[Decimal, Decimal],
                                                            dict[Decimal, Decimal]]:
    """Steps 4-9: drop events with u <= lastUpdateId; the first kept one must straddle
    lastUpdateId+1; each next U is the previous u+1; quantities are absolute, 0 removes."""
    last_id = snapshot["lastUpdateId"]
    bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
    asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}
    previous_u = None
    for event in events:
        if event["u"] <= last_id:
            continue
        if previous_u is None:
            if not event["U"] <= last_id + 1 <= event["u"]:
                raise OutOfSync(f"first event {event['U']}..{event['u']} after {last_id}")
        elif event["U"] != previous_u + 1:
            raise OutOfSync(f"gap: {previous_u} then {event['U']}")
        previous_u = event["u"]
        for side, levels in ((bids, event["b"]), (asks, event["a"])):
            for price, quantity in levels:
                if Decimal(quantity) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = Decimal(quantity)
    return bids, asks


def as_book(snapshot: dict) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    return local_book(snapshot, [])
