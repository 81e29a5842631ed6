"""The withdrawal address book.

An address is validated for its asset (format and checksum) before it is saved. It becomes
usable only after the owner confirms it from an emailed link and after a hold that starts when
it was added (`WITHDRAWAL_ADDRESS_HOLD_HOURS`, 24 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from bitchange import routes
from bitchange.accounts.notices import notify
from bitchange.accounts.tokens import new_token, token_hash
from bitchange.clock import now
from bitchange.mail.templates import Link, public_link
from bitchange.wallet import chains, rules
from bitchange.wallet.errors import WalletError
from bitchange.wallet.tables import WithdrawalAddress

_book = WithdrawalAddress.__table__
MAX_ADDRESSES = 50


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class BookEntry:
    id: int
    asset: str
    address: str
    label: str
    created_at: datetime
    confirmed: bool
    usable_from: datetime

    def usable(self, moment: datetime) -> bool:
        return self.confirmed and moment >= self.usable_from

    def state(self, moment: datetime) -> str:
        if not self.confirmed:
            return "awaiting email confirmation"
        if moment < self.usable_from:
            return f"on hold until {_fmt(self.usable_from)}"
        return "ready"


def _entry(row) -> BookEntry:  # type: ignore[no-untyped-def]
    return BookEntry(row.id, row.asset, row.address, row.label, row.created_at,
                     row.confirmed_at is not None, row.created_at + rules.address_hold())


def entries(conn: Connection, user_id: int, asset: str | None = None) -> list[BookEntry]:
    query = select(_book).where(_book.c.user_id == user_id, _book.c.removed_at.is_(None))
    if asset:
        query = query.where(_book.c.asset == asset)
    return [_entry(r) for r in conn.execute(query.order_by(_book.c.id))]


def get(conn: Connection, user_id: int, entry_id: int) -> BookEntry | None:
    row = conn.execute(select(_book).where(
        _book.c.id == entry_id, _book.c.user_id == user_id, _book.c.removed_at.is_(None))).first()
    return _entry(row) if row else None


def add(conn: Connection, user_id: int, asset: str, address: str, label: str = "") -> int:
    """Validate and save; emails the confirmation link. Re-adding a removed address starts its
    confirmation and hold again."""
    if asset not in chains.SCHEMES:
        raise WalletError(f"{asset} withdrawals are not supported.")
    try:
        canonical = chains.validate_address(asset, address)
    except chains.AddressError as exc:
        raise WalletError(str(exc)) from None
    label = " ".join((label or "").split())[:60]
    token = new_token()
    values = {"label": label, "created_at": now(), "confirmed_at": None, "removed_at": None,
              "token_hash": token_hash(token),
              "token_expires_at": now() + rules.ADDRESS_CONFIRM_LIFETIME}
    existing = conn.execute(select(_book.c.id, _book.c.removed_at).where(
        _book.c.user_id == user_id, _book.c.asset == asset,
        _book.c.address == canonical)).first()
    if existing is not None and existing.removed_at is None:
        raise WalletError("This address is already in your address book.")
    if existing is not None:
        entry_id = existing.id
        conn.execute(update(_book).where(_book.c.id == entry_id).values(**values))
    else:
        count = len(entries(conn, user_id))
        if count >= MAX_ADDRESSES:
            raise WalletError(f"Your address book is full ({MAX_ADDRESSES} addresses).")
        entry_id = conn.execute(_book.insert().values(
            user_id=user_id, asset=asset, address=canonical, **values)).inserted_primary_key[0]
    hold_hours = rules.address_hold().total_seconds() / 3600
    notify(conn, user_id, "address_added", f"Confirm your new {asset} withdrawal address", [
        f"A {asset} withdrawal address was added to your address book: {canonical}"
        + (f" ({label})" if label else "") + ".",
        "It can be used only after you confirm it with the link below (valid 24 hours), and "
        f"{hold_hours:g} hours after it was added.",
        "If you did not add it, do not click the link: change your password and contact "
        "support.",
    ], link=Link("Confirm this address", public_link(routes.ADDRESS_CONFIRM, token=token)))
    return entry_id


def peek_token(conn: Connection, token: str) -> BookEntry | None:
    if not token:
        return None
    row = conn.execute(select(_book).where(
        _book.c.token_hash == token_hash(token), _book.c.confirmed_at.is_(None),
        _book.c.removed_at.is_(None))).first()
    if row is None or row.token_expires_at is None or now() >= row.token_expires_at:
        return None
    return _entry(row)


def confirm(conn: Connection, token: str) -> BookEntry:
    """Confirm from the emailed link (single use, expiring)."""
    entry = peek_token(conn, token)
    if entry is None:
        raise WalletError("This confirmation link is invalid, used or expired.")
    done = conn.execute(update(_book).where(
        _book.c.id == entry.id, _book.c.confirmed_at.is_(None),
        _book.c.token_hash == token_hash(token)).values(confirmed_at=now(), token_hash=None))
    if done.rowcount != 1:
        raise WalletError("This confirmation link is invalid, used or expired.")
    return BookEntry(entry.id, entry.asset, entry.address, entry.label, entry.created_at, True,
                     entry.usable_from)


def remove(conn: Connection, user_id: int, entry_id: int) -> None:
    done = conn.execute(update(_book).where(
        _book.c.id == entry_id, _book.c.user_id == user_id, _book.c.removed_at.is_(None)
    ).values(removed_at=now(), token_hash=None))
    if done.rowcount != 1:
        raise WalletError("No such address in your address book.")
