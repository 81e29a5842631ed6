"""The operator's withdrawal switches: pause all withdrawals, or one asset's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from bitchange.accounts import audit
from bitchange.clock import now
from bitchange.wallet import chains
from bitchange.wallet.errors import WalletError
from bitchange.wallet.tables import WalletControl

_controls = WalletControl.__table__
ALL = "*"


def _key(scope: str) -> str:
    return f"withdrawals:{scope}"


@dataclass(frozen=True)
class Pause:
    scope: str  # "*" or an asset code
    paused: bool
    reason: str


def pauses(conn: Connection) -> dict[str, Pause]:
    rows = conn.execute(select(_controls).where(_controls.c.key.like("withdrawals:%")))
    found = {}
    for r in rows:
        scope = r.key.split(":", 1)[1]
        found[scope] = Pause(scope, bool(r.paused), r.reason)
    return found


def paused_reason(conn: Connection, asset: str) -> str | None:
    """Why withdrawals of `asset` are paused, or None if they are not."""
    current = pauses(conn)
    for scope, label in ((ALL, "all withdrawals"), (asset, f"{asset} withdrawals")):
        pause = current.get(scope)
        if pause and pause.paused:
            why = f": {pause.reason}" if pause.reason else ""
            return f"The operator has paused {label}{why}. Try again later."
    return None


def set_paused(conn: Connection, admin_id: int, scope: str, paused: bool, *, reason: str = "",
               ip: str = "") -> None:
    """Pause or resume (audited). `scope` is "*" or an asset code."""
    key, reason = _key(scope), " ".join((reason or "").split())[:200]
    values = {"paused": paused, "reason": reason if paused else "", "updated_by": admin_id,
              "updated_at": now()}
    if conn.execute(update(_controls).where(_controls.c.key == key).values(**values)).rowcount == 0:
        conn.execute(insert(_controls).values(key=key, **values))
    audit.record(conn, admin_id, "withdrawals_paused" if paused else "withdrawals_resumed",
                 "all assets" if scope == ALL else scope, ip=ip, detail=reason)


def toggle(conn: Connection, admin_id: int, scope: str, *, reason: str = "",
           ip: str = "") -> bool:
    """Pause a running switch or resume a paused one; True when it is now paused. `scope` is
    "*" or a withdrawable asset, anything else is refused."""
    if scope != ALL and scope not in chains.SCHEMES:
        raise WalletError("Unknown switch.")
    current = pauses(conn).get(scope)
    paused = not (current and current.paused)
    set_paused(conn, admin_id, scope, paused, reason=reason, ip=ip)
    return paused
