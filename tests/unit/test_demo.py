"""The demo seed: two admins with 2FA, so the four-eyes flows can be tried end to end."""

import pyotp

from bitchange import db, ledger
from bitchange.accounts import totp
from bitchange.accounts.users import get_user_by_email
from bitchange.demo import DEMO_PASSWORD, seed_demo
from bitchange.wallet import deposits


def test_demo_has_two_admins_so_a_large_deposit_gets_its_second_approval(database):
    with db.write() as conn:
        logins = seed_demo(conn)
    admins = [login for login in logins if login.role == "admin"]
    assert len(admins) == 2
    assert len({a.email for a in admins}) == 2 and len({a.totp_secret for a in admins}) == 2
    with db.write() as conn:
        users = [get_user_by_email(conn, a.email) for a in admins]
        assert all(u is not None and u.is_admin for u in users)
        # Each admin logs in with the printed password and the printed authenticator secret.
        for admin, user in zip(admins, users, strict=True):
            assert admin.password == DEMO_PASSWORD
            assert totp.verify(conn, user.id, pyotp.TOTP(admin.totp_secret).now())
        first, second = users
        alice = get_user_by_email(conn, "alice@demo.bitchange.local")
        account = ledger.account_for_user(conn, alice.id)
        before = ledger.balances_of(conn, account)["USDT"][0]
        recorded = deposits.record(conn, asset="USDT", amount=50_000 * 10**6, txid="ab" * 32,
                                   vout=0, confirmations=20, user_email=alice.email,
                                   recorded_by=first.id)
        assert recorded.status == "pending_approval"
        deposits.approve(conn, second.id, recorded.deposit_id)
        assert ledger.balances_of(conn, account)["USDT"][0] == before + 50_000 * 10**6
    with db.write() as conn:
        assert seed_demo(conn) == logins  # idempotent
        assert ledger.reconcile(conn).ok
