"""The address book: validated before saving, usable only after the emailed confirmation and the
hold (controlled clock, hold length from the settings)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bitchange import db
from bitchange.wallet import address_book
from bitchange.wallet.errors import WalletError
from bitchange.wallet.tables import WithdrawalAddress
from tests.wallet.conftest import BTC_ADDRESS, ETH_ADDRESS, emails, token_in


def add(person, asset: str, address: str, label: str = "") -> int:  # type: ignore[no-untyped-def]
    with db.write() as conn:
        return address_book.add(conn, person.user_id, asset, address, label)


def entry(person, entry_id: int):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return address_book.get(conn, person.user_id, entry_id)


def confirm_latest(person) -> address_book.BookEntry:  # type: ignore[no-untyped-def]
    token = token_in(emails(person.email, "address_added")[-1])
    with db.write() as conn:
        return address_book.confirm(conn, token)


@pytest.mark.parametrize(("asset", "address"), [
    ("BTC", BTC_ADDRESS[:-1] + "v"),
    ("ETH", ETH_ADDRESS.lower()),
    ("USDT", BTC_ADDRESS),
    ("BTC", "not an address"),
])
def test_invalid_addresses_are_not_saved(world, asset, address):
    with pytest.raises(WalletError):
        add(world.alice, asset, address)
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(WithdrawalAddress.__table__)) == 0
    assert emails(world.alice.email, "address_added") == []


def test_confirmation_link_and_hold(world, settings):
    settings(WITHDRAWAL_ADDRESS_HOLD_HOURS="24")
    w = world
    entry_id = add(w.alice, "BTC", BTC_ADDRESS.upper(), "cold storage")
    saved = entry(w.alice, entry_id)
    assert saved.address == BTC_ADDRESS  # canonical form
    assert not saved.usable(w.clock.now())
    assert saved.state(w.clock.now()) == "awaiting email confirmation"
    [mail] = emails(w.alice.email, "address_added")
    assert BTC_ADDRESS in mail.text_body and "/wallet/address/confirm?token=" in mail.text_body

    # Not someone else's entry, and not someone else's link either.
    assert entry(w.bob, entry_id) is None
    with pytest.raises(WalletError, match="invalid, used or expired"), db.write() as conn:
        address_book.confirm(conn, "forged-token")

    w.clock.advance(hours=1)
    confirmed = confirm_latest(w.alice)
    assert confirmed.confirmed and not confirmed.usable(w.clock.now())
    assert entry(w.alice, entry_id).state(w.clock.now()).startswith("on hold until")
    # Single use.
    with pytest.raises(WalletError, match="invalid, used or expired"):
        confirm_latest(w.alice)
    w.clock.advance(hours=22, minutes=59)
    assert not entry(w.alice, entry_id).usable(w.clock.now())
    w.clock.advance(minutes=1)
    assert entry(w.alice, entry_id).usable(w.clock.now())

    # A shorter hold from the settings applies at once.
    other = add(w.alice, "ETH", ETH_ADDRESS)
    confirm_latest(w.alice)
    assert not entry(w.alice, other).usable(w.clock.now())
    settings(WITHDRAWAL_ADDRESS_HOLD_HOURS="0")
    assert entry(w.alice, other).usable(w.clock.now())


def test_confirmation_link_expires(world):
    add(world.alice, "BTC", BTC_ADDRESS)
    world.clock.advance(hours=24, seconds=1)
    with pytest.raises(WalletError, match="expired"):
        confirm_latest(world.alice)


def test_duplicates_removal_and_re_adding_restart_the_hold(world):
    w = world
    entry_id = add(w.alice, "BTC", BTC_ADDRESS)
    with pytest.raises(WalletError, match="already in your address book"):
        add(w.alice, "BTC", BTC_ADDRESS)
    add(w.bob, "BTC", BTC_ADDRESS)  # another user may have the same address
    confirm_latest(w.alice)
    w.clock.advance(hours=25)
    assert entry(w.alice, entry_id).usable(w.clock.now())
    with pytest.raises(WalletError, match="No such address"), db.write() as conn:
        address_book.remove(conn, w.bob.user_id, entry_id)  # not Bob's
    with db.write() as conn:
        address_book.remove(conn, w.alice.user_id, entry_id)
    assert entry(w.alice, entry_id) is None
    assert add(w.alice, "BTC", BTC_ADDRESS) == entry_id
    again = entry(w.alice, entry_id)
    assert not again.confirmed and not again.usable(w.clock.now())
