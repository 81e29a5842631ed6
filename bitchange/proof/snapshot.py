"""Snapshots of the exchange's liabilities: one consistent read of the ledger, the Merkle sum
tree over what every user is owed, and the per-user proofs rebuilt from what was stored.

What a user is owed per asset, from the ledger accounts: their own account's available and
locked buckets (locked covers open orders and pending withdrawals, which stay held until sent)
plus their active staking principal (held in the `staking` system account). The tree's totals
equal, exactly, the ledger's liabilities at the snapshot: every user account plus the staking
account. The fee, rewards and promotion accounts are the exchange's own money; `external`
mirrors the outside world. A system account this module does not know that holds anything
refuses the snapshot, as does a failed `reconcile()` or a staking account that differs from
its positions: nothing is published from books that do not balance.

One consistent read: on SQLite one read transaction (writers commit one at a time, so ledger
ids grow in commit order). On PostgreSQL a REPEATABLE READ transaction whose snapshot is taken
while a short SHARE lock on `ledger_transactions` has let every transaction that wrote ledger
rows finish and holds new ones back (`pg_export_snapshot`); the lock is released before the
read, so trading waits milliseconds, not for the read. Either way the snapshot sees exactly
the ledger transactions up to its `ledger_transaction_id`.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, text, update

from bitchange import db, ledger
from bitchange.accounts.sealing import seal, unseal
from bitchange.clock import now
from bitchange.db.models import Asset, Balance, LedgerAccount, LedgerEntry, LedgerTransaction
from bitchange.db.prepared import insert_row
from bitchange.ledger import ReconcileReport
from bitchange.ops.alerts import alert_admins
from bitchange.promos import PROMOTIONS
from bitchange.proof import tree
from bitchange.proof.tables import LiabilityLeaf, LiabilitySnapshot
from bitchange.staking import STAKING, STAKING_REWARDS
from bitchange.staking.service import aware
from bitchange.staking.tables import StakingPosition

_snapshots = LiabilitySnapshot.__table__
_leaves = LiabilityLeaf.__table__
_balances = Balance.__table__
_accounts = LedgerAccount.__table__
_positions = StakingPosition.__table__
_assets = Asset.__table__

# System accounts whose money is the exchange's own, and the one holding users' money.
EXCHANGE_OWNED = frozenset({ledger.FEES, STAKING_REWARDS, PROMOTIONS})
HELD_FOR_USERS = STAKING
SALT_PURPOSE = "proof_salt"
MIN_PARTS, MAX_PARTS = 2, 3  # each user's balances are split over this many leaves
_INSERT_CHUNK = 5000
_INSERT_LEAF = insert_row(_leaves, ["snapshot_id", "position", "user_id", "part", "parts",
                                    "amounts"])
_PG_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9A-F]+)?$")


class SnapshotRefused(RuntimeError):
    """The books do not allow a snapshot to be published; the message says why."""


@dataclass
class LedgerState:
    """Everything a snapshot needs, read in one transaction."""

    ledger_transaction_id: int
    ledger_entry_id: int
    assets: list[tuple[str, int]]  # (code, decimals), the tree's fixed order
    owed: dict[int, list[int]]  # user id -> amount per asset
    liabilities: list[int]  # per asset: user accounts + the staking account
    report: ReconcileReport
    problems: list[str] = field(default_factory=list)


@contextmanager
def consistent_read() -> Iterator[Connection]:
    """A read-only transaction that sees the ledger exactly up to one transaction id."""
    engine = db.get_engine()
    if engine.dialect.name != "postgresql":
        with db.read() as conn:
            yield conn
        return
    with engine.connect() as fence_conn, engine.connect() as plain:
        conn = plain.execution_options(isolation_level="REPEATABLE READ")
        fence = fence_conn.execution_options(isolation_level="REPEATABLE READ")
        with fence.begin():
            fence.execute(text("SET LOCAL lock_timeout = '30s'"))
            fence.execute(text("LOCK TABLE ledger_transactions IN SHARE MODE"))
            snapshot_id = fence.scalar(text("SELECT pg_export_snapshot()"))
            if not _PG_SNAPSHOT_ID.match(snapshot_id or ""):
                raise RuntimeError(f"unexpected snapshot id {snapshot_id!r}")
            conn.begin()
            conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'"))
            conn.execute(text("SET TRANSACTION READ ONLY"))
        try:
            yield conn
        finally:
            conn.rollback()


def read_ledger(conn: Connection) -> LedgerState:
    asset_rows = conn.execute(select(_assets.c.code, _assets.c.precision)
                              .order_by(_assets.c.code)).all()
    assets = [(code, precision) for code, precision in asset_rows]
    index = {code: i for i, (code, _) in enumerate(assets)}
    width = len(assets)
    tx_id = conn.scalar(select(func.coalesce(func.max(LedgerTransaction.__table__.c.id), 0)))
    entry_id = conn.scalar(select(func.coalesce(func.max(LedgerEntry.__table__.c.id), 0)))

    owed: dict[int, list[int]] = defaultdict(lambda: [0] * width)
    liabilities = [0] * width
    problems: list[str] = []
    for user_id, asset, available, locked in conn.execute(
            select(_accounts.c.user_id, _balances.c.asset, _balances.c.available,
                   _balances.c.locked)
            .join(_accounts, _accounts.c.id == _balances.c.account_id)
            .where(_accounts.c.user_id.is_not(None))):
        if available or locked:
            owed[user_id][index[asset]] += available + locked
            liabilities[index[asset]] += available + locked
    held = [0] * width
    for code, asset, amount in conn.execute(
            select(_accounts.c.system_code, _balances.c.asset,
                   _balances.c.available + _balances.c.locked)
            .join(_accounts, _accounts.c.id == _balances.c.account_id)
            .where(_accounts.c.system_code.is_not(None))):
        if code == HELD_FOR_USERS:
            held[index[asset]] += amount
        elif amount and code != ledger.EXTERNAL and code not in EXCHANGE_OWNED:
            problems.append(f"system account {code!r} holds {amount} {asset}: say in "
                            "bitchange.proof.snapshot whose money it is")
    staked = [0] * width
    for user_id, asset, amount in conn.execute(
            select(_positions.c.user_id, _positions.c.asset, func.sum(_positions.c.amount))
            .where(_positions.c.status == "active")
            .group_by(_positions.c.user_id, _positions.c.asset)):
        owed[user_id][index[asset]] += int(amount)
        staked[index[asset]] += int(amount)
    for i, (code, _) in enumerate(assets):
        liabilities[i] += held[i]
        if held[i] != staked[i]:
            problems.append(f"the staking account holds {held[i]} {code} but active positions "
                            f"total {staked[i]}")
    for user_id, amounts in owed.items():
        if any(amount < 0 for amount in amounts):
            problems.append(f"user {user_id} has a negative balance")
    return LedgerState(tx_id, entry_id, assets, dict(owed), liabilities, ledger.reconcile(conn),
                       problems)


class Entropy:
    """Uniform random integers from bulk reads of the OS's CSPRNG (a system call per draw, as
    `secrets.randbelow` makes, is most of the cost at 100,000 accounts). A draw is 128 random
    bits reduced modulo n: for n below 2**64 the bias is under 2**-64."""

    __slots__ = ("_at", "_buffer")
    CHUNK = 1 << 16

    def __init__(self) -> None:
        self._buffer, self._at = b"", 0

    def below(self, n: int) -> int:
        if self._at + 16 > len(self._buffer):
            self._buffer, self._at = os.urandom(self.CHUNK), 0
        value = int.from_bytes(self._buffer[self._at:self._at + 16], "big")
        self._at += 16
        return value % n

    @staticmethod
    def permutation(n: int) -> list[int]:
        """0..n-1 in random order: sorted by 64 random bits each."""
        keys = memoryview(os.urandom(8 * n)).cast("Q")
        return sorted(range(n), key=keys.__getitem__)


def split(amounts: list[int], parts: int, entropy: Entropy) -> list[tree.Sums]:
    """`amounts` as `parts` vectors of random non-negative shares that add up to it."""
    shares: list[list[int]] = [[0] * len(amounts) for _ in range(parts)]
    for i, amount in enumerate(amounts):
        if not amount:
            continue
        cuts = sorted(entropy.below(amount + 1) for _ in range(parts - 1))
        previous = 0
        for part, cut in enumerate([*cuts, amount]):
            shares[part][i] = cut - previous
            previous = cut
    return [tuple(share) for share in shares]


def place(owed: dict[int, list[int]]) -> tuple[list[tree.Leaf], int]:
    """Every user's balances split over 2-3 leaves, at random positions of a tree padded to a
    power of two; returns the leaves and the tree's leaf count."""
    entropy = Entropy()
    pieces: list[tuple[int, int, int, tree.Sums]] = []
    for user_id, amounts in owed.items():
        if not any(amounts):
            continue
        parts = MIN_PARTS + entropy.below(MAX_PARTS - MIN_PARTS + 1)
        for part, share in enumerate(split(amounts, parts, entropy)):
            pieces.append((user_id, part, parts, share))
    leaf_count = tree.padded_size(len(pieces))
    positions = Entropy.permutation(leaf_count)
    return [tree.Leaf(position, user_id, part, parts, share)
            for position, (user_id, part, parts, share) in zip(positions, pieces, strict=False)
            ], leaf_count


