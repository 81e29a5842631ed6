"""What the /proof page shows: every published snapshot with its totals and attested reserves,
and a signed-in user's own share of one. Plain rows of text, built here for the state."""

from __future__ import annotations

from sqlalchemy import Connection

from bitchange.clock import when
from bitchange.money import format_amount
from bitchange.proof.reserves import BIP137, Reserve, reserves_by_snapshot
from bitchange.proof.snapshot import SnapshotInfo, get_snapshot, list_snapshots

SCHEME_LABELS = {BIP137: "Bitcoin message (BIP-137)", "eip191": "Ethereum message (EIP-191)"}


def _reserves_per_asset(reserves: list[Reserve]) -> dict[str, int]:
    held: dict[str, int] = {}
    for r in reserves:
        held[r.asset] = held.get(r.asset, 0) + r.balance
    return held


def ratio(reserves: int, liabilities: int) -> str:
    """Reserves over liabilities as a percentage, truncated to 0.01 %."""
    if liabilities == 0:
        return "—" if reserves == 0 else "no liabilities"
    return f"{format_amount(reserves * 10_000 // liabilities, 2)} %"


def totals_text(snapshot: SnapshotInfo) -> str:
    return " · ".join(f"{format_amount(total, decimals)} {code}"
                      for (code, decimals), total in zip(snapshot.assets, snapshot.totals,
                                                         strict=True))


def snapshot_rows(conn: Connection, limit: int = 52) -> list[dict[str, str]]:
    snapshots = list_snapshots(conn, limit)
    reserves = reserves_by_snapshot(conn, [s.id for s in snapshots])
    rows = []
    for s in snapshots:
        held = _reserves_per_asset(reserves.get(s.id, []))
        decimals = dict(s.assets)
        rows.append({
            "id": str(s.id), "taken": when(s.taken_at), "root": s.root,
            "ledger_tx": str(s.ledger_transaction_id), "totals": totals_text(s),
            "reserves": " · ".join(
                f"{code} {ratio(amount, s.totals[s.codes.index(code)])}"
                f" ({format_amount(amount, decimals[code])})"
                for code, amount in sorted(held.items())) or "not attested",
        })
    return rows


def asset_rows(conn: Connection, snapshot: SnapshotInfo) -> list[dict[str, str]]:
    held = _reserves_per_asset(reserves_by_snapshot(conn, [snapshot.id]).get(snapshot.id, []))
    return [{"asset": code, "liabilities": format_amount(total, decimals),
             "reserves": format_amount(held[code], decimals) if code in held else "not attested",
             "ratio": ratio(held[code], total) if code in held else "—"}
            for (code, decimals), total in zip(snapshot.assets, snapshot.totals, strict=True)]


def reserve_rows(conn: Connection, snapshot: SnapshotInfo) -> list[dict[str, str]]:
    decimals = dict(snapshot.assets)
    return [{"asset": r.asset, "address": r.address,
             "balance": format_amount(r.balance, decimals[r.asset]), "message": r.message,
             "signature": r.signature, "scheme": SCHEME_LABELS.get(r.scheme, r.scheme)}
            for r in reserves_by_snapshot(conn, [snapshot.id]).get(snapshot.id, [])]


def my_rows(document: dict) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(balances, leaves) of a user's proof, as shown beside the check."""
    assets = document["snapshot"]["assets"]
    balances = [{"asset": a["code"], "amount": format_amount(int(v), a["decimals"])}
                for a, v in zip(assets, document["account"]["balances"], strict=True)
                if int(v)]
    leaves = [{"position": str(leaf["position"]),
               "part": f"{leaf['part'] + 1} of {leaf['parts']}",
               "amounts": " · ".join(f"{format_amount(int(v), a['decimals'])} {a['code']}"
                                     for a, v in zip(assets, leaf["amounts"], strict=True)),
               "path": " → ".join(step["hash"][:8] for step in leaf["path"])}
              for leaf in document["leaves"]]
    return balances, leaves


def latest_or(conn: Connection, snapshot_id: int | None) -> SnapshotInfo | None:
    """The snapshot asked for, or the latest one."""
    if snapshot_id is not None:
        return get_snapshot(conn, snapshot_id)
    latest = list_snapshots(conn, 1)
    return latest[0] if latest else None
