"""The /proof states, called as a forged websocket event would call them: a visitor sees the
snapshots but no proof; a user sees only their own; only an admin with 2FA may publish or
attest, and a wrong signature leaves nothing behind."""

from __future__ import annotations

import json

from bitcoinlib.keys import HDKey
from sqlalchemy import func, select, text

from bitchange import db
from bitchange.accounts import totp
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.proof import snapshot as proof
from bitchange.proof.tables import LiabilitySnapshot, ReserveAttestation
from bitchange.state.proof import AdminProofState, ProofState
from tests.accounts.test_handlers import state_of
from tests.proof.conftest import Owed, fund
from tools.verify_liabilities import verify

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _token(user_id: int) -> str:
    with db.write() as conn:
        return activate_session(conn, start_session(conn, user_id))


def _count(table) -> int:  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def _admin() -> int:
    admin = fund("root@example.com", {})
    with db.write() as conn:
        conn.execute(text("UPDATE users SET is_admin = TRUE WHERE id = :id"), {"id": admin})
        totp.enable_with_secret(conn, admin, SECRET)
    return admin


def test_visitors_see_snapshots_and_users_only_their_own_proof(owed: Owed) -> None:
    taken = proof.take_snapshot()
    visitor = state_of(ProofState)
    visitor.load()
    assert [r["root"] for r in visitor.snapshots] == [taken.root]
    assert visitor.selected_root == taken.root and visitor.proof_json == ""
    assert visitor.verify_in_page() is None and visitor.download() is None

    alice = state_of(ProofState, _token(owed.users["alice"]))
    alice.load()
    document = json.loads(alice.proof_json)
    assert document["account"]["user_id"] == owed.users["alice"]
    assert verify(document, taken.root).startswith("Validated 0.50000000 BTC and 1,200.000000")
    assert alice.my_account == str(owed.users["alice"])
    assert [b["asset"] for b in alice.my_balances] == ["BTC", "USDT"]
    alice.checked("Validated something")
    assert alice.check == "Validated something"
    alice.select("junk")  # not a snapshot number: the latest one
    assert alice.selected == str(taken.snapshot_id)

    nobody = state_of(ProofState, _token(fund("new@example.com", {})))
    nobody.load()
    assert nobody.proof_json == "" and nobody.my_note == "You had no balance in this snapshot."


def test_only_an_admin_with_2fa_publishes_or_attests(owed: Owed) -> None:
    lazy = fund("lazy@example.com", {})
    with db.write() as conn:
        conn.execute(text("UPDATE users SET is_admin = TRUE WHERE id = :id"), {"id": lazy})
    taken = proof.take_snapshot()
    key = HDKey(witness_type="segwit")
    message = f"reserves at {taken.root}"
    form = {"snapshot": str(taken.snapshot_id), "asset": "BTC", "balance": "1",
            "address": key.address(), "message": message,
            "signature": key.sign_message(message).as_base64()}
    for token in ("", _token(owed.users["bob"]), _token(lazy)):
        state = state_of(AdminProofState, token)
        state.take_snapshot()
        state.attest(form)
        assert state.access == "denied"
    assert _count(LiabilitySnapshot.__table__) == 1
    assert _count(ReserveAttestation.__table__) == 0

    admin = state_of(AdminProofState, _token(_admin()))
    admin.load()
    assert admin.access == "admin" and admin.assets == ["BTC", "ETH", "USDT"]
    admin.attest({**form, "signature": HDKey().sign_message(message).as_base64()})
    assert "control is not proven" in admin.error
    admin.attest({**form, "balance": "1,5"})
    assert "use a dot" in admin.error
    assert _count(ReserveAttestation.__table__) == 0
    admin.attest(form)
    assert admin.notice == "Signature verified: reserve attested." and admin.error == ""
    admin.take_snapshot()
    assert admin.notice.startswith("Published snapshot 2 at ledger transaction ")
    assert [r["id"] for r in admin.snapshots] == ["2", "1"]
    assert admin.snapshots[1]["reserves"].startswith("BTC ")