def _vector(values: tree.Sums | list[int]) -> str:
    return '["' + '","'.join(map(str, values)) + '"]'


def _parse_vector(stored: str) -> tree.Sums:
    return tuple(int(value) for value in json.loads(stored))


@dataclass(frozen=True)
class Taken:
    snapshot_id: int
    root: str
    totals: dict[str, int]
    ledger_transaction_id: int
    users: int
    leaf_count: int

    def summary(self) -> str:
        return (f"snapshot {self.snapshot_id} at ledger transaction "
                f"{self.ledger_transaction_id}: root {self.root}, {self.users} accounts in "
                f"{self.leaf_count} leaves")


def take_snapshot(*, trigger: str = "manual", created_by: int | None = None) -> Taken:
    """Read the ledger once, build the tree, store it; `SnapshotRefused` if the books do not
    balance (nothing is stored then)."""
    with consistent_read() as conn:
        state = read_ledger(conn)
    if not state.report.ok:
        raise SnapshotRefused("reconcile failed:\n" + state.report.summary())
    if state.problems:
        raise SnapshotRefused("\n".join(state.problems))
    width = len(state.assets)
    leaves, leaf_count = place(state.owed)
    salt = os.urandom(32)
    blocks = tree.build_blocks(salt, leaves, leaf_count, width)
    root, totals = tree.nodes(blocks, width).root()
    if list(totals) != state.liabilities:
        raise SnapshotRefused(f"the tree's totals {totals} differ from the ledger's "
                              f"liabilities {state.liabilities}")
    with db.write() as conn:
        snapshot_id = int(conn.execute(insert(_snapshots).values(
            taken_at=now(), ledger_transaction_id=state.ledger_transaction_id,
            ledger_entry_id=state.ledger_entry_id, assets=json.dumps(state.assets),
            totals=_vector(totals), root=root.hex(), leaf_count=leaf_count,
            block_height=tree.block_height(leaf_count),
            blocks=json.dumps([[h.hex(), [str(v) for v in s]] for h, s in blocks]),
            salt="", users=sum(1 for amounts in state.owed.values() if any(amounts)),
            trigger=trigger, created_by=created_by,
        )).inserted_primary_key[0])
        conn.execute(update(_snapshots).where(_snapshots.c.id == snapshot_id).values(
            salt=seal(salt.hex(), purpose=SALT_PURPOSE, owner=snapshot_id)))
        rows = [{"snapshot_id": snapshot_id, "position": leaf.position, "user_id": leaf.user_id,
                 "part": leaf.part, "parts": leaf.parts, "amounts": _vector(leaf.amounts)}
                for leaf in leaves]
        for start in range(0, len(rows), _INSERT_CHUNK):
            _INSERT_LEAF.executemany(conn, rows[start:start + _INSERT_CHUNK])
    return Taken(snapshot_id, root.hex(), dict(zip([c for c, _ in state.assets], totals,
                                                   strict=True)),
                 state.ledger_transaction_id, len({leaf.user_id for leaf in leaves}),
                 leaf_count)


