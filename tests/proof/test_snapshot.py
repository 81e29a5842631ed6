"""A snapshot's tree: its root and totals match an independent recomputation, its totals are
the ledger's liabilities, every user's proof verifies, and any tampering is caught."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from bitchange import db
from bitchange.config import PROJECT_ROOT
from bitchange.proof import snapshot as proof
from bitchange.proof.tables import LiabilityLeaf
from tests.proof.conftest import (
    BTC,
    ETH,
    USDT,
    Owed,
    ledger_balances_total,
    owed_from_ledger,
    recompute,
)
from tools.verify_liabilities import Invalid, verify

VERIFIER = PROJECT_ROOT / "tools" / "verify_liabilities.py"


def test_root_and_totals_match_an_independent_recomputation(owed: Owed) -> None:
    taken = proof.take_snapshot()
    with db.read() as conn:
        root, sums, per_user = recompute(conn, taken.snapshot_id)
        info = proof.get_snapshot(conn, taken.snapshot_id)
        from_journal = owed_from_ledger(conn, taken.ledger_transaction_id)
        in_balances = ledger_balances_total(conn)
    assert info is not None and root == taken.root == info.root
    assert list(info.totals) == sums
    codes = info.codes
    assert {u: {c: v for c, v in zip(codes, vec, strict=True) if v}
            for u, vec in per_user.items()} == from_journal
    bob = owed.users["bob"]
    # Bob: 3 BTC deposited (a quarter held for a withdrawal), 7 ETH of which 2 staked, 50,000
    # USDT of which 5,000 held by his open order: all of it is owed to him.
    assert from_journal[bob] == {"BTC": 3 * BTC, "ETH": 7 * ETH, "USDT": 50_000 * USDT}
    staked = 2 * ETH + ETH // 2
    assert taken.totals == {"BTC": in_balances["BTC"], "ETH": in_balances["ETH"] + staked,
                            "USDT": in_balances["USDT"]}
    assert taken.leaf_count & (taken.leaf_count - 1) == 0
    assert taken.leaf_count >= 2 * len(owed.users)  # every user over at least two leaves


def test_every_users_proof_verifies(owed: Owed) -> None:
    taken = proof.take_snapshot()
    with db.read() as conn:
        for name, user_id in owed.users.items():
            document = proof.proof_for(conn, taken.snapshot_id, user_id)
            assert document is not None, name
            line = verify(json.loads(json.dumps(document)), taken.root)
            assert line.startswith("Validated "), line
            assert f"under root {taken.root}" in line
        alice = proof.proof_for(conn, taken.snapshot_id, owed.users["alice"])
    assert alice is not None
    assert verify(alice).startswith(
        f"Validated 0.50000000 BTC and 1,200.000000 USDT for your account (#{owed.users['alice']})")


def _bobs_proof(owed: Owed) -> tuple[dict, str]:
    taken = proof.take_snapshot()
    with db.read() as conn:
        document = proof.proof_for(conn, taken.snapshot_id, owed.users["bob"])
    assert document is not None
    verify(document, taken.root)
    return document, taken.root


def _tampered(document: dict, change) -> dict:  # type: ignore[no-untyped-def]
    changed = copy.deepcopy(document)
    change(changed)
    return changed


def _bump(values: list[str], i: int = 0, by: int = 1) -> None:
    values[i] = str(int(values[i]) + by)


@pytest.mark.parametrize("what", [
    "leaf amount", "leaf amount and claimed balance", "sibling sum", "sibling hash",
    "path order", "root", "expected root", "totals", "position", "nonce", "account id",
    "dropped leaf",
])
def test_tampering_fails_verification(owed: Owed, what: str) -> None:
    document, root = _bobs_proof(owed)
    changes = {
        "leaf amount": lambda d: _bump(d["leaves"][0]["amounts"], 2),
        "leaf amount and claimed balance": lambda d: (_bump(d["leaves"][0]["amounts"], 2),
                                                      _bump(d["account"]["balances"], 2)),
        # The top sibling: the path's length follows the random split of the leaves.
        "sibling sum": lambda d: _bump(d["leaves"][0]["path"][-1]["sums"], 1, -1
                                       if int(d["leaves"][0]["path"][-1]["sums"][1]) else 1),
        "sibling hash": lambda d: d["leaves"][0]["path"][0].update(
            hash=("0" if d["leaves"][0]["path"][0]["hash"][0] != "0" else "1")
            + d["leaves"][0]["path"][0]["hash"][1:]),
        "path order": lambda d: d["leaves"][0].update(
            path=[d["leaves"][0]["path"][1], d["leaves"][0]["path"][0],
                  *d["leaves"][0]["path"][2:]]),
        "root": lambda d: d["snapshot"].update(root="ab" * 32),
        "expected root": lambda d: None,
        "totals": lambda d: _bump(d["snapshot"]["totals"], 0, -1),
        "position": lambda d: d["leaves"][0].update(position=d["leaves"][0]["position"] ^ 1),
        "nonce": lambda d: d["account"].update(nonce="00" * 32),
        "account id": lambda d: d["account"].update(user_id=d["account"]["user_id"] + 1),
        "dropped leaf": lambda d: d["leaves"].pop(),
    }
    changed = _tampered(document, changes[what])
    with pytest.raises(Invalid):
        verify(changed, "cd" * 32 if what == "expected root" else root)


def test_the_verifier_script_passes_and_fails_as_it_should(owed: Owed, tmp_path: Path) -> None:
    document, root = _bobs_proof(owed)
    good, bad = tmp_path / "proof.json", tmp_path / "tampered.json"
    good.write_text(json.dumps(document))
    changed = _tampered(document, lambda d: _bump(d["leaves"][0]["path"][0]["sums"], 0))
    bad.write_text(json.dumps(changed))
    run = [sys.executable, "-I", str(VERIFIER)]  # -I: no project on the path, stdlib only
    ok = subprocess.run([*run, str(good), "--root", root], capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("Validated ") and "total liabilities BTC " in ok.stdout
    refused = subprocess.run([*run, str(bad)], capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith("INVALID proof: leaf 0")
    wrong_root = subprocess.run([*run, str(good), "--root", "ef" * 32], capture_output=True,
                                text=True, check=False)
    assert wrong_root.returncode == 1 and "not the root" in wrong_root.stderr
    (tmp_path / "junk.json").write_text("{not json")
    junk = subprocess.run([*run, str(tmp_path / "junk.json")], capture_output=True, text=True,
                          check=False)
    assert junk.returncode == 2 and "Cannot read" in junk.stderr


def test_an_altered_stored_leaf_is_caught_when_rebuilding(owed: Owed) -> None:
    taken = proof.take_snapshot()
    leaves = LiabilityLeaf.__table__
    with db.write() as conn:
        conn.execute(update(leaves).where(leaves.c.snapshot_id == taken.snapshot_id,
                                          leaves.c.user_id == owed.users["carol"])
                     .values(amounts='["0","0","0"]'))
    with db.read() as conn, pytest.raises(proof.ProofError):
        proof.proof_for(conn, taken.snapshot_id, owed.users["carol"])


def test_a_user_owed_nothing_has_no_proof(owed: Owed) -> None:
    taken = proof.take_snapshot()
    with db.read() as conn:
        assert proof.proof_for(conn, taken.snapshot_id, 10_000) is None
        assert proof.proof_for(conn, taken.snapshot_id + 1, owed.users["bob"]) is None


def test_nonces_differ_between_snapshots(owed: Owed) -> None:
    first, second = proof.take_snapshot(), proof.take_snapshot()
    with db.read() as conn:
        a = proof.proof_for(conn, first.snapshot_id, owed.users["bob"])
        b = proof.proof_for(conn, second.snapshot_id, owed.users["bob"])
    assert a and b and a["account"]["nonce"] != b["account"]["nonce"]
    assert first.root != second.root and first.totals == second.totals
