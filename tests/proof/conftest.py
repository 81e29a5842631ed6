"""Users who are owed money in every way the ledger knows: available, locked by an open order,
locked by a pending withdrawal hold, and staked."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bitchange import db, ledger
from bitchange.accounts.sealing import unseal
from bitchange.accounts.users import create_user
from bitchange.db.models import Balance, LedgerAccount, LedgerEntry
from bitchange.proof.snapshot import SALT_PURPOSE
from bitchange.proof.tables import LiabilityLeaf, LiabilitySnapshot
from bitchange.staking import service as staking
from bitchange.staking.tables import StakingPosition
from bitchange.trading import service as trading
from bitchange.trading.service import OrderRequest

BTC, ETH, USDT = 10**8, 10**8, 10**6


@dataclass
class Owed:
    users: dict[str, int]  # email -> user id


def fund(email: str, funds: dict[str, int]) -> int:
    with db.write() as conn:
        user_id = create_user(conn, email, "correct horse battery", verified=True)
        account = ledger.account_for_user(conn, user_id)
        for asset, amount in funds.items():
            ledger.credit_deposit(conn, account, asset, amount)
    return user_id


@pytest.fixture
def owed(database: str) -> Owed:
    trading.forget_books()
    alice = fund("alice@example.com", {"BTC": BTC // 2, "USDT": 1_200 * USDT})
    bob = fund("bob@example.com", {"BTC": 3 * BTC, "ETH": 7 * ETH, "USDT": 50_000 * USDT})
    carol = fund("carol@example.com", {"USDT": 1})
    dave = fund("dave@example.com", {"ETH": 2 * ETH})
    admin = fund("admin@example.com", {})
    # Bob: an open order (locked USDT), a withdrawal hold (locked BTC), a staking position.
    trading.place_order(bob, "BTC-USDT", OrderRequest(side="BUY", kind="limit",
                                                      price=50_000 * USDT, quantity=BTC // 10))
    with db.write() as conn:
        ledger.hold(conn, ledger.account_for_user(conn, bob), "BTC", BTC // 4,
                    ref_type="withdrawal", ref_id="1")
        product = staking.create_product(conn, admin, asset="ETH", name="ETH flex", apr_bps=300,
                                         lock_days=0, min_amount=1, max_per_user=100 * ETH,
                                         capacity=1000 * ETH)
        staking.stake(conn, bob, product, 2 * ETH)
        staking.stake(conn, dave, product, ETH // 2)
    yield Owed({"alice": alice, "bob": bob, "carol": carol, "dave": dave})
    trading.forget_books()


def owed_from_ledger(conn, up_to_transaction: int) -> dict[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """What each user is owed, recomputed from the journal alone (entries of transactions up
    to the id) plus the staking principal the journal moved into the staking account for them."""
    entries, accounts = LedgerEntry.__table__, LedgerAccount.__table__
    result: dict[int, dict[str, int]] = {}
    for user_id, asset, amount in conn.execute(
            select(accounts.c.user_id, entries.c.asset, func.sum(entries.c.amount))
            .join(accounts, accounts.c.id == entries.c.account_id)
            .where(accounts.c.user_id.is_not(None),
                   entries.c.transaction_id <= up_to_transaction)
            .group_by(accounts.c.user_id, entries.c.asset)):
        result.setdefault(user_id, {})[asset] = int(amount)
    positions = StakingPosition.__table__
    for user_id, asset, amount, stake_tx, redeem_tx in conn.execute(
            select(positions.c.user_id, positions.c.asset, positions.c.amount,
                   positions.c.stake_tx, positions.c.redeem_tx)):
        if stake_tx is not None and stake_tx <= up_to_transaction and (
                redeem_tx is None or redeem_tx > up_to_transaction):
            mine = result.setdefault(user_id, {})
            mine[asset] = mine.get(asset, 0) + amount
    return {u: {a: v for a, v in m.items() if v} for u, m in result.items() if any(m.values())}


def ledger_balances_total(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    b, a = Balance.__table__, LedgerAccount.__table__
    return {asset: int(total) for asset, total in conn.execute(
        select(b.c.asset, func.sum(b.c.available + b.c.locked)).join(a, a.c.id == b.c.account_id)
        .where(a.c.user_id.is_not(None)).group_by(b.c.asset))}


# --- an independent recomputation of the tree, straight from docs/proof-of-liabilities.md ----

def _u128s(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(16, "big") for v in values)


def recompute(conn, snapshot_id: int) -> tuple[str, list[int], dict[int, list[int]]]:  # type: ignore[no-untyped-def]
    """(root hex, root sums, user -> owed vector) from the stored leaves and the salt, by a
    plain recursive tree, sharing no code with bitchange.proof."""
    snap = conn.execute(select(LiabilitySnapshot.__table__).where(
        LiabilitySnapshot.__table__.c.id == snapshot_id)).one()
    salt = bytes.fromhex(unseal(snap.salt, purpose=SALT_PURPOSE, owner=snapshot_id))
    width = len(json.loads(snap.assets))
    nodes: list[tuple[bytes, list[int]]] = [
        (hmac.new(salt, f"bitchange-pol-v1/pad/{i}".encode(), hashlib.sha256).digest(),
         [0] * width) for i in range(snap.leaf_count)]
    per_user: dict[int, list[int]] = {}
    leaves = LiabilityLeaf.__table__
    for row in conn.execute(select(leaves).where(leaves.c.snapshot_id == snapshot_id)):
        amounts = [int(v) for v in json.loads(row.amounts)]
        nonce = hmac.new(salt, f"bitchange-pol-v1/user/{row.user_id}".encode(),
                         hashlib.sha256).digest()
        digest = hashlib.sha256(bytes([0]) + nonce + row.user_id.to_bytes(8, "big")
                                + row.part.to_bytes(4, "big") + row.parts.to_bytes(4, "big")
                                + _u128s(amounts)).digest()
        nodes[row.position] = (digest, amounts)
        mine = per_user.setdefault(row.user_id, [0] * width)
        per_user[row.user_id] = [a + b for a, b in zip(mine, amounts, strict=True)]

    def root(lo: int, hi: int) -> tuple[bytes, list[int]]:
        if hi - lo == 1:
            return nodes[lo]
        mid = (lo + hi) // 2
        (lh, ls), (rh, rs) = root(lo, mid), root(mid, hi)
        return (hashlib.sha256(bytes([1]) + lh + _u128s(ls) + rh + _u128s(rs)).digest(),
                [a + b for a, b in zip(ls, rs, strict=True)])

    digest, sums = root(0, snap.leaf_count)
    return digest.hex(), sums, per_user