def publish(*, trigger: str, created_by: int | None = None) -> Taken:
    """Take and publish a snapshot (the job, the CLI and the admin button); a refusal alerts
    the admins and is raised again."""
    try:
        return take_snapshot(trigger=trigger, created_by=created_by)
    except SnapshotRefused as exc:
        with db.write() as conn:
            alert_admins(conn, "BitChange proof of liabilities: snapshot refused",
                         "A proof-of-liabilities snapshot was refused, nothing was published:"
                         f"\n\n{exc}\n\nRun `python -m bitchange reconcile` and investigate.")
        raise


# --- reading snapshots back ------------------------------------------------------------------

@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    taken_at: datetime
    ledger_transaction_id: int
    assets: list[tuple[str, int]]
    totals: tree.Sums
    root: str
    leaf_count: int

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.assets]


_INFO_COLUMNS = [_snapshots.c.id, _snapshots.c.taken_at, _snapshots.c.ledger_transaction_id,
                 _snapshots.c.assets, _snapshots.c.totals, _snapshots.c.root,
                 _snapshots.c.leaf_count]


def _info(row) -> SnapshotInfo:  # type: ignore[no-untyped-def]
    return SnapshotInfo(row.id, aware(row.taken_at) or now(), row.ledger_transaction_id,
                        [(code, decimals) for code, decimals in json.loads(row.assets)],
                        _parse_vector(row.totals), row.root, row.leaf_count)


def list_snapshots(conn: Connection, limit: int = 52) -> list[SnapshotInfo]:
    return [_info(r) for r in conn.execute(select(*_INFO_COLUMNS)
                                           .order_by(_snapshots.c.id.desc()).limit(limit))]


def get_snapshot(conn: Connection, snapshot_id: int) -> SnapshotInfo | None:
    row = conn.execute(select(*_INFO_COLUMNS).where(_snapshots.c.id == snapshot_id)).first()
    return _info(row) if row else None


class ProofError(RuntimeError):
    """The stored snapshot does not rebuild to its published root (it was altered)."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def proof_for(conn: Connection, snapshot_id: int, user_id: int) -> dict | None:
    """The user's proof (docs/proof-of-liabilities.md) as a JSON-ready dict; None if the
    snapshot does not exist or owed the user nothing."""
    row = conn.execute(select(_snapshots).where(_snapshots.c.id == snapshot_id)).first()
    if row is None:
        return None
    mine = conn.execute(select(_leaves).where(_leaves.c.snapshot_id == snapshot_id,
                                              _leaves.c.user_id == user_id)
                        .order_by(_leaves.c.part)).all()
    if not mine:
        return None
    info = _info(row)
    width = len(info.assets)
    salt = bytes.fromhex(unseal(row.salt, purpose=SALT_PURPOSE, owner=snapshot_id))
    blocks = [(bytes.fromhex(h), tuple(int(v) for v in s)) for h, s in json.loads(row.blocks)]
    size = 1 << row.block_height
    leaves_out = []
    for leaf_row in mine:
        block = leaf_row.position // size
        start = block * size
        members = [tree.Leaf(r.position, r.user_id, r.part, r.parts, _parse_vector(r.amounts))
                   for r in conn.execute(select(_leaves).where(
                       _leaves.c.snapshot_id == snapshot_id, _leaves.c.position >= start,
                       _leaves.c.position < start + size))]
        inner, block_root, block_sums = tree.leaf_level(salt, members, start, size, width).path(
            leaf_row.position - start)
        if (block_root, block_sums) != blocks[block]:
            raise ProofError(f"block {block} of snapshot {snapshot_id} does not rebuild")
        outer, root, _ = tree.nodes(blocks, width).path(block)
        if root.hex() != info.root:
            raise ProofError(f"snapshot {snapshot_id} does not rebuild to its root")
        leaves_out.append({
            "position": leaf_row.position, "part": leaf_row.part, "parts": leaf_row.parts,
            "amounts": [str(v) for v in _parse_vector(leaf_row.amounts)],
            "path": [{"hash": step.hash.hex(), "sums": [str(v) for v in step.sums]}
                     for step in [*inner, *outer]],
        })
    balances = [sum(int(leaf["amounts"][i]) for leaf in leaves_out) for i in range(width)]
    return {
        "format": tree.FORMAT,
        "snapshot": {
            "id": info.id, "taken_at": _iso(info.taken_at),
            "ledger_transaction_id": info.ledger_transaction_id, "root": info.root,
            "leaf_count": info.leaf_count,
            "assets": [{"code": code, "decimals": decimals} for code, decimals in info.assets],
            "totals": [str(v) for v in info.totals],
        },
        "account": {"user_id": user_id, "nonce": tree.user_nonce(salt, user_id).hex(),
                    "balances": [str(v) for v in balances]},
        "leaves": leaves_out,
    }
